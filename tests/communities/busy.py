"""A community with work waiting for every role: the consoles' tests and their browser seed.

``busy_community()`` builds it through the services where a step has one (paper sheets, double
entry) and with plain rows elsewhere, and returns the staff and what each console must count.
"""

from datetime import date, datetime, timedelta
from decimal import Decimal

from civicvote.accounts.models import CLERK, ORG_MEMBER, ORGANIZER, REVIEWER, SUPERVISOR
from civicvote.delivery.models import CompletionReport, SpendingEntry
from civicvote.extensions import db
from civicvote.proposals.models import LineItem, Milestone
from civicvote.results.models import AllocationRun, Objection, ProjectAllocation
from civicvote.timeutil import utcnow
from civicvote.voting import paper, paper_sheets
from tests import factories

# What each console must show for the community busy_community() builds.
EXPECTED = {
    "triage": 3,  # new needs of the current round
    "proposals_in_review": 2,
    "ballots": 2,  # an open ballot and one being set up; last year's is closed
    "objections": 2,  # open; a third is answered
    "assemblies": 1,  # the open ballot's; last year's is over
    "sheets_waiting": 1,  # entered once
    "disputes": 1,  # entered differently by two clerks
    "approvals": 1,  # an over-budget payment; another was approved
    "sign_offs": 2,  # a reached milestone and a completion report
    "own_proposals": 2,  # the organization's draft and the one sent back
}


def _funded_project(place, org):
    """Last year's round: a closed ballot, a final allocation funding one of ``org``'s
    proposals, and its delivery half done."""
    last_year = factories.funding_round(place, name="2025年度", year=2025, phase="delivery")
    project = factories.proposal(
        last_year, cost_fen=2000_00, title="中心花园补绿", organization_id=org.id
    )
    project.implementer = org.name
    project.line_items = [
        LineItem(
            position=0,
            description="树苗",
            quantity=Decimal(10),
            unit="棵",
            unit_cost_fen=200_00,
            total_fen=2000_00,
        )
    ]
    ballot = factories.ballot(last_year, proposals=[project], status="closed", title="2025年投票")
    factories.assembly(ballot, title="2025年议事会", starts_at=utcnow() - timedelta(days=200))
    source = last_year.fund_sources[0]
    run = AllocationRun(
        round_id=last_year.id, ballot_id=ballot.id, rule="greedy", tie_break="cost", status="final"
    )
    run.projects = [
        ProjectAllocation(
            proposal_id=project.id,
            rank=1,
            votes=10,
            funded=True,
            amount_fen=2000_00,
            funding_by_source={str(source.id): 2000_00},
        )
    ]
    run.objections = [
        Objection(text="为什么没有选中加装电梯？", status="open"),
        Objection(text="投票时间太短。", status="open"),
        Objection(text="金额写错了。", status="answered", answer="已更正。"),
    ]
    db.session.add(run)
    _delivery_half_done(project, source)
    db.session.commit()
    return last_year, project


def _delivery_half_done(project, source):
    today = date.today()
    db.session.add_all(
        [
            Milestone(
                proposal_id=project.id, title="树苗种植", planned_date=today, actual_date=today
            ),
            Milestone(
                proposal_id=project.id,
                title="开工",
                planned_date=today,
                actual_date=today,
                signed_off_at=utcnow(),
            ),
            SpendingEntry(
                proposal_id=project.id,
                fund_source_id=source.id,
                spent_on=today,
                item="加购树苗",
                amount_fen=500_00,
                payee="苗圃",
                over_budget=True,
            ),
            SpendingEntry(
                proposal_id=project.id,
                fund_source_id=source.id,
                spent_on=today,
                item="土方",
                amount_fen=300_00,
                payee="施工队",
                over_budget=True,
                approved_at=utcnow(),
            ),
            CompletionReport(proposal_id=project.id, text="全部完成。"),
        ]
    )


def _this_year(place, org):
    """This year's round, voting: needs, proposals at every stage, an open mixed ballot."""
    this_year = factories.funding_round(place, name="2026年度", phase="ballot")
    for status in ("new", "new", "new", "accepted", "declined"):
        factories.need(place, this_year, status=status)
    approved = [factories.proposal(this_year, title=f"已通过{i}") for i in range(2)]
    for i in range(2):
        factories.proposal(this_year, title=f"待评审{i}", status="submitted", version=1)
    factories.proposal(this_year, title="草稿", status="draft", organization_id=org.id)
    factories.proposal(
        this_year, title="退回修改", status="returned", organization_id=org.id, version=1
    )
    ballot = factories.ballot(this_year, proposals=approved, mode="mixed", title="2026年投票")
    factories.ballot(this_year, proposals=approved, status="draft", title="补充投票")
    # A fixed time keeps the committed screenshots still; the open ballot keeps it upcoming.
    factories.assembly(ballot, title="2026年议事会", starts_at=datetime(2026, 12, 19, 1, 30))
    return this_year, ballot


def _paper_ballots(place, ballot, staff):
    """Two sheets handed over: one entered once, one entered differently by two clerks."""
    # One resident of each household: the round votes by household.
    residents = [h.residents[0] for h in factories.registry(place, buildings=1, rooms=2)]
    batch = paper_sheets.print_sheets(ballot, 4, "busy", actor=staff["organizer"]).batch
    numbers = paper_sheets.batch_numbers(batch)
    first, second = (item.proposal_id for item in ballot.items)
    for resident in residents[:2]:
        paper.hand_over(ballot.id, resident.id, clerk=staff["clerk"])
    paper.enter_sheet(ballot.id, numbers[0], {"selections": [first]}, clerk=staff["clerk"])
    paper.enter_sheet(ballot.id, numbers[1], {"selections": [first]}, clerk=staff["clerk"])
    paper.enter_sheet(ballot.id, numbers[1], {"selections": [second]}, clerk=staff["clerk2"])
    return numbers


def busy_community(slug: str = "busy"):
    """Build the community; returns (community, staff by role name, facts for the tests)."""
    place = factories.community(slug=slug, name="忙碌社区")
    org = factories.organization(name="邻里互助社工")
    roles = {
        "organizer": [ORGANIZER],
        "reviewer": [REVIEWER],
        "clerk": [CLERK],
        "clerk2": [CLERK],
        "supervisor": [SUPERVISOR],
        "member": [ORG_MEMBER],
        "several": [ORGANIZER, SUPERVISOR],
    }
    staff = {
        name: factories.user(
            f"{slug}-{name}",
            roles=[(place, role) for role in held],
            display_name=name,
            organization_id=org.id if name == "member" else None,
        )
        for name, held in roles.items()
    }
    last_year, project = _funded_project(place, org)
    this_year, ballot = _this_year(place, org)
    numbers = _paper_ballots(place, ballot, staff)
    facts = {"project": project.id, "ballot": ballot.id, "disputed": numbers[1]}
    return place, staff, facts
