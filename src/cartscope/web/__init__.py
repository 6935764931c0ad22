"""The web application (FastAPI, server-rendered pages)."""
