"""SQLite backup while the database is being written, and restore."""

import sqlite3
import threading

import pytest

from civicvote.communities.models import Community
from civicvote.extensions import db
from tests import factories


@pytest.fixture
def runner(sqlite_app):
    return sqlite_app.test_cli_runner()


def test_backup_is_consistent_while_writes_go_on(runner, tmp_path):
    factories.community(slug="first")
    path = db.engine.url.database
    stop = threading.Event()

    def writer():
        connection = sqlite3.connect(path, timeout=30)
        n = 0
        while not stop.is_set():
            n += 1
            with connection:
                connection.execute(
                    "INSERT INTO communities (slug, name, district, address, description) "
                    "VALUES (?, ?, '', '', '')",
                    (f"w{n}", f"w{n}"),
                )
        connection.close()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        result = runner.invoke(args=["backup", str(tmp_path / "copy.db")])
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.output
    copy = sqlite3.connect(tmp_path / "copy.db")
    assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    slugs = {row[0] for row in copy.execute("SELECT slug FROM communities")}
    copy.close()
    assert "first" in slugs
    # A snapshot: the writer's rows form an unbroken prefix w1..wN.
    written = sorted(int(s[1:]) for s in slugs if s.startswith("w"))
    assert written == list(range(1, len(written) + 1))


def test_restore_brings_back_the_backup(runner, tmp_path):
    factories.community(slug="kept")
    assert runner.invoke(args=["backup", str(tmp_path / "b.db")]).exit_code == 0
    factories.community(slug="later")
    result = runner.invoke(args=["restore", "--yes", str(tmp_path / "b.db")])
    assert result.exit_code == 0, result.output
    db.session.remove()
    slugs = set(db.session.scalars(db.select(Community.slug)))
    assert slugs == {"kept"}


def test_backup_refuses_to_overwrite_and_restore_refuses_junk(runner, tmp_path):
    (tmp_path / "exists.db").write_text("x")
    assert runner.invoke(args=["backup", str(tmp_path / "exists.db")]).exit_code != 0
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database" * 100)
    result = runner.invoke(args=["restore", "--yes", str(junk)])
    assert result.exit_code != 0
    assert "not a SQLite database" in result.output


def test_backup_on_postgres_points_to_pg_dump(postgres_app, tmp_path):
    result = postgres_app.test_cli_runner().invoke(args=["backup", str(tmp_path / "x.db")])
    assert result.exit_code != 0
    assert "pg_dump" in result.output
