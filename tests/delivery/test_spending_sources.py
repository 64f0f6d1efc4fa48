"""Spending is charged only to a fund source that paid for the project, within what it gave;
the totals by line item, by fund source and in the round's report always agree.

On the old code a payment charged to a fund that gave ¥0 was accepted (and one charged to no
fund at all), the project page's two totals then differed and the report counted payments still
waiting for approval: every test here fails there.
"""

from datetime import date

import pytest

from civicvote.delivery import services
from civicvote.errors import DomainError
from civicvote.extensions import db
from civicvote.reports.services import delivery as report_delivery
from civicvote.reports.services import money as report_money
from civicvote.rounds.models import FundSource
from tests.delivery.builders import funded_project

TODAY = date.today()


@pytest.fixture
def project(app):
    """A ¥2,000 project paid ¥1,500 by the community fund and ¥500 by a foundation; the
    children's fund gave it nothing."""
    place, proposal, run, _ballot, staff = funded_project()
    funding_round = proposal.round
    general = funding_round.fund_sources[0]
    foundation = FundSource(
        round_id=funding_round.id, name="社区基金会", kind="foundation", amount_fen=5000_00
    )
    children = FundSource(
        round_id=funding_round.id, name="儿童基金", kind="restricted", amount_fen=5000_00
    )
    db.session.add_all([foundation, children])
    db.session.flush()
    allocation = run.projects[0]
    allocation.funding_by_source = {
        str(general.id): 1500_00,
        str(foundation.id): 500_00,
        str(children.id): 0,
    }
    db.session.commit()
    return place, proposal, allocation, staff, (general, foundation, children)


def _pay(proposal, allocation, staff, source, amount_fen, item=0):
    return services.record_spending(
        proposal,
        allocation,
        spent_on=TODAY,
        item="支出",
        amount_fen=amount_fen,
        payee="供应商",
        line_item_id=proposal.line_items[item].id if item is not None else None,
        fund_source_id=source.id if source else None,
        receipt=None,
        actor=staff["member"],
    )


def _entries() -> int:
    return db.session.scalar(db.select(db.func.count(services.SpendingEntry.id)))


def test_a_fund_that_did_not_pay_is_refused(project):
    _place, proposal, allocation, staff, (_general, _foundation, children) = project
    with pytest.raises(DomainError) as refused:
        _pay(proposal, allocation, staff, children, 500_00)
    assert refused.value.code == "source_not_funding"
    assert "儿童基金" in str(refused.value.message)
    db.session.rollback()
    with pytest.raises(DomainError) as unstated:
        _pay(proposal, allocation, staff, None, 500_00)
    assert unstated.value.code == "no_source"
    db.session.rollback()
    assert _entries() == 0


def test_a_fund_pays_only_up_to_what_it_allocated(project):
    _place, proposal, allocation, staff, (general, foundation, _children) = project
    _pay(proposal, allocation, staff, foundation, 400_00)
    with pytest.raises(DomainError) as refused:
        _pay(proposal, allocation, staff, foundation, 100_01)
    assert refused.value.code == "source_exhausted"
    db.session.rollback()
    _pay(proposal, allocation, staff, foundation, 100_00)  # exactly what is left
    # Over a line item's budget it waits for approval, and still counts against its fund.
    _pay(proposal, allocation, staff, general, 1100_00, item=1)
    with pytest.raises(DomainError):
        _pay(proposal, allocation, staff, general, 400_01, item=1)
    db.session.rollback()
    assert _entries() == 3


def test_totals_by_line_by_fund_and_in_the_report_agree(project):
    _place, proposal, allocation, staff, (general, foundation, _children) = project
    _pay(proposal, allocation, staff, general, 600_00, item=0)
    _pay(proposal, allocation, staff, foundation, 300_00, item=1)
    _pay(proposal, allocation, staff, general, 150_00, item=None)  # not in the budget: waits
    waiting = _pay(proposal, allocation, staff, general, 500_00, item=0)  # over its line: waits

    def totals():
        budget = services.budget_of(proposal, allocation)
        by_line = sum(row["spent_fen"] for row in budget.line_items)
        by_fund = sum(row["spent_fen"] for row in budget.sources)
        report = report_money(proposal.round)
        in_report = sum(row["spent_fen"] for row in report["sources"])
        (project_row,) = report_delivery(proposal.round)
        return budget.total_spent_fen, by_line, by_fund, in_report, project_row["spent_fen"]

    assert totals() == (900_00,) * 5
    services.approve_spending(waiting, actor=staff["supervisor"])
    assert totals() == (1400_00,) * 5
    budget = services.budget_of(proposal, allocation)
    rows = {row["name"]: (row["budget_fen"], row["spent_fen"]) for row in budget.sources}
    assert rows == {"为民服务专项资金": (1500_00, 1100_00), "社区基金会": (500_00, 300_00)}
