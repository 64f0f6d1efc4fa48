"""A vote handled by one gunicorn server shows on the board served by another (PostgreSQL).

Two ``civicvote serve`` processes share one PostgreSQL database, as workers on several hosts
would; each keeps its own board cache, so this proves the board follows the database, not a
process's memory.
"""

import csv
import json
import time
import urllib.request

import pytest

from tests.conftest import PostgresDatabase, require_postgres
from tests.servers import Server, civicvote, demo_ballot_id, server_env

pytestmark = pytest.mark.load


def _get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


@pytest.fixture
def two_servers(tmp_path):
    require_postgres()
    database = PostgresDatabase("civicvote_board")
    instance = tmp_path / "instance"
    instance.mkdir()
    env = server_env(
        instance, database.url, CIVICVOTE_RATELIMIT_STORAGE_URL="redis://127.0.0.1:6379/12"
    )
    servers = []
    try:
        civicvote(["seed-demo"], env)
        ballot_id = _ballot_id(env)
        civicvote(["ballots", "open", str(ballot_id)], env)
        servers = [
            Server(env, workers=2, log_path=tmp_path / "a.log"),
            Server(env, workers=2, log_path=tmp_path / "b.log"),
        ]
        yield servers, env, ballot_id, instance
    finally:
        for server in servers:
            server.stop()
        database.drop()


def _ballot_id(env) -> int:
    return demo_ballot_id(env)


def _vote(server, ballot_id: int, token: str, proposal: int, key: str) -> None:
    body = json.dumps({"credential": token, "selections": [proposal], "idempotency_key": key})
    request = urllib.request.Request(
        f"{server.url}/api/v1/ballots/{ballot_id}/votes",
        data=body.encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 201


def test_a_batch_cast_through_one_server_reaches_the_board_of_another_within_2_seconds(
    two_servers,
):
    (a, b), _env, ballot_id, instance = two_servers
    with (instance / "demo-cards.csv").open(encoding="utf-8") as handle:
        tokens = [row["token"] for row in csv.DictReader(handle)]
    ballot = f"{a.url}/api/v1/ballots/{ballot_id}"
    proposal = _get_json(ballot)["proposals"][0]["id"]
    live = f"{b.url}/c/xingfuli/board/live"
    k = 10  # the demo ballot's live batch: figures lag one batch (ballots/live.py)
    for n, token in enumerate(tokens[: 2 * k], start=1):
        assert _get_json(live)["stats"]["cast"] == 0
        _vote(a, ballot_id, token, proposal, f"k{n}")
        _get_json(ballot)  # server A's API reads the figures too: the batch is taken at n = k
    acknowledged = time.monotonic()
    seen = None
    while time.monotonic() - acknowledged < 2.0:
        if _get_json(live)["stats"]["cast"] == k:
            seen = time.monotonic() - acknowledged
            break
        time.sleep(0.05)
    assert seen is not None, "the first batch did not reach server B's board within 2 s"
