"""kill -9 of a gunicorn worker in the middle of a vote load (PostgreSQL).

Every acknowledged vote must be stored; voters whose request died with the worker retry with the
same idempotency key and get their receipt: 200 with the receipt of the vote that did commit, or
201 if it never did. Nobody is counted twice.
"""

import os
import signal

import pytest

from bench.vote_load import seed, verify, vote_all
from tests.conftest import PostgresDatabase, require_postgres
from tests.faults.conftest import worker_pids
from tests.faults.loop import run_async
from tests.servers import Server, civicvote, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.load]

VOTERS = 300


@pytest.fixture
def pg_server(tmp_path):
    require_postgres()
    database = PostgresDatabase("civicvote_faults")
    server = None
    try:
        env = server_env(
            tmp_path, database.url, CIVICVOTE_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0"
        )
        civicvote(["db", "upgrade"], env)
        seeded = seed(database.url, tmp_path, VOTERS)
        server = Server(env, workers=2, threads=4, log_path=tmp_path / "server.log")
        yield server, seeded, database.url
    finally:
        if server is not None:
            server.stop()
        database.drop()


def test_votes_survive_a_killed_worker(pg_server):
    server, seeded, url = pg_server
    killed = []

    original = worker_pids(server.process.pid)

    async def strike(done):
        # One worker after a third of the votes, the other after two thirds (gunicorn may have
        # given all the busy connections to one of them).
        for n, victim in zip((VOTERS // 3, 2 * VOTERS // 3), original, strict=True):
            if done == n and victim not in killed:
                os.kill(victim, signal.SIGKILL)
                killed.append(victim)

    outcomes = run_async(
        vote_all("127.0.0.1", server.port, seeded, concurrency=60, on_progress=strike)
    )

    assert len(killed) == 2, "the load finished before the workers could be killed"
    # Gunicorn replaced the worker and every voter got a receipt in the end.
    assert len(worker_pids(server.process.pid)) == 2
    assert all(o.receipt for o in outcomes), [o.statuses for o in outcomes if not o.receipt]
    interrupted = [o for o in outcomes if "conn" in o.statuses]
    assert interrupted, "no request was in flight in the killed worker"
    # Nothing but successes, lost connections and clear retryable answers: never a 500.
    assert {s for o in outcomes for s in o.statuses} <= {200, 201, 503, "conn"}
    verdict = verify(url, seeded, outcomes)
    assert verdict.ok, verdict
    assert verdict.acknowledged == verdict.stored_ballots == VOTERS
