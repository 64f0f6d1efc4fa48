"""PostgreSQL restarted in the middle of a vote load.

The server is a private PostgreSQL cluster made for this test (initdb in a temporary directory):
restarting the machine's shared server would break the other tests running beside this one.
While the database is down, votes get a clear, retryable 503 JSON answer with Retry-After and
pages a 503 page without a trace; when it is back, the service recovers by itself (stale pooled
connections are replaced: at most one request per server process meets one, and gets the same
retryable 503) and nothing acknowledged is lost.
"""

import asyncio
import contextlib
import os
import shutil
import subprocess
import tempfile
import urllib.error
import urllib.request
from glob import glob
from pathlib import Path

import pytest

from bench.vote_load import seed, verify, vote_all
from tests.conftest import IN_CI
from tests.faults.conftest import post_vote
from tests.faults.loop import run_async
from tests.servers import Server, civicvote, free_port, server_env

pytestmark = [pytest.mark.postgres, pytest.mark.load]

VOTERS = 300
WORKERS = 2


class PrivateCluster:
    """A throwaway PostgreSQL cluster on a free port, run as the postgres user when root."""

    def __init__(self):
        binaries = sorted(glob("/usr/lib/postgresql/*/bin/pg_ctl"))
        if not binaries:
            if IN_CI:
                pytest.fail("PostgreSQL server binaries (pg_ctl, initdb) not installed")
            pytest.skip("PostgreSQL server binaries (pg_ctl, initdb) not installed")
        self.bin = Path(binaries[-1]).parent
        self.dir = Path(tempfile.mkdtemp(prefix="civicvote-pg-"))
        self.port = free_port()
        self.as_postgres = os.geteuid() == 0
        if self.as_postgres:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.start()

    def _run(self, program: str, *args: str) -> None:
        command = [str(self.bin / program), *args]
        if self.as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1"
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.dir / "log"),
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already stopped
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    made = PrivateCluster()
    yield made
    made.remove()


def get(url: str, accept: str):
    request = urllib.request.Request(url, headers={"Accept": accept})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def test_a_restarted_database_gives_retryable_503s_and_loses_nothing(cluster, tmp_path):
    env = server_env(
        tmp_path, cluster.url, CIVICVOTE_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/0"
    )
    civicvote(["db", "upgrade"], env)
    seeded = seed(cluster.url, tmp_path, VOTERS)
    server = Server(env, workers=WORKERS, threads=4, log_path=tmp_path / "server.log")
    window = {}

    async def restart(done):
        if done == VOTERS // 3 and not window:
            window["started"] = True
            await asyncio.to_thread(cluster.stop)
            # While it is down: a vote and a page, each with a clear answer.
            window["vote"] = await asyncio.to_thread(post_vote, server.url, seeded.ballot_id)
            window["page"] = await asyncio.to_thread(get, server.url + "/", "text/html")
            await asyncio.to_thread(cluster.start)

    try:
        outcomes = run_async(
            vote_all("127.0.0.1", server.port, seeded, concurrency=40, on_progress=restart)
        )
        # A worker replaces its pool at the first statement that finds a connection dead
        # (app.py). One that served no vote since the restart (the voters' keep-alive
        # connections may all be on the other) answers that one request with a retryable 503.
        url = server.url + f"/api/v1/ballots/{seeded.ballot_id}"
        after = [get(url, "application/json") for _ in range(WORKERS + 4)]
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()

    status, headers, body = window["vote"]
    assert status == 503 and headers["Retry-After"]
    assert headers["Content-Type"].startswith("application/json") and '"unavailable"' in body
    status, headers, body = window["page"]
    assert status == 503 and headers["Retry-After"]
    assert "<html" in body and "Traceback" not in body
    # Recovered by itself; every voter got a receipt in the end, and no answer was a 500.
    statuses = [status for status, *_ in after]
    assert set(statuses) <= {200, 503} and statuses.count(503) <= WORKERS, (statuses, log[-3000:])
    assert all(headers["Retry-After"] for status, headers, _ in after if status == 503)
    assert all(o.receipt for o in outcomes), [o.statuses for o in outcomes if not o.receipt]
    failures = [f for o in outcomes for f in o.failures]
    assert all(f[0] == 503 and f[2] and f[1].startswith("application/json") for f in failures), (
        failures[:5]
    )
    assert "unhandled error" not in log
    verdict = verify(cluster.url, seeded, outcomes)
    assert verdict.ok, verdict
    assert verdict.stored_ballots == VOTERS
