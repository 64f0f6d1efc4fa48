"""Proposals, organizations and round rules through HTTP."""

import re

import pytest

from civicvote.extensions import db
from civicvote.organizations.models import Organization
from civicvote.proposals.drafts import save_draft
from civicvote.proposals.models import Proposal
from civicvote.proposals.review import submit
from tests import factories


@pytest.fixture
def setup(app):
    community = factories.community(slug="xfl", name="幸福里")
    funding_round = factories.funding_round(community, phase="costing")
    org = factories.organization(name="邻里互助社")
    member = factories.org_member(org, community, "member")
    factories.user("reviewer", roles=[(community, "reviewer")])
    need = factories.need(community, funding_round, title="3号楼扶手")
    return community, funding_round, member, need


def _proposal_form(client, url):
    page = client.get(url).get_data(as_text=True)
    nonce = re.search(r'name="nonce" type="hidden" value="([^"]+)"', page)
    return factories.csrf_token(page), (nonce.group(1) if nonce else "")


def _data(token, nonce, need, **extra):
    data = {
        "csrf_token": token,
        "nonce": nonce,
        "title": "楼道扶手",
        "summary": "为3号楼加装扶手。",
        "category": "elderly",
        "needs": [str(need.id)],
        "beneficiaries_count": "120",
        "items-0-description": "不锈钢扶手",
        "items-0-quantity": "120",
        "items-0-unit": "米",
        "items-0-unit_cost": "180.50",
        "items-1-description": "",
        "items-1-quantity": "",
        "items-1-unit": "",
        "items-1-unit_cost": "",
        "milestones-0-title": "采购",
        "milestones-0-planned_date": "2027-03-01",
    }
    data.update(extra)
    return data


def test_member_drafts_and_submits(client, setup):
    _, _, member, need = setup
    factories.login(client, "member")
    token, nonce = _proposal_form(client, "/console/c/xfl/proposals/new")
    data = _data(token, nonce, need)
    response = client.post("/console/c/xfl/proposals/new", data=data)
    assert response.status_code == 302
    again = client.post("/console/c/xfl/proposals/new", data=data)  # double submit
    assert again.headers["Location"] == response.headers["Location"]
    proposal = db.session.scalar(db.select(Proposal))
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 1
    assert proposal.total_fen == 2_166_000
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "¥21,660.00" in page
    # Drafts are private: not public, not in the API.
    assert client.get(f"/api/v1/rounds/{proposal.round_id}/proposals").get_json()["proposals"] == []
    token = factories.csrf_token(page)
    response = client.post(
        f"/console/c/xfl/proposals/{proposal.id}/submit",
        data={"csrf_token": token, "expected_version": "0"},
    )
    assert response.status_code == 302
    client.post(
        f"/console/c/xfl/proposals/{proposal.id}/submit",
        data={"csrf_token": token, "expected_version": "0"},
    )
    db.session.refresh(proposal)
    assert proposal.status == "submitted" and proposal.version == 1
    api = client.get(f"/api/v1/rounds/{proposal.round_id}/proposals").get_json()
    assert api["proposals"][0]["total_fen"] == 2_166_000


@pytest.mark.parametrize(
    "extra",
    [
        {"items-0-unit_cost": "abc"},
        {"items-0-unit_cost": "-5"},
        {"items-0-unit_cost": "0"},
        {"items-0-unit_cost": "1.999"},
        {"items-0-unit_cost": "200000000"},
        {"items-0-quantity": "-1"},
        {"title": "x" * 10_000},
        {"title": ""},
        {"category": "forged"},
        {"needs": ["99999"]},
        {"start_date": "2027-05-01", "end_date": "2027-01-01"},
    ],
)
def test_bad_proposals_get_a_message_and_nothing_is_saved(client, setup, extra):
    factories.login(client, "member")
    token, nonce = _proposal_form(client, "/console/c/xfl/proposals/new")
    response = client.post(
        "/console/c/xfl/proposals/new", data=_data(token, nonce, setup[3], **extra)
    )
    assert response.status_code == 422
    assert "field-error" in response.get_data(as_text=True) or "flash-error" in response.get_data(
        as_text=True
    )
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 0


def test_needs_of_another_community_are_refused(client, setup):
    other = factories.community(slug="other")
    other_round = factories.funding_round(other, phase="costing")
    foreign = factories.need(other, other_round)
    factories.login(client, "member")
    token, nonce = _proposal_form(client, "/console/c/xfl/proposals/new")
    response = client.post("/console/c/xfl/proposals/new", data=_data(token, nonce, foreign))
    assert response.status_code == 422
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 0


def test_drafts_are_private_to_the_organization(client, setup):
    community, funding_round, member, need = setup
    proposal = save_draft(
        funding_round, member, {"title": "草稿", "category_code": "elderly"}, need_ids=[need.id]
    )
    other = factories.org_member(factories.organization(), community, "rival")
    assert client.get(f"/c/xfl/proposals/{proposal.id}").status_code == 404
    factories.login(client, "reviewer")
    assert client.get(f"/console/c/xfl/proposals/{proposal.id}").status_code == 404
    assert "草稿" not in client.get("/console/c/xfl/proposals").get_data(as_text=True)
    client.post(
        "/logout",
        data={"csrf_token": factories.csrf_token(client.get("/console").get_data(as_text=True))},
    )
    factories.login(client, other.username)
    assert client.get(f"/console/c/xfl/proposals/{proposal.id}").status_code == 404
    assert client.get(f"/console/c/xfl/proposals/{proposal.id}/edit").status_code == 403


def test_reviewer_returns_then_approves(client, setup):
    _, funding_round, member, need = setup
    proposal = save_draft(
        funding_round,
        member,
        {"title": "扶手", "category_code": "elderly"},
        items=[("扶手", "10", "米", "100")],
        need_ids=[need.id],
    )
    submit(proposal, member)
    factories.login(client, "reviewer")
    page = client.get(f"/console/c/xfl/proposals/{proposal.id}").get_data(as_text=True)
    assert "按本轮规则自动检查" in page
    token = factories.csrf_token(page)
    url = f"/console/c/xfl/proposals/{proposal.id}/review"
    client.post(
        url,
        data={"csrf_token": token, "decision": "return", "comment": "", "expected_version": "1"},
    )
    db.session.refresh(proposal)
    assert proposal.status == "submitted"  # comments are required to return
    client.post(
        url,
        data={
            "csrf_token": token,
            "decision": "return",
            "comment": "请补充人工费",
            "expected_version": "1",
        },
    )
    db.session.refresh(proposal)
    assert proposal.status == "returned"
    save_draft(
        funding_round,
        member,
        {"title": "扶手", "category_code": "elderly"},
        items=[("扶手", "10", "米", "100"), ("人工", "2", "天", "300")],
        need_ids=[need.id],
        proposal=proposal,
    )
    submit(proposal, member)
    client.post(
        url,
        data={"csrf_token": token, "decision": "approve", "comment": "", "expected_version": "2"},
    )
    db.session.refresh(proposal)
    assert proposal.status == "approved"
    public = client.get(f"/c/xfl/proposals/{proposal.id}").get_data(as_text=True)
    assert "请补充人工费" in public and "新增明细：人工" in public
    assert "¥1,600.00" in public


def test_org_members_cannot_review(client, setup):
    _, funding_round, member, need = setup
    proposal = save_draft(
        funding_round,
        member,
        {"title": "扶手", "category_code": "elderly"},
        items=[("扶手", "10", "米", "100")],
        need_ids=[need.id],
    )
    submit(proposal, member)
    factories.login(client, "member")
    token = factories.csrf_token(client.get("/console").get_data(as_text=True))
    response = client.post(
        f"/console/c/xfl/proposals/{proposal.id}/review",
        data={"csrf_token": token, "decision": "approve"},
    )
    assert response.status_code == 403


def test_money_in_english_too(client, setup):
    _, funding_round, member, need = setup
    proposal = save_draft(
        funding_round,
        member,
        {"title": "Rails", "category_code": "elderly"},
        items=[("Rail", "3", "m", "1234.5")],
        need_ids=[need.id],
    )
    submit(proposal, member)
    client.get("/lang/en")
    page = client.get(f"/c/xfl/proposals/{proposal.id}").get_data(as_text=True)
    assert "¥3,703.50" in page and "CN¥" not in page


def test_organization_applies_and_admin_approves(client, setup):
    community = setup[0]
    page = client.get("/organizations/apply").get_data(as_text=True)
    data = {
        "csrf_token": factories.csrf_token(page),
        "name": "绿色家园",
        "registration_number": "52320508MJ0000001X",
        "contact_name": "王",
        "contact_phone": "13800000000",
        "field_of_work": "环保",
    }
    assert client.post("/organizations/apply", data=data).status_code == 302
    assert client.post("/organizations/apply", data=data).status_code == 302  # double submit
    assert (
        db.session.scalar(db.select(db.func.count(Organization.id)).filter_by(name="绿色家园")) == 1
    )
    bad = dict(data, name="<script>", registration_number="x" * 100)
    assert client.post("/organizations/apply", data=bad).status_code == 422
    org = db.session.scalar(db.select(Organization).filter_by(name="绿色家园"))
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    page = client.get(f"/admin/organizations/{org.id}").get_data(as_text=True)
    response = client.post(
        f"/admin/organizations/{org.id}",
        data={
            "csrf_token": factories.csrf_token(page),
            "action": "approve",
            "communities": [str(community.id)],
            "username": "lvse",
            "display_name": "王",
            "password": "",
        },
    )
    assert response.status_code == 200
    text = response.get_data(as_text=True)
    assert "密码只显示这一次" in text
    assert response.headers["Cache-Control"] == "no-store"
    db.session.refresh(org)
    assert org.status == "approved"
    assert client.get(f"/admin/organizations/{org.id}").status_code == 200


def test_round_rules_console(client, setup):
    _, funding_round, _, _ = setup
    factories.user("boss", roles=[(setup[0], "organizer")])
    factories.login(client, "boss")
    url = f"/console/c/xfl/rounds/{funding_round.id}"
    page = client.get(url).get_data(as_text=True)
    token = factories.csrf_token(page)
    base = {"csrf_token": token, "categories": "elderly = 为老服务\ngreening = 环境绿化"}
    for budget, cap in (("abc", ""), ("-1", ""), ("100", "200"), ("1.234", "")):
        response = client.post(url, data=dict(base, budget=budget, cap=cap))
        assert response.status_code == 422
    response = client.post(
        url, data=dict(base, budget="150000", cap="50000", required_documents="报价单")
    )
    assert response.status_code == 302
    db.session.refresh(funding_round)
    assert funding_round.budget_fen == 15_000_000 and funding_round.required_documents == ["报价单"]
    client.post(f"{url}/advance", data={"csrf_token": token, "expected_phase": "costing"})
    client.post(f"{url}/advance", data={"csrf_token": token, "expected_phase": "costing"})
    db.session.refresh(funding_round)
    assert funding_round.phase == "review"
