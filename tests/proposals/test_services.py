"""Proposals through the service functions: money, drafting, submission, review, versions."""

from decimal import Decimal

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.errors import Conflict, DomainError, Forbidden, InvalidTransition
from civicvote.extensions import db
from civicvote.money import line_total, parse_quantity, parse_yuan
from civicvote.organizations import services as orgs
from civicvote.proposals import access, checks, drafts, listing, review, versions
from civicvote.proposals.models import LineItem, Proposal
from civicvote.rounds import services as rounds
from tests import factories


@pytest.mark.parametrize(
    "text, fen",
    [("1", 100), ("35.5", 3550), ("¥1,234.56", 123456), (" 0.01 ", 1), ("100000000", 10**10)],
)
def test_yuan_are_parsed_into_fen(text, fen):
    assert parse_yuan(text) == fen


@pytest.mark.parametrize(
    "text",
    ["", "abc", "1e3x", "-5", "0", "0.00", "1.234", "100000000.01", "NaN", "Infinity", "1" * 30],
)
def test_bad_money_is_refused(text):
    with pytest.raises(DomainError):
        parse_yuan(text)


@pytest.mark.parametrize("text", ["0", "-1", "x", "1.005", "1000001"])
def test_bad_quantities_are_refused(text):
    with pytest.raises(DomainError):
        parse_quantity(text)


def test_line_totals_round_half_up_to_whole_fen():
    assert line_total(Decimal("2.5"), 333) == 833  # 832.5 fen
    assert line_total(Decimal("3"), 18000) == 54000


@pytest.fixture
def setup(app):
    community = factories.community()
    funding_round = factories.funding_round(community, phase="costing")
    org = factories.organization()
    member = factories.org_member(org, community)
    reviewer = factories.user(roles=[(community, "reviewer")])
    need = factories.need(community, funding_round)
    return community, funding_round, member, reviewer, need


def test_draft_totals_are_computed_by_the_server(setup):
    _, funding_round, member, _, need = setup
    proposal = factories.draft(
        funding_round,
        member,
        needs=[need],
        items=[("扶手", "120", "米", "180"), ("人工", "2.5", "天", "333.33"), ("", "", "", "")],
    )
    assert [i.total_fen for i in proposal.line_items] == [2_160_000, 83_333]
    assert proposal.total_fen == 2_243_333
    assert proposal.status == "draft" and proposal.version == 0
    assert not proposal.is_public


@pytest.mark.parametrize(
    "item",
    [
        ("扶手", "-1", "米", "180"),
        ("扶手", "0", "米", "180"),
        ("扶手", "1", "米", "-180"),
        ("扶手", "1", "米", "abc"),
        ("扶手", "1", "米", "1.234"),
        ("扶手", "1", "米", "100000001"),
        ("扶手", "1000", "米", "100000000"),  # the line total is absurd
        ("", "1", "米", "180"),
    ],
)
def test_bad_line_items_save_nothing(setup, item):
    _, funding_round, member, _, need = setup
    with pytest.raises(DomainError) as caught:
        factories.draft(funding_round, member, needs=[need], items=[item])
    assert "1" in str(caught.value.message)  # names the line
    db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 0
    assert db.session.scalar(db.select(db.func.count(LineItem.id))) == 0


def test_bad_fields_are_refused(setup):
    _, funding_round, member, _, need = setup
    for fields in (
        {"title": ""},
        {"title": "x" * 10_000},
        {"category_code": "forged"},
        {"summary": "x" * 10_000},
        {"beneficiaries_count": -3},
    ):
        with pytest.raises(DomainError):
            factories.draft(funding_round, member, needs=[need], **fields)
        db.session.rollback()
    assert db.session.scalar(db.select(db.func.count(Proposal.id))) == 0


def test_needs_of_another_community_or_not_accepted_are_refused(setup):
    _, funding_round, member, _, _ = setup
    other = factories.community()
    other_round = factories.funding_round(other, phase="costing")
    foreign = factories.need(other, other_round)
    with pytest.raises(DomainError):
        factories.draft(funding_round, member, needs=[foreign])
    db.session.rollback()
    waiting = factories.need(funding_round.community, funding_round, status="new")
    with pytest.raises(DomainError):
        factories.draft(funding_round, member, needs=[waiting])


def test_only_organization_members_draft_and_only_their_own(setup):
    community, funding_round, member, reviewer, need = setup
    with pytest.raises(Forbidden):
        factories.draft(funding_round, reviewer, needs=[need])
    proposal = factories.draft(funding_round, member, needs=[need])
    other_member = factories.org_member(factories.organization(), community)
    with pytest.raises(Forbidden):
        drafts.save_draft(
            funding_round,
            other_member,
            {"title": "x", "category_code": "elderly"},
            proposal=proposal,
        )
    assert access.can_view(member, proposal)
    assert not access.can_view(other_member, proposal)
    assert not access.can_view(None, proposal)


def test_double_submit_of_a_new_draft_makes_one(setup):
    _, funding_round, member, _, need = setup
    data = {"title": "扶手", "category_code": "elderly"}
    first = drafts.save_draft(funding_round, member, data, submission_key="n" * 30)
    second = drafts.save_draft(funding_round, member, data, submission_key="n" * 30)
    assert first.id == second.id


def test_submit_freezes_a_version_with_checks(setup):
    _, funding_round, member, _, need = setup
    proposal = factories.draft(funding_round, member, needs=[need])
    review.submit(proposal, member, expected_version=0)
    assert proposal.status == "submitted" and proposal.version == 1
    assert proposal.is_public
    version = proposal.versions[0]
    assert version.snapshot["total_fen"] == proposal.total_fen
    assert all(check["ok"] for check in version.snapshot["checks"])
    # The same button clicked twice: no second version.
    review.submit(proposal, member, expected_version=0)
    assert proposal.version == 1 and len(proposal.versions) == 1
    assert db.session.scalar(db.select(AuditEvent).filter_by(action="proposal.submit")).public


def test_submit_needs_items_and_needs(setup):
    _, funding_round, member, _, need = setup
    empty = factories.draft(funding_round, member, needs=[need], items=[])
    with pytest.raises(DomainError):
        review.submit(empty, member)
    no_needs = factories.draft(funding_round, member, needs=[])
    with pytest.raises(DomainError):
        review.submit(no_needs, member)


def test_automatic_checks_catch_cap_budget_category_documents(setup):
    _, funding_round, member, reviewer, need = setup
    rounds.update_rules(
        funding_round,
        budget_fen=5_000_000,
        per_project_cap_fen=1_000_000,
        categories=[("elderly", "为老服务")],
        required_documents=["报价单"],
    )
    proposal = factories.draft(
        funding_round, member, needs=[need], items=[("电梯", "1", "台", "60000")]
    )
    review.submit(proposal, member)
    failed = {c["code"] for c in checks.automatic_checks(proposal) if not c["ok"]}
    assert failed == {"cap", "budget", "documents"}
    with pytest.raises(DomainError) as caught:
        review.review(proposal, reviewer, "approve")
    assert caught.value.code == "checks"
    assert proposal.status == "submitted"


def test_return_revise_resubmit_then_approve_keeps_every_version(setup):
    _, funding_round, member, reviewer, need = setup
    proposal = factories.draft(funding_round, member, needs=[need])
    review.submit(proposal, member)
    with pytest.raises(DomainError):
        review.review(proposal, reviewer, "return", "")  # comments are required
    review.review(proposal, reviewer, "return", "请补充安装人工费用")
    assert proposal.status == "returned"
    drafts.save_draft(
        funding_round,
        member,
        {"title": "楼道扶手（修订）", "category_code": "elderly"},
        items=[("不锈钢扶手", "120", "米", "180"), ("安装人工", "24", "单元", "250")],
        need_ids=[need.id],
        proposal=proposal,
    )
    review.submit(proposal, member, expected_version=1)
    assert proposal.version == 2 and len(proposal.versions) == 2
    history = versions.version_history(proposal)
    labels = [str(change["label"]) for change in history[1]["changes"]]
    assert any("安装人工" in label for label in labels)
    assert any(change["after"] == "楼道扶手（修订）" for change in history[1]["changes"])
    # A stale decision on version 1 is refused; the right one is recorded.
    with pytest.raises(Conflict):
        review.review(proposal, reviewer, "approve", expected_version=1)
    review.review(proposal, reviewer, "approve", expected_version=2)
    assert proposal.status == "approved"
    assert [r.decision for r in proposal.reviews] == ["return", "approve"]
    actions = db.session.scalars(
        db.select(AuditEvent.action)
        .filter(AuditEvent.action.like("proposal.%"))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == [
        "proposal.create",
        "proposal.submit",
        "proposal.return",
        "proposal.edit",
        "proposal.submit",
        "proposal.approve",
    ]
    # Cost edits are in the log with before and after totals.
    edit = db.session.scalar(db.select(AuditEvent).filter_by(action="proposal.edit"))
    assert edit.before["total_fen"] == 2_160_000 and edit.after["total_fen"] == 2_760_000
    with pytest.raises(Conflict):
        drafts.save_draft(
            funding_round, member, {"title": "x", "category_code": "elderly"}, proposal=proposal
        )


def test_reject_with_public_reason(setup):
    _, funding_round, member, reviewer, need = setup
    proposal = factories.draft(funding_round, member, needs=[need])
    review.submit(proposal, member)
    review.review(proposal, reviewer, "reject", "与去年项目重复")
    assert proposal.status == "rejected" and proposal.rejection_reason == "与去年项目重复"
    assert listing.proposal_json(proposal)["rejection_reason"] == "与去年项目重复"


@pytest.mark.parametrize(
    "start, target, allowed",
    [
        ("draft", "submitted", True),
        ("draft", "approved", False),
        ("submitted", "approved", True),
        ("submitted", "draft", False),
        ("returned", "submitted", True),
        ("returned", "approved", False),
        ("approved", "submitted", False),
        ("rejected", "submitted", False),
        ("withdrawn", "submitted", False),
    ],
)
def test_state_machine(start, target, allowed):
    proposal = Proposal(status=start)
    if allowed:
        proposal.change_status(target)
        assert proposal.status == target
    else:
        with pytest.raises(InvalidTransition):
            proposal.change_status(target)


def test_public_pages_show_the_submitted_version_not_edits_in_progress(setup):
    _, funding_round, member, reviewer, need = setup
    proposal = factories.draft(funding_round, member, needs=[need])
    review.submit(proposal, member)
    review.review(proposal, reviewer, "return", "请修改")
    drafts.save_draft(
        funding_round,
        member,
        {"title": "修改中", "category_code": "elderly"},
        items=[("扶手", "1", "米", "1")],
        need_ids=[need.id],
        proposal=proposal,
    )
    assert versions.public_snapshot(proposal)["title"] == "楼道扶手"
    assert listing.proposal_json(proposal)["title"] == "楼道扶手"


def test_drafts_are_left_out_of_the_public_list(setup):
    _, funding_round, member, _, need = setup
    factories.draft(funding_round, member, needs=[need], title="草稿")
    submitted = factories.draft(funding_round, member, needs=[need], title="已提交")
    review.submit(submitted, member)
    assert [p.title for p in listing.public_proposals(funding_round)] == ["已提交"]


def test_organization_apply_approve_creates_member_accounts(app):
    community = factories.community()
    admin = factories.user(is_admin=True)
    org = orgs.apply(
        name="邻里互助社",
        registration_number="52320508mj7654321x",
        contact_name="陈晓",
        contact_phone="0512-65000000",
    )
    assert org.status == "pending" and org.registration_number == "52320508MJ7654321X"
    again = orgs.apply(
        name="邻里互助社",
        registration_number="52320508MJ7654321X",
        contact_name="陈晓",
        contact_phone="0512-65000000",
    )
    assert again.id == org.id
    user, password = orgs.approve(
        org, community_ids=[community.id], username="linli", display_name="陈晓", actor=admin
    )
    assert org.status == "approved" and len(password) >= 10
    assert user.check_password(password)
    assert user.organization_id == org.id
    assert user.roles_in(community.id) == {"org_member"}
    with pytest.raises(Conflict):
        orgs.approve(org, community_ids=[community.id], username="x2", actor=admin)


def test_organization_approval_failure_leaves_it_pending(app):
    community = factories.community()
    factories.user("taken")
    org = orgs.apply(name="A", registration_number="1", contact_name="c", contact_phone="1")
    with pytest.raises(Conflict):
        orgs.approve(org, community_ids=[community.id], username="taken")
    db.session.refresh(org)
    assert org.status == "pending"


def test_round_rules_and_phase(setup):
    community, funding_round, member, _, need = setup
    organizer = factories.user(roles=[(community, "organizer")])
    with pytest.raises(DomainError):
        rounds.parse_categories("bad code = 名字")
    with pytest.raises(Conflict):  # elderly is used by a need
        rounds.update_rules(
            funding_round,
            budget_fen=100,
            per_project_cap_fen=None,
            categories=[("greening", "绿化")],
            required_documents=[],
        )
    db.session.rollback()
    with pytest.raises(DomainError):
        rounds.update_rules(
            funding_round,
            budget_fen=100,
            per_project_cap_fen=200,
            categories=[("elderly", "为老")],
            required_documents=[],
        )
    db.session.rollback()
    phase = rounds.advance_phase(funding_round, expected_phase="costing", actor=organizer)
    assert phase == "review"
    with pytest.raises(Conflict):  # a second click of the same button
        rounds.advance_phase(funding_round, expected_phase="costing", actor=organizer)
