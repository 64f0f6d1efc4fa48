"""The shared rate-limit storage (Redis) goes down in the middle of an assembly.

Clerks must still log in and check residents in, and voters must still get a clear answer for a
mistyped card: the limits on credential entry then hold in each server process's own memory
until Redis is back, rather than every limited request failing with a 500. The server is a
private redis-server made for this test, on a free port: stopping the machine's shared one would
break the tests running beside this one.
"""

import asyncio
import contextlib
import shutil
import subprocess
import time

import pytest
import redis

from bench.vote_load import seed, verify, vote_all
from civicvote import ratelimit
from civicvote.extensions import db
from civicvote.registry.credentials import issue_credentials
from tests import factories
from tests.checkin.test_checkin import _scan as scan
from tests.conftest import IN_CI, IsolatedClient, _app_on
from tests.faults.conftest import api_vote, post_vote
from tests.faults.loop import run_async
from tests.servers import Server, civicvote, free_port, server_env

VOTERS = 150


class PrivateRedis:
    """A throwaway redis-server on a free port, without persistence."""

    def __init__(self):
        if not shutil.which("redis-server"):
            if IN_CI:
                pytest.fail("redis-server is not installed")
            pytest.skip("redis-server is not installed")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1"]
            + ["--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.2)
        for _ in range(100):
            with contextlib.suppress(redis.ConnectionError):
                if client.ping():
                    return
            time.sleep(0.05)
        raise RuntimeError("the private redis-server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def private_redis():
    server = PrivateRedis()
    yield server
    server.stop()


@pytest.fixture
def redis_app(private_redis, database_urls, tmp_path):
    settings = {"RATELIMIT_STORAGE_URI": private_redis.url}
    for application in _app_on("sqlite", database_urls, tmp_path, **settings):
        application.test_client_class = IsolatedClient  # each request in a blank context
        yield application


def vote(client, ballot, credential: str):
    return api_vote(client, ballot.id, ballot.items[0].proposal_id, credential)


def test_staff_log_in_while_redis_is_down_and_guessing_stays_limited(redis_app, private_redis):
    redis_app.config["RATELIMIT_LOGIN"] = "3 per minute"
    factories.user("clerk")
    client = redis_app.test_client()
    assert factories.login(client, "clerk", "wrong").status_code == 401  # counted in Redis
    private_redis.stop()

    # A clerk who types the password right gets in; a guesser is still stopped.
    assert factories.login(client, "clerk").status_code == 302
    guesser = redis_app.test_client()
    guesser.environ_base["REMOTE_ADDR"] = "198.51.100.7"
    statuses = [factories.login(guesser, "clerk", f"guess {n}").status_code for n in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_a_mistyped_card_gets_its_answer_while_redis_is_down(redis_app, private_redis):
    redis_app.config["RATELIMIT_CREDENTIAL"] = "2 per minute"
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    client = redis_app.test_client()
    private_redis.stop()

    answers = [vote(client, ballot, "x" * 43) for _ in range(3)]
    assert [a.status_code for a in answers] == [403, 403, 429]  # still limited, per process
    assert answers[2].headers["Retry-After"]
    assert vote(client, ballot, token).status_code == 201  # a valid card votes


def test_the_shared_limits_come_back_with_redis(redis_app, private_redis, monkeypatch):
    monkeypatch.setattr(ratelimit, "FALLBACK_SECONDS", 0.0)  # try Redis again at once
    redis_app.config["RATELIMIT_CREDENTIAL"] = "2 per minute"
    ballot = factories.ballot()
    client = redis_app.test_client()
    private_redis.stop()
    assert vote(client, ballot, "y" * 43).status_code == 403  # counted in this process
    private_redis.start()  # empty: what it counted before is gone

    assert vote(client, ballot, "y" * 43).status_code == 403
    shared = redis.Redis(port=private_redis.port)
    assert any(b"credential.code" in key for key in shared.keys("*"))  # counted in Redis again


def test_the_check_in_desk_works_on_while_redis_is_down(redis_app, private_redis):
    redis_app.config["RATELIMIT_CHECKIN"] = "3 per minute"
    community = factories.community()
    ballot = factories.ballot(factories.funding_round(community))
    factories.registry(community, buildings=1, rooms=3, per_room=1)
    assembly = factories.assembly(ballot)
    cards = issue_credentials(ballot.id, base_url="http://localhost")
    db.session.commit()
    factories.user("desk", roles=[(community, "clerk")])
    client = redis_app.test_client()
    assert factories.login(client, "desk").status_code == 302
    private_redis.stop()

    for card in cards:
        assert scan(client, community, assembly, card.link).status_code == 303
    statuses = [scan(client, community, assembly, f"GUESS{n}XXXX").status_code for n in range(4)]
    assert statuses == [404, 404, 404, 429]


@pytest.mark.load
def test_an_assembly_votes_on_through_a_redis_outage(private_redis, tmp_path):
    """Real gunicorn workers, Redis stopped after a third of the votes while the others vote on
    (and started again: the limits' return is tested above): every voter gets a receipt, a
    mistyped card gets its refusal, nothing is a 500."""
    env = server_env(tmp_path, CIVICVOTE_RATELIMIT_STORAGE_URL=private_redis.url)
    civicvote(["db", "upgrade"], env)
    seeded = seed(env["CIVICVOTE_DATABASE_URL"], tmp_path, VOTERS)
    server = Server(env, workers=2, threads=4, log_path=tmp_path / "server.log")
    refusals, progress, window = [], {"done": 0}, {}

    async def outage(done):
        progress["done"] = max(progress["done"], done)
        if done >= VOTERS // 3 and not window:
            window["stopped"] = progress["done"]
            await asyncio.to_thread(private_redis.stop)
            for _ in range(3):
                answer = await asyncio.to_thread(post_vote, server.url, seeded.ballot_id)
                refusals.append(answer[0])
            window["started"] = progress["done"]
            await asyncio.to_thread(private_redis.start)

    try:
        outcomes = run_async(
            vote_all("127.0.0.1", server.port, seeded, concurrency=20, on_progress=outage)
        )
        after = post_vote(server.url, seeded.ballot_id)[0]
    finally:
        server.stop()
    log = (tmp_path / "server.log").read_text()

    assert window["started"] > window["stopped"], "nobody voted while Redis was down"
    assert all(status in (403, 429) for status in refusals), refusals
    assert after in (403, 429)
    assert all(o.receipt for o in outcomes), [o.statuses for o in outcomes if not o.receipt]
    assert {s for o in outcomes for s in o.statuses} <= {200, 201}
    assert "rate-limit storage unreachable" in log and "unhandled error" not in log
    verdict = verify(env["CIVICVOTE_DATABASE_URL"], seeded, outcomes)
    assert verdict.ok, verdict
    assert verdict.stored_ballots == VOTERS
