"""Publication-ready tables, figures and the HTML/PDF report."""
