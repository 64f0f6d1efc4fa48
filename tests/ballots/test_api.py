"""The casting JSON API: statuses, bodies, limits."""

import json

import pytest

from civicvote.ballots.models import Participation
from civicvote.extensions import db
from tests import factories


def count(model) -> int:
    return db.session.scalar(db.select(db.func.count()).select_from(model))


def ids(ballot):
    return [item.proposal_id for item in ballot.items]


def post_vote(client, ballot_id, body, **kwargs):
    data = body if isinstance(body, (str, bytes)) else json.dumps(body)
    return client.post(
        f"/api/v1/ballots/{ballot_id}/votes",
        data=data,
        content_type="application/json",
        **kwargs,
    )


def test_vote_then_retry_then_second_vote(client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    body = {"credential": token, "selections": ids(ballot)[:2], "idempotency_key": "abc"}
    first = post_vote(client, ballot.id, body)
    assert first.status_code == 201
    receipt = first.get_json()["receipt"]
    again = post_vote(client, ballot.id, body)
    assert (again.status_code, again.get_json()) == (200, {"receipt": receipt})
    # Other choices with the same key: a retry of the first vote, which is the one that counts
    # (no hash of the contents is kept to tell them apart, issue 14).
    changed = post_vote(client, ballot.id, {**body, "selections": ids(ballot)[:1]})
    assert (changed.status_code, changed.get_json()) == (200, {"receipt": receipt})
    other = post_vote(client, ballot.id, {**body, "idempotency_key": "other"})
    assert (other.status_code, other.get_json()["error"]) == (409, "already_voted")
    looked_up = client.get(f"/api/v1/receipts/{receipt}")
    assert looked_up.get_json() == {"counted": True, "ballot": ballot.id}
    assert client.get("/api/v1/receipts/ABCDEFGHJKMN").status_code == 404
    assert factories.stored_count() == 1


def test_invalid_ballot_is_422_with_reason(client):
    ballot = factories.ballot(method="knapsack", budget_fen=1_500_000)
    _, token, _ = factories.credential(ballot)
    response = post_vote(client, ballot.id, {"credential": token, "selections": ids(ballot)})
    assert response.status_code == 422
    assert response.get_json()["error"] == "over_budget"
    assert "budget" in response.get_json()["message"] or "预算" in response.get_json()["message"]


def test_closed_ballot_is_409_with_reason(client):
    ballot = factories.ballot(status="closed")
    _, token, _ = factories.credential(ballot)
    response = post_vote(client, ballot.id, {"credential": token, "selections": ids(ballot)[:1]})
    assert (response.status_code, response.get_json()["error"]) == (409, "closed")


def test_refused_cards_are_limited_per_code_and_per_ballot_but_a_valid_card_never(app, client):
    app.config["RATELIMIT_CREDENTIAL"] = "3 per minute"
    app.config["RATELIMIT_CREDENTIAL_BALLOT"] = "5 per minute"
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)

    def vote(credential):
        body = {"credential": credential, "selections": ids(ballot)[:1]}
        return post_vote(client, ballot.id, body)

    responses = [vote("x" * 27) for _ in range(4)]
    assert [r.status_code for r in responses] == [403, 403, 403, 429]
    # The refusal says when to come back (within the minute of the limit).
    assert 1 <= int(responses[-1].headers["Retry-After"]) <= 61
    assert responses[-1].get_json()["error"] == "too_many_requests"
    # Other codes count against the ballot, until it has no failures left.
    assert [vote(code * 27).status_code for code in "yzw"] == [403, 403, 429]
    # A valid card is looked up first and never refused for anyone's mistakes.
    assert vote(token).status_code == 201
    assert count(Participation) == 1


def test_accepted_votes_and_bad_bodies_do_not_use_up_the_limit(app, client):
    app.config["RATELIMIT_CREDENTIAL"] = "2 per minute"
    ballot = factories.ballot()
    for _ in range(3):
        _, token, _ = factories.credential(ballot)
        body = {"credential": token, "selections": ids(ballot)[:1]}
        assert post_vote(client, ballot.id, body).status_code == 201
        assert post_vote(client, ballot.id, {**body, "extra": 1}).status_code == 400
    assert count(Participation) == 3


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[]",
        '"text"',
        {"credential": 12345, "selections": []},
        {"credential": "short", "selections": []},
        {"credential": "a" * 65, "selections": []},
        {"credential": "bad token with spaces!!", "selections": []},
        {"credential": "TOKEN", "selections": [], "extra": 1},
        {"credential": "TOKEN", "selections": [], "idempotency_key": 5},
        {"credential": "TOKEN", "selections": [], "idempotency_key": "k" * 101},
        {"credential": "TOKEN", "selections": "1,2"},
        {"credential": "TOKEN", "selections": [{"id": 1}]},
        {"credential": "TOKEN", "selections": [999999]},
        {"credential": "TOKEN", "selections": ["FIRST", "FIRST"]},
    ],
)
def test_malformed_bodies_are_4xx_and_store_nothing(client, body):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    if isinstance(body, dict):
        body = json.loads(
            json.dumps(body).replace("TOKEN", token).replace('"FIRST"', str(ids(ballot)[0]))
        )
    response = post_vote(client, ballot.id, body)
    assert 400 <= response.status_code < 500
    assert response.is_json
    assert count(Participation) == factories.stored_count() == 0


def test_one_megabyte_body_is_refused(client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    body = json.dumps({"credential": token, "selections": [ids(ballot)[0]] * 400_000})
    assert len(body) > 1_000_000
    response = post_vote(client, ballot.id, body)
    assert response.status_code == 413
    assert count(Participation) == 0


def test_ballot_description(client):
    ballot = factories.ballot(method="knapsack", budget_fen=5_000_000, max_choices=2)
    data = client.get(f"/api/v1/ballots/{ballot.id}").get_json()
    assert data["method"] == "knapsack" and data["status"] == "open"
    assert data["limits"] == {"min": 1, "max": 2, "budget": 5_000_000, "points": None}
    assert [p["id"] for p in data["proposals"]] == ids(ballot)
    assert data["proposals"][0]["cost"] == 1_000_000
    assert client.get("/api/v1/ballots/999999").status_code == 404


def test_a_vote_on_a_lost_connection_is_a_retryable_503_then_counted(postgres_app):
    """The casting statements run on the driver's cursor; a lost connection still gives the
    clear 503 (and the pool a new connection), and the retry with the same key counts."""
    from sqlalchemy import create_engine, text

    from tests.conftest import IsolatedClient

    postgres_app.test_client_class = IsolatedClient
    client = postgres_app.test_client()
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    ballot_id = ballot.id
    body = {"credential": token, "selections": ids(ballot)[:1], "idempotency_key": "k"}
    pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
    db.session.commit()  # the connection goes back to the pool, where the vote finds it
    other = create_engine(db.engine.url)
    with other.begin() as connection:
        connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    other.dispose()
    lost = post_vote(client, ballot_id, body)
    assert lost.status_code == 503 and lost.headers["Retry-After"]
    assert lost.get_json()["error"] == "unavailable"
    again = post_vote(client, ballot_id, body)
    assert again.status_code == 201
    assert count(Participation) == factories.stored_count() == 1
