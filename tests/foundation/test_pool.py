"""Pooled connections: checked before use only after sitting idle, replaced when dead."""

import pytest
from sqlalchemy import create_engine, literal_column, select, text
from sqlalchemy.exc import DBAPIError

import civicvote.app
from civicvote.extensions import db
from civicvote.voting.statements import first_row


def _backend_pid() -> int:
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()  # back to the pool
    return pid


def _terminate(pid: int) -> None:
    other = create_engine(db.engine.url)
    with other.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()


def test_a_connection_that_died_while_idle_is_replaced_before_use(postgres_app, monkeypatch):
    first = _backend_pid()
    _terminate(first)
    monkeypatch.setattr(civicvote.app, "PING_AFTER_IDLE_SECONDS", 0.0)  # it sat idle "long"
    assert _backend_pid() != first  # no error: the check found it dead and reconnected


def test_the_check_leaves_no_transaction_open(postgres_app, monkeypatch):
    """The vote's write runs in autocommit, which psycopg refuses to switch on inside a
    transaction; a check that left one open made the next vote on that connection a 500."""
    _backend_pid()
    monkeypatch.setattr(civicvote.app, "PING_AFTER_IDLE_SECONDS", 0.0)
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        assert connection.execute(text("SELECT 1")).scalar() == 1


def test_a_connection_used_moments_ago_is_not_checked(postgres_app, monkeypatch):
    """No round trip per request for the check; a connection lost meanwhile fails its
    statement instead (a retryable 503 in a request), and the pool then replaces it."""
    import psycopg

    _backend_pid()
    sent = []
    execute = psycopg.Cursor.execute

    def counting(cursor, query, *args, **kwargs):
        sent.append(str(query))
        return execute(cursor, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", counting)
    assert db.session.execute(text("SELECT 42")).scalar() == 42
    monkeypatch.undo()
    db.session.commit()
    assert sent == ["SELECT 42"]


def test_the_pool_keeps_a_connection_per_server_thread(monkeypatch, tmp_path):
    """``civicvote serve --threads N`` passes N to the workers; a smaller pool would close and
    reopen connections (new server processes) all the time under load."""
    from civicvote import create_app

    url = "postgresql+psycopg://postgres@127.0.0.1:5432/unused"
    monkeypatch.setenv("CIVICVOTE_SERVER_THREADS", "12")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert db.engine.pool.size() == 12
    monkeypatch.delenv("CIVICVOTE_SERVER_THREADS")
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(tmp_path)})
    with app.app_context():
        assert db.engine.pool.size() == 5  # SQLAlchemy's default, for one-off commands
    sqlite = create_app(
        {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db", "INSTANCE_PATH": str(tmp_path)}
    )
    assert "pool_size" not in sqlite.config["SQLALCHEMY_ENGINE_OPTIONS"]


def test_a_vote_that_finds_its_connection_lost_retires_every_older_one(postgres_app, monkeypatch):
    """After a database restart every pooled connection is dead. The vote's own statements
    (first_row, outside SQLAlchemy's execution) must retire them all on the first loss, as
    SQLAlchemy does for its own: replacing them one failed request at a time answered a 503
    to whichever request drew a dead one next, seconds after the database was back."""
    monkeypatch.setattr(civicvote.app, "PING_AFTER_IDLE_SECONDS", 1e9)  # used moments ago
    engine = db.engine
    held = [engine.connect() for _ in range(3)]  # three connections in the pool at once
    pids = [c.execute(text("SELECT pg_backend_pid()")).scalar() for c in held]
    for connection in held:
        connection.close()
    for pid in pids:
        _terminate(pid)  # the restart: every pooled connection is dead

    one = select(literal_column("1").label("one"))
    with engine.connect() as connection, pytest.raises(DBAPIError) as lost:
        first_row(connection, one, {})
    assert lost.value.connection_invalidated  # this request's answer: a retryable 503
    for _ in pids:  # every later request gets a live connection
        with engine.connect() as connection:
            assert first_row(connection, one, {}) == {"one": 1}
