"""The close's SQLite scrub while a reader holds an old snapshot of the -wal."""

import sqlite3

from sqlalchemy import create_engine

from civicvote.voting import sealing


def test_a_reader_holding_the_wal_makes_the_scrub_give_up_not_hang(tmp_path, caplog):
    path = tmp_path / "held.db"
    engine = create_engine(f"sqlite:///{path}", connect_args={"timeout": 15})
    with engine.begin() as connection:
        connection.exec_driver_sql("PRAGMA journal_mode=WAL")
        connection.exec_driver_sql("CREATE TABLE box (secret TEXT)")
        connection.exec_driver_sql("INSERT INTO box VALUES ('a vote')")
    reader = sqlite3.connect(path, isolation_level=None)
    reader.execute("BEGIN")
    assert reader.execute("SELECT count(*) FROM box").fetchone() == (1,)  # snapshot held
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM box")
    try:
        with engine.connect() as connection:
            before = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
            assert before == 15000
            # With the 15 s busy timeout for each of 50 checkpoints this took 12.5 minutes.
            assert sealing._vacuum_sqlite(connection) is False
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == before
        assert "could not be truncated" in caplog.text
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    with engine.connect() as connection:  # the reader gone, the next scrub truncates
        assert sealing._vacuum_sqlite(connection) is True
    engine.dispose()
