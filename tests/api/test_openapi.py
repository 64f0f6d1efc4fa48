"""GET /api/openapi.json describes every /api route, and real answers match its schemas."""

import json
import re

import pytest
from openapi_schema_validator import OAS30Validator
from openapi_spec_validator import validate as validate_spec
from werkzeug.routing import Rule

from civicvote.ballots.models import Ballot
from civicvote.extensions import db
from tests import factories
from tests.api.seed import public_data

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def openapi_path(rule: Rule) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", r"{\1}", rule.rule)


@pytest.fixture
def spec(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    return response.get_json()


def check(spec: dict, path: str, method: str, response) -> None:
    """Validate ``response`` against the schema the spec gives for path, method and status."""
    operation = spec["paths"][path][method.lower()]
    status = str(response.status_code)
    assert status in operation["responses"], (path, method, status, response.data[:300])
    if status == "304":
        return
    schema = operation["responses"][status]["content"]["application/json"]["schema"]
    assert response.mimetype == "application/json"
    document = {"components": spec["components"], "allOf": [schema]}
    OAS30Validator(document).validate(response.get_json())


def test_every_api_route_is_described(app, spec):
    validate_spec(spec)  # a valid OpenAPI 3.0 document
    assert spec["openapi"].startswith("3.0")
    routes = [rule for rule in app.url_map.iter_rules() if rule.rule.startswith("/api")]
    assert routes
    for rule in routes:
        path = openapi_path(rule)
        assert path in spec["paths"], path
        for method in set(rule.methods) - IGNORED_METHODS:
            assert method.lower() in spec["paths"][path], (path, method)
    described = {
        (path, method) for path, operations in spec["paths"].items() for method in operations
    }
    served = {
        (openapi_path(rule), method.lower())
        for rule in routes
        for method in set(rule.methods) - IGNORED_METHODS
    }
    assert described == served  # nothing described that the server does not do


def test_casting_endpoint_is_described(spec):
    post = spec["paths"]["/api/v1/ballots/{ballot_id}/votes"]["post"]
    body = post["requestBody"]["content"]["application/json"]["schema"]
    assert body == {"$ref": "#/components/schemas/VoteRequest"}
    assert {"200", "201", "403", "409", "413", "422"} <= set(post["responses"])
    assert "/api/v1/receipts/{code}" in spec["paths"]


def test_real_answers_match_the_schemas(client, spec):
    data = public_data()
    round_id, place = data["round"].id, data["community"]
    gets = {
        "/api/openapi.json": "/api/openapi.json",
        "/api/v1/communities": "/api/v1/communities",
        "/api/v1/communities/{community_id}": f"/api/v1/communities/{place.id}",
        "/api/v1/rounds": "/api/v1/rounds",
        "/api/v1/rounds/{round_id}": f"/api/v1/rounds/{round_id}",
        "/api/v1/rounds/{round_id}/needs": f"/api/v1/rounds/{round_id}/needs",
        "/api/v1/rounds/{round_id}/proposals": f"/api/v1/rounds/{round_id}/proposals",
        "/api/v1/rounds/{round_id}/ballots": f"/api/v1/rounds/{round_id}/ballots",
        "/api/v1/rounds/{round_id}/funded-projects": f"/api/v1/rounds/{round_id}/funded-projects",
        "/api/v1/rounds/{round_id}/allocation": f"/api/v1/rounds/{round_id}/allocation",
        "/api/v1/proposals/{proposal_id}": f"/api/v1/proposals/{data['project'].id}",
        "/api/v1/ballots/{ballot_id}": f"/api/v1/ballots/{data['live'].id}",
        "/api/v1/receipts/{code}": f"/api/v1/receipts/{data['receipts'][0]}",
    }
    for template, url in gets.items():
        response = client.get(url)
        assert response.status_code == 200, url
        check(spec, template, "GET", response)
        etag = response.headers["ETag"]
        check(spec, template, "GET", client.get(url, headers={"If-None-Match": etag}))
    for ballot in ("hidden", "yes_no", "closed"):
        check(
            spec,
            "/api/v1/ballots/{ballot_id}",
            "GET",
            client.get(f"/api/v1/ballots/{data[ballot].id}"),
        )
    # errors: unknown ids, bad pages, unknown receipt
    for template, url in gets.items():
        if "{" in template:
            bad = re.sub(r"/\d+(/|$)", r"/999999\1", url).replace(data["receipts"][0], "NOPE")
            check(spec, template, "GET", client.get(bad))
    check(spec, "/api/v1/rounds", "GET", client.get("/api/v1/rounds?per_page=0"))
    check(
        spec,
        "/api/v1/rounds/{round_id}/needs",
        "GET",
        client.get(f"/api/v1/rounds/{round_id}/needs?per_page=1"),
    )


def test_casting_answers_match_the_schemas(client, spec):
    ballot = factories.ballot(max_choices=1)
    path = "/api/v1/ballots/{ballot_id}/votes"
    url = f"/api/v1/ballots/{ballot.id}/votes"
    choice = ballot.items[0].proposal_id
    _, token, _ = factories.credential(ballot)

    def post(body):
        raw = body if isinstance(body, str) else json.dumps(body)
        return client.post(url, data=raw, content_type="application/json")

    vote = {"credential": token, "selections": [choice], "idempotency_key": "k1"}
    first = post(vote)
    assert first.status_code == 201
    check(spec, path, "POST", first)
    again = post(vote)
    assert again.status_code == 200
    check(spec, path, "POST", again)
    second = post({**vote, "idempotency_key": "k2"})
    assert second.status_code == 409
    check(spec, path, "POST", second)
    _, other, _ = factories.credential(ballot)
    for body, status in (
        ("not json", 400),
        ({"credential": "x" * 30, "selections": [choice]}, 403),
        ({"credential": other, "selections": [choice, ballot.items[1].proposal_id]}, 422),
        ({"credential": other, "selections": [choice] * 20_000}, 413),
        ({"credential": other, "bogus": 1}, 400),
    ):
        response = post(body)
        assert response.status_code == status, body if isinstance(body, str) else list(body)
        check(spec, path, "POST", response)
    check(
        spec, path, "POST", client.post("/api/v1/ballots/999999/votes", json={"credential": other})
    )
    closed = db.session.get(Ballot, ballot.id)
    closed.status = "closed"
    db.session.commit()
    shut = post({"credential": other, "selections": [choice]})
    assert shut.status_code == 409
    check(spec, path, "POST", shut)
