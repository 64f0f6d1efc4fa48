"""The voting tables are analyzed as a ballot's votes double (see voting/statistics.py)."""

import secrets
import time

from sqlalchemy import text

from civicvote.extensions import db
from civicvote.voting import statistics

VOTE_TABLES = ("credentials", "participations", "check_ins")


def _last_analyzed() -> dict:
    with db.engine.connect() as connection:  # a new transaction: statistics are not cached
        rows = connection.execute(
            text(
                "SELECT relname, last_analyze FROM pg_stat_user_tables "
                "WHERE relname IN ('credentials', 'participations', 'check_ins')"
            )
        )
        return dict(rows.all())


def test_tables_are_analyzed_at_64_128_256_votes_of_a_ballot(postgres_app):
    ballot_id = 10**6 + secrets.randbelow(10**6)  # counted by this worker only, never seen
    before = _last_analyzed()
    started = {}
    for count in range(1, 257):
        thread = statistics.vote_cast(db.engine, ballot_id)
        if thread is not None:
            started[count] = thread
            thread.join(timeout=30)
    assert sorted(started) == [64, 128, 256]
    assert statistics.vote_cast(db.engine, ballot_id + 1) is None  # each ballot counts alone

    deadline = time.monotonic() + 10
    after = _last_analyzed()
    while any(after[t] == before.get(t) for t in VOTE_TABLES) and time.monotonic() < deadline:
        time.sleep(0.1)
        after = _last_analyzed()
    for table in VOTE_TABLES:
        assert after[table] is not None and after[table] != before.get(table), table
