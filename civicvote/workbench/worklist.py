"""What waits for each role in a community: the counts and links of the role consoles.

Plain functions over the database, called by the console page and the tests alike. Which role
sees which task is ``accounts.tasks.ROLE_TASKS`` (the same table the views check), so a console
lists only pages its reader may open. Each task says how many things wait there (``count``; None
where the task is a place to go rather than a queue) and links the waiting things themselves
(``items``, at most ``ITEM_LIMIT``; the task's own page lists them all).
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask_babel import format_datetime
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from ..accounts.models import CLERK, ORG_MEMBER, ORGANIZER, REVIEWER, SUPERVISOR
from ..accounts.tasks import ROLE_ORDER, ROLE_TASKS
from ..ballots.models import Ballot, PaperBallotEntry
from ..checkin.models import Assembly
from ..delivery.models import CompletionReport, SpendingEntry
from ..delivery.services import funded_projects
from ..extensions import db
from ..intake.models import Need
from ..proposals.models import Milestone, Proposal
from ..results.models import AllocationRun, Objection
from ..rounds.models import FundingRound
from ..rounds.services import current_round, round_for_needs
from ..timeutil import utcnow
from ..voting.paper import disputes

ITEM_LIMIT = 8  # waiting things linked one by one; the task's page lists the rest

ROLE_TITLES = {
    ORGANIZER: _l("Organizer console"),
    REVIEWER: _l("Reviewer console"),
    CLERK: _l("Clerk console"),
    SUPERVISOR: _l("Supervisory committee console"),
    ORG_MEMBER: _l("Social organization console"),
}


@dataclass(frozen=True)
class Link:
    """A page to open: its endpoint and the values of its address besides the community."""

    label: str
    endpoint: str
    values: dict = field(default_factory=dict)
    note: str = ""


@dataclass(frozen=True)
class Task:
    """One task of a console: a heading, how many things wait, where they are."""

    key: str
    title: str
    link: Link
    count: int | None = None
    items: tuple[Link, ...] = ()
    more: int = 0  # waiting things not linked one by one (see ``link``)


@dataclass(frozen=True)
class Section:
    """One role's part of the console."""

    role: str
    title: str
    tasks: tuple[Task, ...]

    @property
    def waiting(self) -> int:
        return sum(task.count or 0 for task in self.tasks)


def _task(key, title, link, count=None, items=()) -> Task:
    items = tuple(items)
    return Task(key, str(title), link, count, items[:ITEM_LIMIT], max(0, len(items) - ITEM_LIMIT))


# --------------------------------------------------------------------------- the queries


def _rounds(community) -> list[FundingRound]:
    return list(community.rounds)


def _round_ids(community):
    return select(FundingRound.id).where(FundingRound.community_id == community.id)


def needs_to_triage(community) -> int:
    """New needs of the current round, the ones triage opens on."""
    funding_round = current_round(community)
    if funding_round is None:
        return 0
    query = select(func.count(Need.id)).filter_by(round_id=funding_round.id, status="new")
    return db.session.scalar(query) or 0


def proposals_in_review(community) -> list[Proposal]:
    """Submitted proposals of the community's rounds, waiting for a reviewer's decision."""
    query = (
        select(Proposal)
        .where(Proposal.round_id.in_(_round_ids(community)), Proposal.status == "submitted")
        .order_by(Proposal.id)
    )
    return list(db.session.scalars(query))


def ballots_in_progress(community) -> list[Ballot]:
    """Ballots not yet closed: being set up, open or paused."""
    query = (
        select(Ballot)
        .where(Ballot.round_id.in_(_round_ids(community)), Ballot.status != "closed")
        .order_by(Ballot.id)
    )
    return list(db.session.scalars(query))


def paper_ballots_open(community) -> list[Ballot]:
    """Ballots taking paper ballots now (open or paused, not online only)."""
    return [b for b in ballots_in_progress(community) if b.status != "draft" and b.mode != "online"]


def sheets_waiting(ballot_ids) -> int:
    """Paper sheets entered once and waiting for a second clerk."""
    if not ballot_ids:
        return 0
    query = select(func.count(func.distinct(PaperBallotEntry.sheet_number))).where(
        PaperBallotEntry.ballot_id.in_(ballot_ids), PaperBallotEntry.status == "pending"
    )
    return db.session.scalar(query) or 0


def disputed_sheets(community) -> list[tuple[Ballot, object]]:
    """Sheets two clerks entered differently, with their ballot: the supervisor decides."""
    query = (
        select(Ballot)
        .where(Ballot.round_id.in_(_round_ids(community)))
        .where(
            Ballot.id.in_(select(PaperBallotEntry.ballot_id).filter_by(status="mismatch")),
        )
        .order_by(Ballot.id)
    )
    return [(b, found) for b in db.session.scalars(query) for found in disputes(b.id)]


def open_objections(community) -> list[tuple[FundingRound, int]]:
    """Rounds with objections not answered yet, and how many each has."""
    query = (
        select(AllocationRun.round_id, func.count(Objection.id))
        .join(Objection, Objection.run_id == AllocationRun.id)
        .where(AllocationRun.round_id.in_(_round_ids(community)), Objection.status == "open")
        .group_by(AllocationRun.round_id)
        .order_by(AllocationRun.round_id)
    )
    return [(db.session.get(FundingRound, rid), n) for rid, n in db.session.execute(query)]


def upcoming_assemblies(community) -> list[Assembly]:
    """Assemblies of ballots not closed, or starting from today on, soonest first."""
    today = utcnow().replace(hour=0, minute=0, second=0, microsecond=0)
    query = (
        select(Assembly)
        .join(Ballot, Assembly.ballot_id == Ballot.id)
        .where(Ballot.round_id.in_(_round_ids(community)))
        .where((Ballot.status != "closed") | (Assembly.starts_at >= today))
        .order_by(Assembly.starts_at)
    )
    return list(db.session.scalars(query))


def funded_in(community, organization_id: int | None = None) -> list[Proposal]:
    """The community's funded projects (of one organization when given), by round and rank."""
    found = []
    for funding_round in _rounds(community):
        for allocation in funded_projects(funding_round.id):
            proposal = allocation.proposal
            if organization_id is None or proposal.organization_id == organization_id:
                found.append(proposal)
    return found


def _funded_ids(community) -> list[int]:
    return [p.id for p in funded_in(community)]


def payments_to_approve(community) -> list[SpendingEntry]:
    """Over-budget payments of funded projects waiting for the supervisory committee."""
    ids = _funded_ids(community)
    if not ids:
        return []
    query = (
        select(SpendingEntry)
        .where(SpendingEntry.proposal_id.in_(ids), SpendingEntry.over_budget.is_(True))
        .where(SpendingEntry.approved_at.is_(None))
        .order_by(SpendingEntry.id)
    )
    return list(db.session.scalars(query))


def milestones_to_sign_off(community) -> list[Milestone]:
    """Milestones reported as reached and not signed off yet."""
    ids = _funded_ids(community)
    if not ids:
        return []
    query = (
        select(Milestone)
        .where(Milestone.proposal_id.in_(ids), Milestone.actual_date.is_not(None))
        .where(Milestone.signed_off_at.is_(None))
        .order_by(Milestone.id)
    )
    return list(db.session.scalars(query))


def completions_to_sign_off(community) -> list[CompletionReport]:
    """Completion reports submitted and not signed off yet."""
    ids = _funded_ids(community)
    if not ids:
        return []
    query = (
        select(CompletionReport)
        .where(CompletionReport.proposal_id.in_(ids), CompletionReport.signed_off_at.is_(None))
        .order_by(CompletionReport.id)
    )
    return list(db.session.scalars(query))


def organization_proposals_waiting(community, organization_id: int | None) -> list[Proposal]:
    """The organization's proposals that wait for it: drafts, and those sent back."""
    if organization_id is None:
        return []
    query = (
        select(Proposal)
        .where(Proposal.round_id.in_(_round_ids(community)))
        .where(Proposal.organization_id == organization_id)
        .where(Proposal.status.in_(("draft", "returned")))
        .order_by(Proposal.id)
    )
    return list(db.session.scalars(query))


# --------------------------------------------------------------------------- the tasks


def _proposal_links(proposals) -> list[Link]:
    return [
        Link(p.title, "proposals.console_show", {"proposal_id": p.id}, p.status_label)
        for p in proposals
    ]


def _project_links(proposals) -> list[Link]:
    return [Link(p.title, "delivery.console", {"proposal_id": p.id}) for p in proposals]


def _triage(community, user, role) -> Task:
    link = Link(_l("Open the list of new needs"), "intake.triage")
    return _task("triage", _l("Needs to triage"), link, needs_to_triage(community))


def _enter_needs(community, user, role) -> Task | None:
    if round_for_needs(community) is None:
        return None  # no round collects needs: the form would only send the user back
    link = Link(_l("Enter a need collected offline"), "intake.staff_submit")
    return _task("enter_needs", _l("Needs collected door to door or on paper"), link)


def _review(community, user, role) -> Task:
    waiting = proposals_in_review(community)
    link = Link(_l("All proposals waiting for review"), "proposals.console_index")
    title = _l("Proposals to review")
    return _task("review", title, link, len(waiting), _proposal_links(waiting))


def _proposals(community, user, role) -> Task:
    link = Link(_l("All proposals"), "proposals.console_index")
    if role == ORGANIZER:
        waiting = proposals_in_review(community)
        title = _l("Proposals in review")
        return _task("proposals", title, link, len(waiting), _proposal_links(waiting))
    return _task("proposals", _l("Proposals"), link)


def _ballots(community, user, role) -> Task:
    ballots = ballots_in_progress(community)
    items = [
        Link(b.title, "voting.console_show", {"ballot_id": b.id}, str(b.status_label))
        for b in ballots
    ]
    link = Link(_l("All ballots"), "ballots.console_list")
    # Running the ballots is the organizer's work; clerks and supervisors only go there.
    count = len(ballots) if role == ORGANIZER else None
    return _task("ballots", _l("Ballots in progress"), link, count, items)


def _objections(community, user, role) -> Task:
    waiting = open_objections(community)
    items = [
        Link(r.name, "results.console", {"round_id": r.id}, str(_l("%(n)s open", n=n)))
        for r, n in waiting
    ]
    funding_round = current_round(community)
    link = (
        Link(_l("Allocation and objections"), "results.console", {"round_id": funding_round.id})
        if funding_round
        else Link(_l("All ballots"), "ballots.console_list")
    )
    title = _l("Objections to answer")
    return _task("objections", title, link, sum(n for _r, n in waiting), items)


def _rounds_task(community, user, role) -> Task:
    items = [
        Link(r.name, "rounds.settings", {"round_id": r.id}, str(r.phase_label))
        for r in reversed(_rounds(community))
    ]
    funding_round = current_round(community)
    if funding_round is not None and funding_round.phase != "closed":
        link = Link(_l("Round rules and phase"), "rounds.settings", {"round_id": funding_round.id})
    else:
        link = Link(_l("Start a new round"), "rounds.new_round")
    return _task("rounds", _l("Funding rounds"), link, None, items)


def _registry(community, user, role) -> Task:
    link = Link(_l("Voter registry and cards"), "registry.index")
    return _task("registry", _l("Residents and voter cards"), link)


def _when_and_where(assembly) -> str:
    return f"{format_datetime(assembly.starts_at, 'short')} · {assembly.place}"


def _assemblies(community, user, role) -> Task:
    assemblies = upcoming_assemblies(community)
    items = [
        Link(a.title, "checkin.desk", {"assembly_id": a.id}, _when_and_where(a)) for a in assemblies
    ]
    link = Link(_l("All assemblies"), "checkin.index")
    title = _l("Assemblies: check-in desk and walk-ins")
    return _task("assemblies", title, link, len(assemblies), items)


def _paper_entry(community, user, role) -> Task:
    ballots = paper_ballots_open(community)
    items = [
        Link(b.title, "voting.console_paper", {"ballot_id": b.id}, str(b.status_label))
        for b in ballots
    ]
    link = Link(_l("All ballots"), "ballots.console_list")
    waiting = sheets_waiting([b.id for b in ballots])
    return _task("paper_entry", _l("Paper ballots to enter"), link, waiting, items)


def _paper_disputes(community, user, role) -> Task:
    found = disputed_sheets(community)
    items = [
        Link(
            str(_l("Sheet %(number)s", number=d.label)),
            "voting.paper_dispute",
            {"ballot_id": b.id, "number": d.sheet_number},
            b.title,
        )
        for b, d in found
    ]
    link = Link(_l("All ballots"), "ballots.console_list")
    return _task("paper_disputes", _l("Disputed paper ballots"), link, len(found), items)


def _approvals(community, user, role) -> Task:
    entries = payments_to_approve(community)
    ids = dict.fromkeys(e.proposal_id for e in entries)
    items = _project_links([db.session.get(Proposal, i) for i in ids])
    link = Link(_l("Funded projects"), "delivery.projects", {})
    title = _l("Over-budget payments to approve")
    return _task("approvals", title, link, len(entries), items)


def _sign_offs(community, user, role) -> Task:
    milestones = milestones_to_sign_off(community)
    reports = completions_to_sign_off(community)
    ids = dict.fromkeys([m.proposal_id for m in milestones] + [r.proposal_id for r in reports])
    items = _project_links([db.session.get(Proposal, i) for i in ids])
    link = Link(_l("Funded projects"), "delivery.projects", {})
    title = _l("Milestones and completion reports to sign off")
    return _task("sign_offs", title, link, len(milestones) + len(reports), items)


def _own_proposals(community, user, role) -> Task:
    waiting = organization_proposals_waiting(community, user.organization_id)
    link = Link(_l("Your organization's proposals"), "proposals.console_index")
    title = _l("Your proposals: drafts and those sent back")
    return _task("own_proposals", title, link, len(waiting), _proposal_links(waiting))


def _delivery(community, user, role) -> Task:
    own = role == ORG_MEMBER
    projects = funded_in(community, user.organization_id if own else None)
    link = Link(_l("Funded projects"), "delivery.projects", {})
    title = _l("Your funded projects: delivery") if own else _l("Funded projects: delivery")
    return _task("delivery", title, link, None, _project_links(projects))


def _presenter(community, user, role) -> Task:
    link = Link(_l("Presenter: choose what the screens show"), "board.presenter")
    return _task("presenter", _l("Assembly screens"), link)


# The console's part of each task of accounts.tasks.ROLE_TASKS; tasks without one are actions
# taken on these pages (set up a ballot, decide a sheet), not places of their own. A builder
# answers None when its task has nothing to open in the round's phase.
BUILDERS: dict[str, Callable] = {
    "triage": _triage,
    "enter_needs": _enter_needs,
    "review": _review,
    "proposals": _proposals,
    "ballots": _ballots,
    "objections": _objections,
    "rounds": _rounds_task,
    "registry": _registry,
    "assemblies": _assemblies,
    "paper_entry": _paper_entry,
    "paper_disputes": _paper_disputes,
    "approvals": _approvals,
    "sign_offs": _sign_offs,
    "own_proposals": _own_proposals,
    "delivery": _delivery,
    "presenter": _presenter,
}


def sections(community, user) -> list[Section]:
    """The console of ``user`` in ``community``: one section per role held, in ROLE_ORDER."""
    held = user.roles_in(community.id)
    found = []
    for role in ROLE_ORDER:
        if role not in held:
            continue
        built = (
            BUILDERS[key](community, user, role) for key in ROLE_TASKS[role] if key in BUILDERS
        )
        tasks = tuple(task for task in built if task is not None)
        found.append(Section(role, str(ROLE_TITLES[role]), tasks))
    return found
