"""Study protocols, biomarker screening, study analyses and the built-in presets."""
