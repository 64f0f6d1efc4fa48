"""The WSGI entry point for gunicorn: ``gunicorn civicvote.wsgi:app``."""

import gc

from . import create_app
from .app import warm_up

app = create_app()
warm_up(app)
# What is loaded by now (modules, metadata, compiled statements, templates' code) lives as long
# as the worker. Freezing it keeps it out of the collector's full passes: each walked ~130,000
# objects for 100-130 ms with every thread of the worker stopped, in the middle of a vote load;
# with it frozen they take 2-10 ms.
gc.freeze()
