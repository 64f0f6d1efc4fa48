"""Test fixtures: a fresh database per test, on SQLite and on PostgreSQL.

Each backend's schema is built once per session through the Alembic migrations (so every test
also exercises them); after each test every table is emptied. Tests that touch the database take
the ``app`` fixture, which runs them on both backends. Where no PostgreSQL is reachable those runs
skip with the reason, except under CI=true, where a skip would hide a failure and so fails.
"""

import contextvars
import os
import uuid
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from civicvote import create_app
from civicvote.extensions import db
from tests.servers import SECRET_KEY

REPO = Path(__file__).resolve().parents[1]
PG_ADMIN_URL = os.environ.get(
    "CIVICVOTE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
# CIVICVOTE_TEST_SQLITE_ONLY=1 runs only the SQLite tests: every PostgreSQL test (the postgres
# half of the ``backend`` fixture, and every test that calls require_postgres) skips, even
# where a server answers and under CI=true (docs/architecture.md).
SQLITE_ONLY = os.environ.get("CIVICVOTE_TEST_SQLITE_ONLY", "").lower() in ("1", "true", "yes")


def postgres_unavailable_reason() -> str | None:
    """None when PostgreSQL answers, else why not (cached for the session)."""
    if not hasattr(postgres_unavailable_reason, "cached"):
        try:
            engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            engine.dispose()
            postgres_unavailable_reason.cached = None
        except Exception as error:  # any failure to connect means "not available here"
            postgres_unavailable_reason.cached = (
                f"PostgreSQL not reachable at {PG_ADMIN_URL}: {type(error).__name__}"
            )
    return postgres_unavailable_reason.cached


def require_postgres() -> None:
    """Skip (fail under CI) a test that needs PostgreSQL where none answers."""
    if SQLITE_ONLY:
        pytest.skip("CIVICVOTE_TEST_SQLITE_ONLY is set: SQLite tests only")
    reason = postgres_unavailable_reason()
    if reason:
        if IN_CI:
            pytest.fail(f"CI must run the PostgreSQL tests, but {reason}")
        pytest.skip(reason)


class PostgresDatabase:
    """A throwaway database on the test server, dropped at the end."""

    def __init__(self, prefix: str = "civicvote_test"):
        self.name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        self.url = (
            make_url(PG_ADMIN_URL).set(database=self.name).render_as_string(hide_password=False)
        )
        self._admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with self._admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{self.name}"'))

    def drop(self) -> None:
        with self._admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))
        self._admin.dispose()


def migrated_url(backend: str, tmp_path_factory) -> tuple[str, object]:
    """Create an empty database of ``backend``, upgrade it with the migrations, return its URL."""
    from flask_migrate import upgrade

    cleanup = None
    if backend == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'civicvote.db'}"
    else:
        database = PostgresDatabase()
        url, cleanup = database.url, database.drop
    app = create_app(test_config(url, tmp_path_factory.mktemp("instance")))
    with app.app_context():
        upgrade()
        db.engine.dispose()
    return url, cleanup


def test_config(url: str, instance: Path) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": url,
        "INSTANCE_PATH": str(instance),
        "RATELIMIT_STORAGE_URI": "memory://",
        "SERVER_NAME": "localhost",
    }


test_config.__test__ = False  # a helper, not a test


@pytest.fixture(scope="session")
def database_urls(tmp_path_factory):
    """One migrated database per backend for the whole session, created on first use."""
    urls: dict[str, str] = {}
    cleanups = []

    def get(backend: str) -> str:
        if backend not in urls:
            url, cleanup = migrated_url(backend, tmp_path_factory)
            urls[backend] = url
            if cleanup:
                cleanups.append(cleanup)
        return urls[backend]

    yield get
    for cleanup in cleanups:
        cleanup()


def _empty_all_tables() -> None:
    tables = [t.name for t in reversed(db.metadata.sorted_tables)]
    if db.engine.dialect.name == "postgresql":
        db.session.execute(
            text(
                "TRUNCATE "
                + ", ".join(f'"{name}"' for name in tables)
                + " RESTART IDENTITY CASCADE"
            )
        )
    else:
        for name in tables:
            db.session.execute(text(f'DELETE FROM "{name}"'))
    db.session.commit()


@pytest.fixture(params=["sqlite", "postgres"])
def backend(request):
    if request.param == "postgres":
        require_postgres()
    return request.param


def _app_on(backend: str, database_urls, tmp_path, **overrides):
    settings = test_config(database_urls(backend), tmp_path / "instance")
    application = create_app({**settings, **overrides})
    with application.app_context():
        yield application
        db.session.rollback()
        _empty_all_tables()
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def app(backend, database_urls, tmp_path):
    """The application on a clean database of the current backend."""
    yield from _app_on(backend, database_urls, tmp_path)


@pytest.fixture
def sqlite_app(database_urls, tmp_path):
    """For what only SQLite has (file backups, the embedded default)."""
    yield from _app_on("sqlite", database_urls, tmp_path)


@pytest.fixture
def postgres_app(database_urls, tmp_path):
    require_postgres()
    yield from _app_on("postgres", database_urls, tmp_path)


class IsolatedClient(FlaskClient):
    """Runs each request in a blank context, as a real server would.

    The ``app`` fixture keeps an application context open for the test's own database work;
    without this, every request would share that context's ``g`` (cached locale, user, ...).
    """

    def open(self, *args, **kwargs):
        return contextvars.Context().run(super().open, *args, **kwargs)


@pytest.fixture
def client(app):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def chromium():
    """Headless Debian Chromium through Playwright, one per test process (browser and e2e)."""
    from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        if IN_CI:
            pytest.fail(f"CI must run the browser tests, but Chromium is not at {CHROMIUM}")
        pytest.skip(f"Chromium not installed at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
