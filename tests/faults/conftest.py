"""Fault injection against real servers: killed workers, a restarted PostgreSQL, broken storage.

Every test here is marked ``faults`` (and ``load`` where it drives gunicorn with concurrent
voters) and kept to a few hundred voters so that the whole module stays within CI's budget.
"""

import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest


def pytest_collection_modifyitems(items):
    here = Path(__file__).parent
    for item in items:
        if Path(item.fspath).is_relative_to(here):
            item.add_marker(pytest.mark.faults)


def worker_pids(master_pid: int) -> list[int]:
    """The gunicorn workers (children) of ``master_pid``."""
    children = []
    for task in Path(f"/proc/{master_pid}/task").iterdir():
        text = (task / "children").read_text().split()
        children += [int(pid) for pid in text]
    return children


def post_vote(base: str, ballot_id: int):
    """A vote with a card no ballot has (status, headers, body), straight to the server."""
    request = urllib.request.Request(
        f"{base}/api/v1/ballots/{ballot_id}/votes",
        data=b'{"credential": "AAAAAAAAAAAAAAAAAAAAAAAAAAAA", "selections": [1]}',
        headers={"Content-Type": "application/json", "Accept": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def api_vote(client, ballot_id: int, proposal: int, credential: str, locale="en", key=None):
    """A vote for one proposal through the app's API, with Flask's test client."""
    body = {"credential": credential, "selections": [proposal]}
    if key is not None:
        body["idempotency_key"] = key
    return client.post(
        f"/api/v1/ballots/{ballot_id}/votes",
        data=json.dumps(body),
        content_type="application/json",
        headers={"Accept-Language": locale},
    )
