"""Fresh planner statistics for the tables a vote reads, while a ballot fills up.

The vote's read (statements.STATE_BY_TOKEN) is a prepared statement: psycopg prepares it after
five runs, and PostgreSQL then keeps one plan for it, made with the statistics of that moment.
A ballot opens with no participations or check-ins (and walk-in cards are issued as it runs),
so the kept plan scans those tables, the cheapest way while they are nearly empty, and goes on
scanning them as they fill: in ``bench/vote_load.py --voters 12000`` the PostgreSQL CPU per
vote rose from 1.25 ms to 6-7 ms. Autovacuum's ANALYZE would mend the plan, but it looks at
most once a minute, and an assembly votes within that minute. So each time the votes a worker
has cast on a ballot double (64, 128, 256, ...), it analyzes those tables in the background;
the new statistics invalidate the kept plans, and the plans made next use the indexes.
Planning every vote afresh instead cost 0.7 ms of PostgreSQL CPU on every vote.
"""

import logging
import threading

logger = logging.getLogger(__name__)

FIRST_ANALYZE_AT = 64  # votes cast by this worker on one ballot (a power of two)
# What a vote looks up, all by key: the credential, the participation and the check-in.
ANALYZE = "ANALYZE (SKIP_LOCKED) credentials, participations, check_ins"

_counts: dict[int, int] = {}  # ballot id -> votes this worker has cast on it
_lock = threading.Lock()


def vote_cast(engine, ballot_id: int) -> threading.Thread | None:
    """Count a vote cast on ``ballot_id`` (PostgreSQL) and, when this worker's count for the
    ballot is a power of two from FIRST_ANALYZE_AT on, analyze the tables a vote reads in a
    background thread, which is returned."""
    with _lock:
        count = _counts[ballot_id] = _counts.get(ballot_id, 0) + 1
    if count < FIRST_ANALYZE_AT or count & (count - 1):  # not 64, 128, 256, ...
        return None
    thread = threading.Thread(target=_analyze, args=(engine,), daemon=True)
    thread.start()
    return thread


def _analyze(engine) -> None:
    # SKIP_LOCKED: a table another worker (or autovacuum) is analyzing right now is skipped.
    try:
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql(ANALYZE)
    except Exception:  # only plans get worse; the votes are unaffected
        logger.warning("Refreshing the voting tables' statistics failed", exc_info=True)
