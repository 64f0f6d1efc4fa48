"""The README's deployment, proven: Debian's nginx in front of two ``civicvote serve`` hosts on
PostgreSQL and Redis, with CIVICVOTE_PROXY_HOPS=1.

* The rate limits see each client's own address (X-Forwarded-For set by nginx), not nginx's,
  and not an address a client forges.
* One host killed (kill -9, master and workers) in the middle of voting loses no acknowledged
  vote: nginx resends what the dead host did not answer to the other one
  (proxy_next_upstream ... non_idempotent), clients retry with their idempotency key, and every
  acknowledged receipt is stored once. The figures are printed (``pytest -s`` shows them).
"""

import http.client
import os
import shutil
import signal
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest

from bench.vote_load import CLERK_PASSWORD, seed, verify, vote_all
from tests.conftest import IN_CI, PostgresDatabase, require_postgres
from tests.deploy.nginx import NGINX, Nginx
from tests.factories import csrf_token
from tests.faults.loop import run_async
from tests.servers import Server, civicvote, server_env

pytestmark = [pytest.mark.deploy, pytest.mark.postgres, pytest.mark.load]

VOTERS = 300
REDIS_DB = 10


def _require_nginx() -> None:
    if not Path(NGINX).exists() and not shutil.which("nginx"):
        if IN_CI:
            pytest.fail("CI must run the deployment test, but nginx is not installed")
        pytest.skip("nginx not installed (apt-get install nginx-light)")


class Deployment:
    """A migrated PostgreSQL database, two hosts and nginx in front of them."""

    def __init__(self, tmp: Path):
        self.database = PostgresDatabase("civicvote_deploy")
        self.hosts: list[Server] = []
        self.nginx = None
        import redis

        redis.Redis(host="127.0.0.1", port=6379, db=REDIS_DB).flushdb()
        instance = tmp / "instance"
        instance.mkdir()
        self.env = server_env(
            instance,
            self.database.url,
            CIVICVOTE_RATELIMIT_STORAGE_URL=f"redis://127.0.0.1:6379/{REDIS_DB}",
            CIVICVOTE_PROXY_HOPS="1",
            CIVICVOTE_RATELIMIT_LOGIN="2 per minute",
        )
        civicvote(["db", "upgrade"], self.env)
        self.seeded = seed(self.database.url, instance, VOTERS)
        for n in range(2):
            log = tmp / f"host{n}.log"
            self.hosts.append(Server(self.env, workers=1, threads=4, log_path=log))
        prefix = tmp / "nginx"
        prefix.mkdir()
        self.nginx = Nginx(prefix, [host.port for host in self.hosts])

    def close(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for host in self.hosts:
            host.stop()
        self.database.drop()


@pytest.fixture(scope="module")
def deployment(tmp_path_factory):
    _require_nginx()
    require_postgres()
    deployed = Deployment(tmp_path_factory.mktemp("deploy"))
    yield deployed
    deployed.close()


def _login(port: int, source: str, username: str, password: str, forged: str = "") -> int:
    """Log in through nginx from the client address ``source`` (a loopback alias)."""
    connection = http.client.HTTPConnection("127.0.0.1", port, source_address=(source, 0))
    try:
        connection.request("GET", "/login")
        page = connection.getresponse()
        token = csrf_token(page.read().decode())
        cookies = [value for name, value in page.getheaders() if name.lower() == "set-cookie"]
        cookie = next(c for c in cookies if c.startswith("session=")).split(";", 1)[0]
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie}
        if forged:
            headers["X-Forwarded-For"] = forged
        form = urlencode({"csrf_token": token, "username": username, "password": password})
        connection.request("POST", "/login", body=form, headers=headers)
        answer = connection.getresponse()
        answer.read()
        return answer.status
    finally:
        connection.close()


def test_the_limits_see_each_clients_own_address(deployment):
    port, clerk = deployment.nginx.port, deployment.seeded.clerk
    stranger = [_login(port, "127.0.0.7", clerk, "a wrong guess") for _ in range(3)]
    assert stranger == [401, 401, 429]
    # A forged X-Forwarded-For does not make the stranger someone else: nginx appends the
    # address it saw, and only that hop is believed.
    assert _login(port, "127.0.0.7", clerk, "another guess", forged="198.51.100.9") == 429
    # The clerk at another address logs in (her own limit is untouched).
    assert _login(port, "127.0.0.8", clerk, CLERK_PASSWORD) == 302
    seen = {line.split(" ", 1)[0] for line in deployment.nginx.access_log()}
    assert {"127.0.0.7", "127.0.0.8"} <= seen


def test_killing_one_host_in_the_middle_of_voting_loses_no_acknowledged_vote(deployment):
    victim = deployment.hosts[0]
    killed_at = []

    async def strike(done):
        if done == VOTERS // 3 and not killed_at:
            os.killpg(victim.process.pid, signal.SIGKILL)  # the master and its workers
            killed_at.append(done)

    before = len(deployment.nginx.access_log())
    started = time.perf_counter()
    outcomes = run_async(
        vote_all(
            "127.0.0.1",
            deployment.nginx.port,
            deployment.seeded,
            concurrency=30,
            on_progress=strike,
        )
    )
    elapsed = time.perf_counter() - started
    victim.process.wait(timeout=10)
    assert killed_at, "the voting finished before the host could be killed"
    verdict = verify(deployment.database.url, deployment.seeded, outcomes)
    votes = [line for line in deployment.nginx.access_log()[before:] if "/votes " in line]
    resent_by_nginx = sum(1 for line in votes if ", " in line.rsplit('"', 4)[1])
    client_retries = sum(len(outcome.statuses) - 1 for outcome in outcomes)
    lost = len(verdict.missing_receipts) + len(verdict.acknowledged_without_participation)
    print(
        f"\nnginx + 2 hosts, one killed after {killed_at[0]} votes: {VOTERS} voters, "
        f"{verdict.acknowledged} acknowledged in {elapsed:.1f} s "
        f"({verdict.acknowledged / elapsed:.0f} votes/s), resent by nginx {resent_by_nginx}, "
        f"client retries {client_retries}, lost {lost}, counted twice "
        f"{len(verdict.doubled_voters)}"
    )
    assert all(outcome.receipt for outcome in outcomes), [
        outcome.statuses for outcome in outcomes if not outcome.receipt
    ]
    assert verdict.ok, verdict
    assert lost == 0 and verdict.stored_ballots == verdict.acknowledged == VOTERS
