"""Milestones, spending against budget, supervision and residents' ratings."""

from datetime import date, timedelta

import pytest

from civicvote.audit.models import AuditEvent
from civicvote.delivery import services
from civicvote.errors import Conflict, DomainError, Forbidden, NotFound
from civicvote.extensions import db
from tests.delivery.builders import funded_project, voter_card

TODAY = date.today()


def test_only_finally_funded_proposals_are_projects(app):
    place, proposal, run, _ballot, _staff = funded_project(status="provisional")
    with pytest.raises(NotFound):
        services.get_funded_project(place.id, proposal.id)
    run.status = "final"
    db.session.commit()
    assert services.get_funded_project(place.id, proposal.id)[0] is proposal


def test_project_of_another_community_is_not_found(app):
    place, proposal, *_ = funded_project()
    other, *_ = funded_project()
    with pytest.raises(NotFound):
        services.get_funded_project(other.id, proposal.id)


def test_milestone_is_reported_then_signed_off(app):
    _place, proposal, _run, _ballot, staff = funded_project()
    milestone = services.add_milestone(proposal, "树苗种植", TODAY, actor=staff["member"])
    with pytest.raises(Conflict):
        services.sign_off_milestone(milestone, "ok", actor=staff["supervisor"])
    with pytest.raises(DomainError):
        services.complete_milestone(milestone, TODAY + timedelta(days=3), actor=staff["member"])
    services.complete_milestone(milestone, TODAY, actor=staff["member"])
    services.sign_off_milestone(milestone, "已现场查看", actor=staff["supervisor"])
    assert milestone.signed_off_by_id == staff["supervisor"].id
    with pytest.raises(Conflict):
        services.complete_milestone(milestone, TODAY, actor=staff["member"])
    actions = [e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]
    assert actions == ["milestone.add", "milestone.complete", "milestone.sign_off"]


def test_spending_within_budget_counts_at_once(app):
    _place, proposal, run, _ballot, staff = funded_project()
    allocation = run.projects[0]
    item = proposal.line_items[0]
    entry = services.record_spending(
        proposal,
        allocation,
        spent_on=TODAY,
        item="香樟树苗",
        amount_fen=600_00,
        payee="苗圃",
        line_item_id=item.id,
        fund_source_id=proposal.round.fund_sources[0].id,
        receipt=None,
        actor=staff["member"],
    )
    assert not entry.over_budget
    budget = services.budget_of(proposal, allocation)
    assert budget.total_spent_fen == 600_00
    assert budget.line_items[0]["spent_fen"] == 600_00
    assert budget.sources[0]["spent_fen"] == 600_00 and budget.sources[0]["budget_fen"] == 2000_00


def test_spending_over_a_line_item_waits_for_the_committee(app):
    _place, proposal, run, _ballot, staff = funded_project()
    allocation = run.projects[0]
    item = proposal.line_items[0]
    services.record_spending(
        proposal,
        allocation,
        spent_on=TODAY,
        item="a",
        amount_fen=900_00,
        payee="p",
        line_item_id=item.id,
        fund_source_id=proposal.round.fund_sources[0].id,
        receipt=None,
        actor=staff["member"],
    )
    over = services.record_spending(
        proposal,
        allocation,
        spent_on=TODAY,
        item="b",
        amount_fen=200_00,
        payee="p",
        line_item_id=item.id,
        fund_source_id=proposal.round.fund_sources[0].id,
        receipt=None,
        actor=staff["member"],
    )
    assert over.over_budget
    budget = services.budget_of(proposal, allocation)
    assert budget.total_spent_fen == 900_00 and budget.pending_fen == 200_00
    services.approve_spending(over, actor=staff["supervisor"])
    budget = services.budget_of(proposal, allocation)
    assert budget.total_spent_fen == 1100_00 and budget.pending_fen == 0
    assert budget.line_items[0]["over"] is True  # stays flagged in public
    with pytest.raises(Conflict):
        services.approve_spending(over, actor=staff["supervisor"])


@pytest.mark.parametrize("amount", [0, -5, 10_000_000_001])
def test_absurd_amounts_are_refused(app, amount):
    _place, proposal, run, _ballot, staff = funded_project()
    with pytest.raises(DomainError):
        services.record_spending(
            proposal,
            run.projects[0],
            spent_on=TODAY,
            item="x",
            amount_fen=amount,
            payee="p",
            line_item_id=None,
            fund_source_id=None,
            receipt=None,
            actor=staff["member"],
        )
    assert db.session.scalar(db.select(db.func.count()).select_from(services.SpendingEntry)) == 0


def test_line_item_of_another_project_is_refused(app):
    _place, proposal, run, _ballot, staff = funded_project()
    _other_place, other, *_ = funded_project()
    with pytest.raises(DomainError):
        services.record_spending(
            proposal,
            run.projects[0],
            spent_on=TODAY,
            item="x",
            amount_fen=100,
            payee="p",
            line_item_id=other.line_items[0].id,
            fund_source_id=None,
            receipt=None,
            actor=staff["member"],
        )


def test_ratings_need_a_completion_report_and_a_valid_card(app):
    _place, proposal, _run, ballot, staff = funded_project()
    token, short = voter_card(ballot)
    with pytest.raises(Conflict):
        services.rate_project(proposal, token, 4, "")
    services.submit_completion(proposal, "全部完成", actor=staff["member"])
    with pytest.raises(Forbidden):
        services.rate_project(proposal, "not-a-card", 4, "")
    with pytest.raises(DomainError):
        services.rate_project(proposal, token, 6, "")
    services.rate_project(proposal, token, 2, "座椅太少")
    # One rating per card: rating again changes it.
    services.rate_project(proposal, short, 4, "后来补了")
    summary = services.rating_summary(proposal.id)
    assert summary["count"] == 1 and summary["average"] == 4.0
    assert summary["by_building"] == [{"building": "3栋", "count": 1, "average": 4.0}]


def test_the_whole_card_link_works_as_a_code(app):
    _place, proposal, _run, ballot, staff = funded_project()
    token, _short = voter_card(ballot)
    services.submit_completion(proposal, "完成", actor=staff["member"])
    services.rate_project(proposal, f"http://127.0.0.1:5000/v/{token}", 5, "")
    assert services.rating_summary(proposal.id)["count"] == 1


def test_low_ratings_flag_the_project_and_closing_the_round_locks_them(app):
    _place, proposal, _run, ballot, staff = funded_project()
    services.submit_completion(proposal, "完成", actor=staff["member"])
    for building, score in (("1栋", 1), ("2栋", 2), ("2栋", 3)):
        token, _ = voter_card(ballot, building)
        services.rate_project(proposal, token, score, "")
    summary = services.rating_summary(proposal.id)
    assert summary["average"] == 2.0 and summary["flagged"]
    assert [row["building"] for row in summary["by_building"]] == ["1栋", "2栋"]
    proposal.round.phase = "closed"
    db.session.commit()
    token, _ = voter_card(ballot)
    with pytest.raises(Conflict):
        services.rate_project(proposal, token, 5, "")
