"""The Flask application factory: extensions, the database's events, blueprints, error handlers,
commands, logging and the WSGI middleware, each one step of :func:`create_app`."""

import hmac
import os
import time
import weakref
from importlib import import_module

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import QueuePool
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import load_config, size_connection_pool
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .resources import resource_dir


def create_app(config: dict | None = None) -> Flask:
    """Application factory. ``config`` overrides the environment-derived settings (tests)."""
    settings = load_config(config)
    size_connection_pool(settings)
    app = Flask(
        "civicvote",
        instance_path=settings["INSTANCE_PATH"],
        template_folder=str(resource_dir("templates")),
        static_folder=str(resource_dir("static")),
    )
    app.config.update(settings)
    app.session_interface = CookieSessions()
    register_extensions(app)
    register_database_events(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_commands(app)
    register_logging(app)
    register_middleware(app)
    return app


class CookieSessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, except under /api/: the JSON API authenticates with
    credentials in the body, never with cookies, so it neither reads nor sets a session (one
    less signature check per request on the busiest endpoint, and no cookie in API answers)."""

    def open_session(self, app: Flask, request):
        if request.path.startswith("/api/"):
            return self.make_null_session(app)
        return super().open_session(app, request)


def register_extensions(app: Flask) -> None:
    from . import models  # noqa: F401  (every table known before Alembic or queries run)
    from .i18n import register_template_helpers, select_locale

    db.init_app(app)
    migrate.init_app(app, db, directory=str(resource_dir("migrations")), render_as_batch=True)
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(resource_dir("translations")),
    )
    register_template_helpers(app)

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = None
    login_manager.session_protection = "strong"
    from .main.errors import login_needed

    login_manager.unauthorized_handler(login_needed)

    from .accounts.models import User

    @login_manager.user_loader
    def load_user(session_id: str):
        # "<id>.<mark of the password>": sessions from before a password change load nobody.
        user_id, _, mark = session_id.partition(".")
        user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
        return user if user is not None and hmac.compare_digest(user.session_mark(), mark) else None

    from .security import refuse_control_characters, set_security_headers

    app.before_request(refuse_control_characters)
    app.after_request(set_security_headers)


# One blueprint per area, each the ``bp`` of its package; one name a line keeps merges simple.
BLUEPRINT_PACKAGES = (
    "main",
    "accounts",
    "communities",
    "intake",
    "organizations",
    "proposals",
    "rounds",
    "audit",
    "registry",
    "checkin",
    "ballots",
    "voting",
    "results",
    "reports",
    "delivery",
    "uploads",
    "board",
    "workbench",
    "api",
)


def register_blueprints(app: Flask) -> None:
    for name in BLUEPRINT_PACKAGES:
        # The views module adds the routes to the package's blueprint. It is imported here,
        # not by the package, so that importing an area's models or services never drags in
        # every other area's views (and their import cycles).
        if name != "api":
            import_module(f".{name}.views", __package__)
        app.register_blueprint(import_module(f".{name}", __package__).bp)
    # The JSON API authenticates with credentials in the body, not cookies.
    csrf.exempt(import_module(".api", __package__).bp)


def register_errorhandlers(app: Flask) -> None:
    from .main.errors import register

    register(app)


def register_commands(app: Flask) -> None:
    from .cli import register

    register(app)


def register_logging(_app: Flask) -> None:
    """Card tokens and codes, receipts and tracking codes are redacted from the application's
    and the development server's logs (gunicorn's get the same from its logger class, see
    gunicorn_conf.py and voting/redact.py)."""
    from .voting.redact import install_log_redaction

    install_log_redaction()


# --------------------------------------------------------------------------- middleware


def register_middleware(app: Flask) -> None:
    """The WSGI layers in front of Flask, outermost first.

    1. ProxyFix, when CIVICVOTE_PROXY_HOPS says reverse proxies stand in front: the client's
       address and scheme from their X-Forwarded-For and X-Forwarded-Proto, so that the fast
       paths, the rate limits and the access log all see the real client.
    2. The vote's fast path (api/fastpath.py): casts a JSON vote without Flask's request
       machinery, with the view's own steps.
    3. The board's fast path (board/fastpath.py): replays the board's live answer while the
       snapshot it was made from is current.
    4. Static files (staticfiles.py): versioned URLs, cached a year, gzipped, before Flask.

    Each fast path is checked against the URL map first: it must intercept exactly the route
    and method of the view it stands in for, or the app does not start.
    """
    from . import staticfiles
    from .api.fastpath import VoteFastPath
    from .board.fastpath import LiveFastPath

    staticfiles.install(app)
    for fast_path in (VoteFastPath, LiveFastPath):
        check_fast_path_route(app, fast_path)
    wsgi_app = VoteFastPath(app, LiveFastPath(app.wsgi_app))
    hops = app.config["PROXY_HOPS"]
    if hops:
        wsgi_app = ProxyFix(wsgi_app, x_for=hops, x_proto=hops)
    app.wsgi_app = wsgi_app


def check_fast_path_route(app: Flask, fast_path) -> None:
    """Raise RuntimeError unless ``fast_path`` intercepts the route of the view it stands in
    for: the view's one rule, built with the fast path's SAMPLE arguments and METHOD, is a path
    the fast path takes with the same arguments, and Flask routes it to that view."""
    endpoint, method, sample = fast_path.ENDPOINT, fast_path.METHOD, fast_path.SAMPLE
    rules = list(app.url_map.iter_rules(endpoint)) if endpoint in app.view_functions else []
    problem = None
    if len(rules) != 1 or method not in rules[0].methods:
        problem = f"the view {endpoint} has no single {method} route"
    else:
        adapter = app.url_map.bind("localhost")
        path = adapter.build(endpoint, sample, method=method)
        if fast_path.route_arguments(path) != sample:
            problem = f"it does not take {path}, the route {rules[0].rule} of {endpoint}"
        elif adapter.match(path, method=method) != (endpoint, sample):
            problem = f"Flask routes {method} {path} elsewhere than {endpoint}"
    if problem:
        raise RuntimeError(f"{fast_path.__name__} no longer stands in for its view: {problem}")


# --------------------------------------------------------------------------- database


# A pooled connection used moments ago is alive unless the database restarted since; then the
# statement fails with a retryable 503 and the pool replaces its connections. Checking every
# connection before use (pool_pre_ping) would cost a round trip per request, so only those that
# sat idle longer than this (where idle timeouts and firewalls cut connections) are checked.
PING_AFTER_IDLE_SECONDS = 5.0


def register_database_events(app: Flask) -> None:
    """Attach this app's behaviour to its own engine (not to every SQLAlchemy engine): SQLite's
    pragmas on each new connection, the idle check of pooled connections, and a fresh pool in a
    process forked from this one."""
    with app.app_context():
        engines = list(db.engines.values())
    for engine in engines:
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "checkin", _remember_idle_since)
        event.listen(engine, "checkout", _ping_after_idle)
        # A child process (gunicorn --preload, os.fork) starts with an empty pool instead of
        # sharing the parent's connections with its siblings. Held weakly: an app dropped
        # (in tests, thousands) leaves no engine alive behind it.
        after_fork = weakref.WeakMethod(engine.dispose)
        os.register_at_fork(after_in_child=lambda dispose=after_fork: _dispose_in_child(dispose))


def _dispose_in_child(dispose: weakref.WeakMethod) -> None:
    method = dispose()
    if method is not None:
        method(close=False)


def _remember_idle_since(_dbapi_connection, record) -> None:
    record.info["idle_since"] = time.monotonic()


def _ping_after_idle(dbapi_connection, record, _proxy) -> None:
    """Test a connection that sat idle; a dead one is replaced before the request uses it."""
    idle_since = record.info.get("idle_since")
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER_IDLE_SECONDS:
        return
    try:
        cursor = dbapi_connection.cursor()
        cursor.execute("SELECT 1")
        cursor.close()
        # The driver opened a transaction for it; a connection handed out inside one cannot
        # be switched to autocommit (the vote's write), so end it.
        dbapi_connection.rollback()
    except Exception as error:
        raise DisconnectionError("connection lost while idle") from error


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL for concurrent readers, enforced foreign keys, waiting rather than failing on locks;
    deleted content overwritten with zeros (secure_delete: no old row images in free pages,
    docs/secrecy.md)."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA secure_delete=ON")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=15000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def warm_up(app: Flask) -> None:
    """Before a server process takes requests: open its pool of database connections and run
    a vote's read on each (for no ballot), so that the first voters after a start or restart
    do not wait while connections open, database processes load the tables' definitions and
    statements are compiled. A database that cannot be reached is left to the requests (they
    answer 503 until it is back). gunicorn_conf.py calls it in each worker."""
    from .voting.statements import warm_up as warm_up_casting

    with app.app_context():
        engine = db.engine
        connections = []
        try:
            size = engine.pool.size() if isinstance(engine.pool, QueuePool) else 1
            for _ in range(size):
                connections.append(engine.connect())
            for connection in connections:
                warm_up_casting(connection)
        except Exception:  # starting is what matters; requests report the fault
            app.logger.warning("Warming up the database connections failed", exc_info=True)
        finally:
            for connection in connections:
                connection.close()
