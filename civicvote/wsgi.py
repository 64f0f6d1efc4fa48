"""The WSGI entry point for gunicorn (see gunicorn_conf.py): ``civicvote.wsgi:app``."""

from . import create_app

app = create_app()
