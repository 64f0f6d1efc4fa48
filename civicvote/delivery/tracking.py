"""A need's journey: from the resident's request through proposal, ballot, funding and delivery
to completion, as its public page and tracking page show it.

Intake stands below the areas that decide the later stages, so it cannot ask them; delivery,
above them all, tells the journey, and offers it to the need's pages as the template function
``need_journey`` (registered in delivery/views.py).
"""

from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l

from ..ballots.models import Ballot, BallotItem
from ..extensions import db
from ..intake.models import Need
from ..intake.services import proposals_answering, resolve
from ..proposals.models import Milestone
from ..results.models import AllocationRun, ProjectAllocation
from .models import CompletionReport, ProgressUpdate

STAGES = {
    "received": _l("Received"),
    "decided": _l("Triage"),
    "proposal": _l("Costed proposal"),
    "ballot": _l("On the ballot"),
    "funding": _l("Funding decision"),
    "delivery": _l("Delivery"),
    "completed": _l("Completed"),
}


@dataclass
class Stage:
    """One step: ``state`` is "done", "current", "stopped" (the journey ends here) or "ahead"."""

    code: str
    state: str = "ahead"
    details: list = field(default_factory=list)  # (text, link endpoint values or None)

    @property
    def label(self):
        return STAGES[self.code]


def need_journey(need: Need) -> list[Stage]:
    """Every stage of the need (followed through merges), each marked done, current or ahead."""
    need = resolve(need)
    stages = {code: Stage(code) for code in STAGES}
    stages["received"].state = "done"
    if need.status == "new":
        stages["decided"].state = "current"
        return list(stages.values())
    stages["decided"].state = "stopped" if need.status == "declined" else "done"
    if need.status == "declined":
        return list(stages.values())
    proposals = proposals_answering(need)
    stages["proposal"].details = [(p.title, ("proposals.public_show", p.id)) for p in proposals]
    if not proposals:
        stages["proposal"].state = "current"
        return list(stages.values())
    stages["proposal"].state = "done"
    ids = [p.id for p in proposals]
    ballots = _ballots_of(ids)
    if not ballots:
        stages["ballot"].state = "current"
        return list(stages.values())
    stages["ballot"].state = "done"
    stages["ballot"].details = [(title, None) for title in ballots]
    _funding_and_after(stages, ids)
    return list(stages.values())


def _ballots_of(proposal_ids: list[int]) -> list[str]:
    return list(
        db.session.scalars(
            db.select(Ballot.title)
            .join(BallotItem, BallotItem.ballot_id == Ballot.id)
            .where(BallotItem.proposal_id.in_(proposal_ids), Ballot.status != "draft")
            .distinct()
        )
    )


def _funding_and_after(stages: dict, proposal_ids: list[int]) -> None:
    decisions = list(
        db.session.execute(
            db.select(ProjectAllocation, AllocationRun.status)
            .join(AllocationRun, ProjectAllocation.run_id == AllocationRun.id)
            .where(
                ProjectAllocation.proposal_id.in_(proposal_ids),
                AllocationRun.status.in_(("provisional", "final")),
            )
            .order_by(AllocationRun.id.desc())
        ).all()
    )
    if not decisions:
        stages["funding"].state = "current"
        return
    funded = [(a, status) for a, status in decisions if a.funded]
    if not funded:
        stages["funding"].state = "stopped"
        stages["funding"].details = [(_l("Not funded"), None)]
        return
    allocation, status = funded[0]
    stages["funding"].state = "done" if status == "final" else "current"
    stages["funding"].details = [
        (_l("Funded") if status == "final" else _l("Funded, provisional result"), None)
    ]
    if status != "final":
        return
    _delivery(stages, allocation.proposal_id)


def progress_percent(proposal_id: int) -> int:
    """How far a funded project is, from 0 to 100: the one figure its page, the board's funded
    panel and a need's journey all show.

    100 once the supervisory committee has signed off its completion; else the percentage its
    implementer last reported; with no report yet, the share of its milestones reached.
    """
    report = db.session.scalar(db.select(CompletionReport).filter_by(proposal_id=proposal_id))
    if report is not None and report.signed_off_at is not None:
        return 100
    reported = db.session.scalar(
        db.select(ProgressUpdate.percent_complete)
        .filter_by(proposal_id=proposal_id)
        .order_by(ProgressUpdate.created_at.desc(), ProgressUpdate.id.desc())
        .limit(1)
    )
    if reported is not None:
        return reported
    reached = db.session.execute(
        db.select(
            db.func.count(Milestone.id),
            db.func.count(Milestone.actual_date),
        ).filter_by(proposal_id=proposal_id)
    ).one()
    total, done = reached
    return round(100 * done / total) if total else 0


def _delivery(stages: dict, proposal_id: int) -> None:
    percent = progress_percent(proposal_id)
    stages["delivery"].details = [
        (_l("%(percent)s%% done", percent=percent), ("delivery.project", proposal_id))
    ]
    report = db.session.scalar(db.select(CompletionReport).filter_by(proposal_id=proposal_id))
    if report is not None and report.signed_off_at is not None:
        stages["delivery"].state = stages["completed"].state = "done"
    else:
        stages["delivery"].state = "current"
