"""SQLite that cannot write: a read-only database file and a full disk.

Both must give a clear, translated answer (503 read-only, 507 full; JSON for the API, a page for
people), never a 500 with a trace, store nothing half-way, and leave a database that passes
``PRAGMA integrity_check``.

Root ignores file permissions, so the read-only file is opened as SQLite reports it for a file
it may not write (``mode=ro``); a full disk is SQLite's ``max_page_count`` limit, which makes
every write that needs a new page fail with SQLITE_FULL, exactly as a full disk does.
"""

import sqlite3

import pytest
from flask_migrate import upgrade
from sqlalchemy import event

from civicvote import create_app
from civicvote.extensions import db
from tests import factories
from tests.conftest import test_config
from tests.faults.conftest import api_vote

VOTERS = 400


@pytest.fixture
def database(tmp_path):
    """A migrated SQLite file with an open ballot and ``VOTERS`` voter tokens."""
    path = tmp_path / "civicvote.db"
    app = create_app(test_config(f"sqlite:///{path}", tmp_path / "instance"))
    with app.app_context():
        upgrade()
        ballot = factories.ballot(mode="online")
        tokens = [factories.credential(ballot)[1] for _ in range(VOTERS)]
        proposal = ballot.items[0].proposal_id
        ballot_id = ballot.id
        db.session.remove()
        db.engine.dispose()
    return path, ballot_id, proposal, tokens


def app_on(url: str, tmp_path, **extra):
    app = create_app({**test_config(url, tmp_path / "instance"), **extra})
    return app


def counts(path) -> tuple[int, int, int]:
    with sqlite3.connect(path) as connection:
        return tuple(
            connection.execute(sql).fetchone()[0]
            for sql in (
                "SELECT COUNT(*) FROM participations",
                # Open ballot: the contents wait sealed in the box; closed: in cast_ballots.
                "SELECT (SELECT COUNT(*) FROM cast_ballots) + (SELECT COUNT(*) FROM ballot_box)",
                "SELECT COUNT(*) FROM credentials WHERE used_at IS NOT NULL",
            )
        )


def integrity(path) -> str:
    with sqlite3.connect(path) as connection:
        return connection.execute("PRAGMA integrity_check").fetchone()[0]


def test_read_only_database_gives_a_clear_503(database, tmp_path):
    path, ballot_id, proposal, tokens = database
    before = counts(path)
    app = app_on(f"sqlite:///file:{path}?mode=ro&uri=true", tmp_path)
    client = app.test_client()

    response = api_vote(client, ballot_id, proposal, tokens[0], key="k")
    assert response.status_code == 503
    assert response.json["error"] == "storage_readonly"
    assert "read-only" in response.json["message"]
    assert response.headers["Retry-After"]
    chinese = api_vote(client, ballot_id, proposal, tokens[0], locale="zh-CN", key="k")
    assert chinese.status_code == 503 and "只读" in chinese.json["message"]
    # A person following a voting link (which records the claim) gets a page, not a trace.
    page = client.get(f"/v/{tokens[1]}", headers={"Accept": "text/html"})
    assert page.status_code == 503
    html = page.get_data(as_text=True)
    assert "只读" in html and "Traceback" not in html

    with app.app_context():
        db.engine.dispose()
    assert counts(path) == before
    assert integrity(path) == "ok"


def test_full_disk_gives_a_clear_507_and_no_half_vote(database, tmp_path):
    path, ballot_id, proposal, tokens = database
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
    app = app_on(f"sqlite:///{path}", tmp_path)
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def no_more_pages(dbapi_connection, _record):
            dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    client = app.test_client()
    acknowledged, refusal = 0, None
    for token in tokens:
        response = api_vote(client, ballot_id, proposal, token, key="k")
        if response.status_code == 201:
            acknowledged += 1
            continue
        refusal = response
        break
    assert refusal is not None, "the database never filled up"
    assert refusal.status_code == 507, refusal.get_data(as_text=True)
    assert refusal.json["error"] == "storage_full"
    assert "storage is full" in refusal.json["message"]
    chinese = api_vote(client, ballot_id, proposal, token, locale="zh-CN", key="k")
    assert chinese.status_code == 507 and "已满" in chinese.json["message"]

    with app.app_context():
        db.engine.dispose()
    # Everything acknowledged is there, the refused vote left no trace, the file is sound.
    assert counts(path) == (acknowledged, acknowledged, acknowledged)
    assert integrity(path) == "ok"
    # Once there is room again, the refused voter can vote.
    fresh = app_on(f"sqlite:///{path}", tmp_path).test_client()
    assert api_vote(fresh, ballot_id, proposal, token, key="k").status_code == 201
