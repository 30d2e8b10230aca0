"""The HTTP API (FastAPI): :func:`.app.create_app`."""
