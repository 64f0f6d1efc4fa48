"""Votes through the JSON API are cast in front of Flask, answered as the view answers them."""

import json

import pytest
from flask import request, request_started

from civicvote.api.fastpath import VoteFastPath
from tests import factories


@pytest.fixture
def flask_requests(app):
    """The paths of the requests that reached Flask's request machinery."""
    seen = []

    def record(sender, **extra):
        seen.append(request.path)

    request_started.connect(record, app)
    yield seen
    request_started.disconnect(record, app)


def post(client, ballot_id, body, content_type="application/json", **kwargs):
    data = body if isinstance(body, bytes) else json.dumps(body)
    return client.post(
        f"/api/v1/ballots/{ballot_id}/votes", data=data, content_type=content_type, **kwargs
    )


def stored() -> int:
    return factories.stored_count()


def test_a_cast_vote_is_answered_without_flask_with_the_views_headers(app, client, flask_requests):
    assert isinstance(app.wsgi_app, VoteFastPath)
    ballot = factories.ballot()
    choice = [ballot.items[0].proposal_id]
    _, token, _ = factories.credential(ballot)
    body = {"credential": token, "selections": choice, "idempotency_key": "k1"}

    cast = post(client, ballot.id, body)
    assert cast.status_code == 201
    receipt = cast.get_json()["receipt"]
    retried = post(client, ballot.id, body)
    assert (retried.status_code, retried.get_json()) == (200, {"receipt": receipt})
    assert flask_requests == []
    assert stored() == 1

    # The same vote answered by the view (the fast path only takes plain application/json).
    _, other_token, _ = factories.credential(ballot)
    by_flask = post(
        client,
        ballot.id,
        {"credential": other_token, "selections": choice},
        content_type="application/vnd.civicvote+json",
    )
    assert by_flask.status_code == 201 and len(flask_requests) == 1
    assert stored() == 2
    for name, value in by_flask.headers.items():
        if name != "Content-Length":
            assert cast.headers[name] == value
    assert set(cast.headers.keys()) == set(by_flask.headers.keys())


def test_a_refused_vote_is_decided_once_and_answered_by_flask(app, client, flask_requests):
    app.config["RATELIMIT_CREDENTIAL"] = "2 per minute"
    ballot = factories.ballot()
    unknown = {"credential": "x" * 43, "selections": [ballot.items[0].proposal_id]}
    english = {"Accept-Language": "en"}
    answers = [post(client, ballot.id, unknown, headers=english) for _ in range(3)]
    # Counted once per attempt: a double count would refuse the second attempt already.
    assert [a.status_code for a in answers] == [403, 403, 429]
    assert answers[0].get_json() == {
        "error": "unknown",
        "message": "This voter card is not valid for this ballot.",
    }
    assert answers[2].headers["Retry-After"]
    assert "wait" in answers[2].get_json()["message"]
    assert len(flask_requests) == 3
    assert stored() == 0


@pytest.mark.parametrize("content_type", ["application/json", "application/x-vote+json"])
def test_bodies_that_are_not_votes_are_4xx_on_both_paths(client, content_type):
    ballot = factories.ballot()
    for body, status in [
        (b"[" * 15_000, 400),  # nested past what the JSON parser can take
        (b"\xff\xfe{", 400),
        (b'"a string"', 400),
        (b"{" + b" " * 17_000 + b"}", 413),
        (json.dumps({"credential": "short"}).encode(), 400),
        (json.dumps({"credential": "y" * 43, "ballot": 1}).encode(), 400),
    ]:
        response = post(client, ballot.id, body, content_type=content_type)
        assert response.status_code == status, body[:20]
        assert response.get_json()["message"]
    assert stored() == 0


def test_unknown_and_out_of_range_ballots_are_404(client):
    _, token, _ = factories.credential(factories.ballot())
    body = {"credential": token, "selections": []}
    assert post(client, 99_999, body).status_code == 404
    assert post(client, 2**31, body).status_code == 404
    assert stored() == 0
