"""Garbage sent to every form of the area gets a 4xx or a redirect, never a 500."""

import pytest

from civicvote.proposals.drafts import save_draft
from civicvote.proposals.review import submit
from tests import factories

GARBAGE = {
    "title": "<script>alert(1)</script>" * 400,
    "summary": "😀𠀀\u202e" * 3000,
    "category": "../../etc",
    "needs": ["abc", "-1", "99999999999999999999"],
    "beneficiaries_count": "1e9999",
    "start_date": "2027-13-45",
    "end_date": "yesterday",
    "items-0-description": "x" * 5000,
    "items-0-quantity": "NaN",
    "items-0-unit_cost": "Infinity",
    "items-1-quantity": "１２",
    "items-1-unit_cost": "1,2,3",
    "items-99999999999999999999-description": "y",
    "milestones-0-planned_date": "0000-00-00",
    "decision": "approve'; DROP TABLE proposals;--",
    "comment": "\x00\x01",
    "expected_version": "-99999999999999999999",
    "expected_phase": "closed",
    "channel": "paper",
    "reason": "",
    "action": "merge",
    "merge-target": "abc",
    "decline-reason": "x" * 5000,
    "budget": "1e10",
    "cap": "--1",
    "categories": "= = =\n" * 50,
    "required_documents": "x" * 2000,
    "communities": ["abc"],
    "username": "root'--",
    "password": "short",
    "code": "\x00",
}


@pytest.fixture
def world(app):
    community = factories.community(slug="xfl")
    funding_round = factories.funding_round(community, phase="costing")
    org = factories.organization()
    member = factories.org_member(org, community, "member")
    need = factories.need(community, funding_round)
    proposal = save_draft(
        funding_round,
        member,
        {"title": "t", "category_code": "elderly"},
        items=[("a", "1", "个", "1")],
        need_ids=[need.id],
    )
    submitted = save_draft(
        funding_round,
        member,
        {"title": "s", "category_code": "elderly"},
        items=[("a", "1", "个", "1")],
        need_ids=[need.id],
    )
    submit(submitted, member)
    factories.user("root", is_admin=True)
    return {
        "round": funding_round.id,
        "need": need.id,
        "draft": proposal.id,
        "submitted": submitted.id,
        "org": org.id,
    }


def _urls(ids):
    return [
        "/c/xfl/needs/new",
        f"/c/xfl/needs/{ids['need']}/support",
        "/console/c/xfl/needs/new",
        f"/console/c/xfl/needs/{ids['need']}",
        "/console/c/xfl/proposals/new",
        f"/console/c/xfl/proposals/{ids['draft']}/edit",
        f"/console/c/xfl/proposals/{ids['draft']}/submit",
        f"/console/c/xfl/proposals/{ids['submitted']}/review",
        f"/console/c/xfl/proposals/{ids['submitted']}/withdraw",
        f"/console/c/xfl/rounds/{ids['round']}",
        f"/console/c/xfl/rounds/{ids['round']}/advance",
        "/organizations/apply",
        f"/admin/organizations/{ids['org']}",
    ]


@pytest.mark.parametrize("username", ["root", "member"])
def test_garbage_never_causes_a_server_error(client, world, username):
    factories.login(client, username)
    token = factories.csrf_token(client.get("/console").get_data(as_text=True))
    for url in _urls(world):
        response = client.post(url, data={"csrf_token": token, **GARBAGE})
        assert response.status_code < 500, url
    for url in (
        "/needs/track?code=%00%FF",
        "/needs/track/" + "Z" * 300,
        "/c/xfl/needs?status=%00&category=%FF&place=" + "p" * 500,
        "/console/c/xfl/proposals/new?need=abc&need=-1",
        "/c/xfl/proposals/999999",
        "/api/v1/rounds/999999/proposals",
        "/api/v1/rounds/1/needs?status=weird",
    ):
        assert client.get(url).status_code < 500, url
