"""What create_app and gunicorn_conf.py set up around the application: the secret key, the
database engine's own events, the workers' pools and warm-up, and the access log behind a proxy."""

import gc
import os
import urllib.request
from types import SimpleNamespace

import pytest
from gunicorn.config import Config
from sqlalchemy import create_engine, event, text
from sqlalchemy.pool import Pool

from civicvote import create_app, gunicorn_conf
from civicvote.app import _ping_after_idle, _remember_idle_since, _sqlite_pragmas
from civicvote.extensions import db
from tests.servers import Server, civicvote, server_env


def _sqlite_config(tmp_path, **extra) -> dict:
    return {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'app.db'}", **extra}


def test_a_given_secret_key_writes_no_key_file(tmp_path, monkeypatch):
    monkeypatch.delenv("CIVICVOTE_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)  # ./instance, the default folder, would be here
    app = create_app(
        _sqlite_config(tmp_path, SECRET_KEY="given", INSTANCE_PATH=str(tmp_path / "inst"))
    )
    assert app.secret_key == "given"
    assert not (tmp_path / "inst" / "secret_key").exists()
    assert not (tmp_path / "instance").exists()


def test_without_a_key_one_is_kept_in_the_instance_folder_given(tmp_path, monkeypatch):
    monkeypatch.delenv("CIVICVOTE_SECRET_KEY", raising=False)
    monkeypatch.chdir(tmp_path)
    first = create_app(_sqlite_config(tmp_path, INSTANCE_PATH=str(tmp_path / "inst")))
    again = create_app(_sqlite_config(tmp_path, INSTANCE_PATH=str(tmp_path / "inst")))
    assert first.secret_key == again.secret_key == (tmp_path / "inst" / "secret_key").read_text()
    assert not (tmp_path / "instance").exists()


def test_the_database_events_are_the_apps_engines_not_every_engines(tmp_path):
    app = create_app(_sqlite_config(tmp_path, SECRET_KEY="k", INSTANCE_PATH=str(tmp_path)))
    with app.app_context():
        engine = db.engine
        assert event.contains(engine, "connect", _sqlite_pragmas)
        assert event.contains(engine, "checkout", _ping_after_idle)
        assert event.contains(engine, "checkin", _remember_idle_since)
        with engine.connect() as connection:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        engine.dispose()
    assert not event.contains(Pool, "checkout", _ping_after_idle)
    other = create_engine(f"sqlite:///{tmp_path / 'other.db'}")
    with other.connect() as connection:  # someone else's engine keeps SQLite's defaults
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "delete"
    other.dispose()


def _gunicorn_config() -> Config:
    """gunicorn's configuration as ``civicvote serve`` loads it (each setting validated)."""
    config = Config()
    for name, value in vars(gunicorn_conf).items():
        if name in config.settings:
            config.set(name, value)
    return config


def test_gunicorn_loads_the_settings_and_hooks():
    config = _gunicorn_config()
    assert config.wsgi_app == "civicvote.wsgi:app"
    assert config.worker_class_str == "gthread"
    assert config.secure_scheme_headers == {}  # the proxy headers are the app's (ProxyFix)
    assert config.logger_class.__name__ == "RedactingGunicornLogger"


def test_a_worker_pools_a_connection_per_thread_and_warms_up(tmp_path, monkeypatch):
    """post_fork sizes the pool before the worker loads the app; post_worker_init opens it."""
    from tests.conftest import PostgresDatabase, require_postgres

    require_postgres()
    database = PostgresDatabase()
    monkeypatch.delenv("CIVICVOTE_SERVER_THREADS", raising=False)
    config = _gunicorn_config()
    try:
        worker = SimpleNamespace(cfg=SimpleNamespace(threads=7))
        config.post_fork(None, worker)
        worker.wsgi = create_app(
            {
                "SQLALCHEMY_DATABASE_URI": database.url,
                "SECRET_KEY": "k",
                "INSTANCE_PATH": str(tmp_path),
            }
        )
        config.post_worker_init(worker)
        gc.unfreeze()
        with worker.wsgi.app_context():
            assert db.engine.pool.size() == 7
            assert db.engine.pool.checkedin() == 7
            db.engine.dispose()
    finally:
        os.environ.pop("CIVICVOTE_SERVER_THREADS", None)
        database.drop()


def test_behind_a_proxy_the_access_log_shows_the_client(tmp_path):
    env = server_env(tmp_path, CIVICVOTE_PROXY_HOPS="1")
    civicvote(["db", "upgrade"], env)
    log = tmp_path / "server.log"
    server = Server(env, workers=1, threads=2, log_path=log)
    try:
        forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
        request = urllib.request.Request(server.url + "/healthz?who", headers=forwarded)
        with urllib.request.urlopen(request) as response:
            assert response.status == 200
    finally:
        server.stop()  # the worker has written its access log by the time it exits
    # Not necessarily the last line: a readiness poll that timed out on a busy machine can be
    # answered, and logged, after this request.
    lines = [line for line in log.read_text().splitlines() if '"GET /healthz"' in line]
    assert any(line.startswith('203.0.113.7 "GET /healthz" 200') for line in lines), lines


@pytest.mark.parametrize("hops", ["x", "9"])
def test_serve_refuses_proxy_hops_outside_0_to_5(tmp_path, hops):
    env = server_env(tmp_path, CIVICVOTE_PROXY_HOPS=hops)
    with pytest.raises(RuntimeError, match="CIVICVOTE_PROXY_HOPS must be a whole number"):
        civicvote(["db", "upgrade"], env)
