"""The WSGI entry point for gunicorn: ``gunicorn civicvote.wsgi:app``."""

from . import create_app

app = create_app()
