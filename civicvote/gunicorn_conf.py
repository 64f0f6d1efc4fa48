"""gunicorn's settings for civicvote: ``civicvote serve`` runs gunicorn with ``-c`` this module.

Everything a server process does around the application lives here, in gunicorn's own hooks:

* the connection pool keeps one connection per thread (``post_fork``, before the worker loads
  the app: config.size_connection_pool reads CIVICVOTE_SERVER_THREADS);
* each worker warms up before its first request (``post_worker_init``: app.warm_up opens the
  pool and runs a vote's read on every connection);
* then freezes what it has loaded (``gc.freeze``), so the collector's full passes skip it.

A pool inherited across a fork is replaced by the engine itself (app.register_database_events),
so ``--preload`` is safe too. The command line (``civicvote serve``) adds the address, the number
of workers and threads.
"""

import gc
import os

wsgi_app = "civicvote.wsgi:app"
worker_class = "gthread"
accesslog = "-"
# Log only the path: personal voting links carry a token in the query or path...
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss'
# ... and card links, receipts and codes are redacted from it and from the error log.
logger_class = "civicvote.voting.redact.RedactingGunicornLogger"
# X-Forwarded-Proto and X-Forwarded-For are the application's to believe, for as many proxies
# as CIVICVOTE_PROXY_HOPS says (Werkzeug's ProxyFix, app.register_middleware), not gunicorn's.
secure_scheme_headers: dict = {}


def post_fork(_server, worker) -> None:
    """Size the worker's connection pool to its threads, before it loads the app."""
    os.environ["CIVICVOTE_SERVER_THREADS"] = str(worker.cfg.threads)


def post_worker_init(worker) -> None:
    """Warm up the worker, then freeze what is loaded.

    What is loaded by now (modules, metadata, compiled statements, templates' code) lives as long
    as the worker. Freezing it keeps it out of the collector's full passes: each walked ~130,000
    objects for 100-130 ms with every thread of the worker stopped, in the middle of a vote load;
    with it frozen they take 2-10 ms.
    """
    from .app import warm_up

    if hasattr(worker.wsgi, "app_context"):  # not gunicorn's stand-in for an app that failed
        warm_up(worker.wsgi)
    gc.freeze()
