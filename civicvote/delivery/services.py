"""Delivery of funded projects: milestones, progress, spending, supervision and ratings.

A proposal is a *funded project* once a final allocation run funded it. Spending is booked
against the project's line items and fund sources; an entry that takes a line item (or the
project) past its budget waits for the supervisory committee and is flagged in public.
"""

from dataclasses import dataclass, field
from datetime import date

from flask_babel import lazy_gettext as _l

from ..audit.services import record
from ..ballots.models import Ballot
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..i18n import money
from ..money import MAX_FEN
from ..proposals.models import LineItem, Milestone, Proposal
from ..registry.credentials import voter_for_key
from ..registry.models import Credential
from ..results.models import AllocationRun, ProjectAllocation
from ..results.services import credential_for_round
from ..rounds.models import FundSource
from ..timeutil import utcnow
from ..uploads.models import Upload
from .models import CompletionReport, ProgressUpdate, Rating, SpendingEntry

LOW_RATING = 3.0  # an average below this flags the project for the next round's review


def funded_allocation(proposal_id: int) -> ProjectAllocation | None:
    """The funding decision of a final allocation run for this proposal, if it was funded."""
    return db.session.scalar(
        db.select(ProjectAllocation)
        .join(AllocationRun)
        .filter(
            ProjectAllocation.proposal_id == proposal_id,
            ProjectAllocation.funded.is_(True),
            AllocationRun.status == "final",
        )
        .order_by(AllocationRun.id.desc())
        .limit(1)
    )


def funded_projects_query(round_id: int):
    """The funded projects of the round's latest final allocation, by rank, as a query."""
    final_run = (
        db.select(AllocationRun.id)
        .filter_by(round_id=round_id, status="final")
        .order_by(AllocationRun.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    return (
        db.select(ProjectAllocation)
        .where(ProjectAllocation.run_id == final_run, ProjectAllocation.funded.is_(True))
        .order_by(ProjectAllocation.rank, ProjectAllocation.id)
    )


def funded_projects(round_id: int) -> list[ProjectAllocation]:
    return list(db.session.scalars(funded_projects_query(round_id)))


def get_funded_project(community_id: int, proposal_id: int) -> tuple[Proposal, ProjectAllocation]:
    """The proposal and its funding, or NotFound if it is not a funded project of the community."""
    proposal = db.session.get(Proposal, proposal_id)
    if proposal is None or proposal.round.community_id != community_id:
        raise NotFound(_l("No such project."), code="not_found")
    allocation = funded_allocation(proposal_id)
    if allocation is None:
        raise NotFound(_l("This proposal was not funded."), code="not_funded")
    return proposal, allocation


def _community_of(proposal: Proposal) -> int:
    return proposal.round.community_id


def add_milestone(proposal: Proposal, title: str, planned: date | None, *, actor) -> Milestone:
    position = len(proposal.milestones)
    milestone = Milestone(
        proposal_id=proposal.id, title=title, planned_date=planned, position=position
    )
    db.session.add(milestone)
    db.session.flush()
    record(
        "milestone.add",
        "milestone",
        milestone.id,
        actor=actor,
        community_id=_community_of(proposal),
        public=True,
        after={"proposal": proposal.id, "title": title, "planned": planned},
    )
    db.session.commit()
    return milestone


def complete_milestone(milestone: Milestone, actual: date, *, actor) -> Milestone:
    """The implementer reports a milestone reached; the committee signs it off afterwards."""
    if milestone.signed_off_at is not None:
        raise Conflict(_l("This milestone is already signed off."), code="signed_off")
    if actual > date.today():
        raise DomainError(_l("A milestone cannot be reached in the future."), code="future")
    before = {"actual": milestone.actual_date}
    milestone.actual_date = actual
    record(
        "milestone.complete",
        "milestone",
        milestone.id,
        actor=actor,
        community_id=_community_of(milestone.proposal),
        public=True,
        before=before,
        after={"actual": actual},
    )
    db.session.commit()
    return milestone


def sign_off_milestone(milestone: Milestone, comment: str, *, actor) -> Milestone:
    """The supervisory committee confirms a reached milestone, with a public comment."""
    if milestone.actual_date is None:
        raise Conflict(
            _l("The milestone has not been reported as reached yet."), code="not_reached"
        )
    if milestone.signed_off_at is not None:
        raise Conflict(_l("This milestone is already signed off."), code="signed_off")
    milestone.signed_off_by_id = actor.id
    milestone.signed_off_at = utcnow()
    milestone.sign_off_comment = comment
    record(
        "milestone.sign_off",
        "milestone",
        milestone.id,
        actor=actor,
        community_id=_community_of(milestone.proposal),
        public=True,
        after={"comment": comment},
    )
    db.session.commit()
    return milestone


def post_progress(
    proposal: Proposal, text: str, percent: int, *, photo: Upload | None, actor
) -> ProgressUpdate:
    if not 0 <= percent <= 100:
        raise DomainError(_l("Progress is a percentage from 0 to 100."), code="bad_percent")
    update = ProgressUpdate(
        proposal_id=proposal.id,
        text=text,
        percent_complete=percent,
        photo_id=photo.id if photo else None,
        author_id=actor.id,
    )
    db.session.add(update)
    db.session.flush()
    record(
        "progress.post",
        "progress_update",
        update.id,
        actor=actor,
        community_id=_community_of(proposal),
        public=True,
        after={"proposal": proposal.id, "percent": percent, "photo": bool(photo)},
    )
    db.session.commit()
    return update


@dataclass
class Budget:
    """Money of one project: budgeted and spent per line item and per fund source."""

    line_items: list[dict] = field(default_factory=list)
    sources: list[dict] = field(default_factory=list)
    total_budget_fen: int = 0
    total_spent_fen: int = 0
    pending_fen: int = 0

    @property
    def over_budget(self) -> bool:
        return self.total_spent_fen > self.total_budget_fen


def _counted(entry: SpendingEntry) -> bool:
    """Over-budget entries count only once the committee approved them."""
    return not entry.over_budget or entry.approved_at is not None


# The same rule as _counted, in SQL: what every total of spending (project page, report) sums.
COUNTED = db.or_(SpendingEntry.over_budget.is_(False), SpendingEntry.approved_at.is_not(None))


def counted_spending_by_source(proposal_ids) -> dict[int | None, int]:
    """Counted spending of these projects per fund source (None: entries without one)."""
    rows = db.session.execute(
        db.select(SpendingEntry.fund_source_id, db.func.sum(SpendingEntry.amount_fen))
        .where(SpendingEntry.proposal_id.in_(list(proposal_ids) or [-1]), COUNTED)
        .group_by(SpendingEntry.fund_source_id)
    ).all()
    return {source_id: int(total or 0) for source_id, total in rows}


def counted_spending(proposal_id: int) -> int:
    """A project's counted spending: the total its page and the report show."""
    return sum(counted_spending_by_source([proposal_id]).values())


def source_allocations(allocation: ProjectAllocation) -> dict[int, int]:
    """What each fund source allocated to the project (sources that gave nothing left out)."""
    return {
        int(source_id): int(amount)
        for source_id, amount in (allocation.funding_by_source or {}).items()
        if str(source_id).isdigit() and int(amount) > 0
    }


def _add(totals: dict, key, amount: int) -> None:
    totals[key] = totals.get(key, 0) + amount


def budget_of(proposal: Proposal, allocation: ProjectAllocation) -> Budget:
    """Budget and counted spending per line item and per fund source: both sum to the total."""
    entries = list(
        db.session.scalars(
            db.select(SpendingEntry).filter_by(proposal_id=proposal.id).order_by(SpendingEntry.id)
        )
    )
    spent_by_item: dict[int | None, int] = {}
    spent_by_source: dict[int | None, int] = {}
    pending = 0
    for entry in entries:
        if not _counted(entry):
            pending += entry.amount_fen
            continue
        _add(spent_by_item, entry.line_item_id, entry.amount_fen)
        _add(spent_by_source, entry.fund_source_id, entry.amount_fen)
    budget = Budget(
        total_budget_fen=allocation.amount_fen or proposal.total_fen,
        total_spent_fen=sum(spent_by_item.values()),
        pending_fen=pending,
    )
    for item in proposal.line_items:
        spent = spent_by_item.get(item.id, 0)
        budget.line_items.append(
            {
                "id": item.id,
                "description": item.description,
                "budget_fen": item.total_fen,
                "spent_fen": spent,
                "over": spent > item.total_fen,
            }
        )
    if spent_by_item.get(None):
        budget.line_items.append(
            {
                "id": None,
                "description": None,
                "budget_fen": 0,
                "spent_fen": spent_by_item[None],
                "over": True,
            }
        )
    budget.sources = _source_rows(proposal, source_allocations(allocation), spent_by_source)
    return budget


def _source_rows(proposal: Proposal, allocated: dict, spent: dict) -> list[dict]:
    """One row per source that paid or was charged (and one for spending without a source), so
    the rows add up to the same total as the line items."""
    sources = {s.id: s for s in proposal.round.fund_sources}
    rows = []
    for source_id in sorted(set(allocated) | {k for k in spent if k is not None}):
        source = sources.get(source_id)
        rows.append(
            {
                "id": source_id,
                "name": source.name if source else str(source_id),
                "budget_fen": allocated.get(source_id, 0),
                "spent_fen": spent.get(source_id, 0),
                "left_fen": allocated.get(source_id, 0) - spent.get(source_id, 0),
            }
        )
    if spent.get(None):
        rows.append(
            {"id": None, "name": None, "budget_fen": 0, "spent_fen": spent[None], "left_fen": 0}
        )
    return rows


def charged_to_source(proposal_id: int, source_id: int) -> int:
    """Everything booked against one fund source for a project, approved or waiting."""
    return int(
        db.session.scalar(
            db.select(db.func.coalesce(db.func.sum(SpendingEntry.amount_fen), 0)).filter_by(
                proposal_id=proposal_id, fund_source_id=source_id
            )
        )
        or 0
    )


def _check_source(proposal: Proposal, allocation: ProjectAllocation, source_id, amount_fen):
    """A payment is charged to a fund source that paid for the project, within what it gave."""
    if source_id is None:
        raise DomainError(
            _l("Choose the fund source that pays for this payment."), code="no_source"
        )
    source = db.session.get(FundSource, source_id)
    if source is None or source.round_id != proposal.round_id:
        raise DomainError(_l("Choose one of this round's fund sources."), code="bad_source")
    allocated = source_allocations(allocation).get(source.id, 0)
    if allocated == 0:
        raise DomainError(
            _l(
                "%(fund)s did not pay for this project: charge the payment to a fund source "
                "that did.",
                fund=source.name,
            ),
            code="source_not_funding",
        )
    left = allocated - charged_to_source(proposal.id, source.id)
    if amount_fen > left:
        raise DomainError(
            _l(
                "%(fund)s allocated %(allocated)s to this project and %(left)s of it is left: "
                "this payment is more than that.",
                fund=source.name,
                allocated=money(allocated),
                left=money(max(left, 0)),
            ),
            code="source_exhausted",
        )


def record_spending(
    proposal: Proposal,
    allocation: ProjectAllocation,
    *,
    spent_on: date,
    item: str,
    amount_fen: int,
    payee: str,
    line_item_id: int | None,
    fund_source_id: int | None,
    receipt: Upload | None,
    actor,
) -> SpendingEntry:
    """Book one payment, charged to a fund source that paid for the project and within what it
    allocated (refused otherwise). Past the line item's or the project's budget, it waits for
    the supervisory committee's approval."""
    if not 0 < amount_fen <= MAX_FEN:
        raise DomainError(
            _l("The amount must be more than zero and at most ¥100,000,000."), code="bad_amount"
        )
    if spent_on > date.today():
        raise DomainError(_l("The payment date cannot be in the future."), code="future")
    line_item = None
    if line_item_id is not None:
        line_item = db.session.get(LineItem, line_item_id)
        if line_item is None or line_item.proposal_id != proposal.id:
            raise DomainError(_l("Choose one of this project's line items."), code="bad_item")
    _check_source(proposal, allocation, fund_source_id, amount_fen)
    current = budget_of(proposal, allocation)
    item_spent = next(
        (row["spent_fen"] for row in current.line_items if row["id"] == line_item_id), 0
    )
    over = (
        current.total_spent_fen + amount_fen > current.total_budget_fen
        or line_item is None
        or item_spent + amount_fen > line_item.total_fen
    )
    entry = SpendingEntry(
        proposal_id=proposal.id,
        line_item_id=line_item_id,
        fund_source_id=fund_source_id,
        spent_on=spent_on,
        item=item,
        amount_fen=amount_fen,
        payee=payee,
        receipt_id=receipt.id if receipt else None,
        over_budget=over,
        entered_by_id=actor.id,
    )
    db.session.add(entry)
    db.session.flush()
    record(
        "spending.add",
        "spending_entry",
        entry.id,
        actor=actor,
        community_id=_community_of(proposal),
        public=True,
        after={
            "proposal": proposal.id,
            "amount_fen": amount_fen,
            "item": item,
            "payee": payee,
            "over_budget": over,
        },
    )
    db.session.commit()
    return entry


def approve_spending(entry: SpendingEntry, *, actor) -> SpendingEntry:
    """The supervisory committee accepts an over-budget payment (it stays flagged in public)."""
    if not entry.over_budget:
        raise Conflict(
            _l("This payment is within budget and needs no approval."), code="within_budget"
        )
    if entry.approved_at is not None:
        raise Conflict(_l("This payment is already approved."), code="approved")
    entry.approved_by_id = actor.id
    entry.approved_at = utcnow()
    record(
        "spending.approve",
        "spending_entry",
        entry.id,
        actor=actor,
        community_id=db.session.get(Proposal, entry.proposal_id).round.community_id,
        public=True,
        after={"amount_fen": entry.amount_fen},
    )
    db.session.commit()
    return entry


def submit_completion(proposal: Proposal, text: str, *, actor) -> CompletionReport:
    existing = db.session.scalar(db.select(CompletionReport).filter_by(proposal_id=proposal.id))
    if existing is not None and existing.signed_off_at is not None:
        raise Conflict(_l("The completion report is already signed off."), code="signed_off")
    report = existing or CompletionReport(proposal_id=proposal.id, text=text)
    report.text = text
    report.submitted_at = utcnow()
    db.session.add(report)
    db.session.flush()
    record(
        "completion.submit",
        "completion_report",
        report.id,
        actor=actor,
        community_id=_community_of(proposal),
        public=True,
        after={"proposal": proposal.id},
    )
    db.session.commit()
    return report


def sign_off_completion(report: CompletionReport, comment: str, *, actor) -> CompletionReport:
    if report.signed_off_at is not None:
        raise Conflict(_l("The completion report is already signed off."), code="signed_off")
    report.signed_off_by_id = actor.id
    report.signed_off_at = utcnow()
    report.sign_off_comment = comment
    proposal = db.session.get(Proposal, report.proposal_id)
    record(
        "completion.sign_off",
        "completion_report",
        report.id,
        actor=actor,
        community_id=_community_of(proposal),
        public=True,
        after={"comment": comment},
    )
    db.session.commit()
    return report


def completion_of(proposal_id: int) -> CompletionReport | None:
    return db.session.scalar(db.select(CompletionReport).filter_by(proposal_id=proposal_id))


def evaluation_open(proposal: Proposal) -> bool:
    """Residents rate a project once its completion report is in, until the round closes."""
    return completion_of(proposal.id) is not None and proposal.round.phase != "closed"


def _building_of(credential: Credential) -> str:
    """The building of the card's holder, as the registry knows it ("" if unknown)."""
    voter = voter_for_key(db.session.get(Ballot, credential.ballot_id), credential.voter_key)
    return voter.building if voter else ""


def rate_project(proposal: Proposal, secret: str, score: int, comment: str) -> Rating:
    """A resident's satisfaction (1-5) with their voter card; a second rating replaces the first."""
    if not evaluation_open(proposal):
        raise Conflict(_l("This project cannot be rated now."), code="evaluation_closed")
    if not 1 <= score <= 5:
        raise DomainError(_l("Choose a rating from 1 to 5."), code="bad_score")
    credential = credential_for_round(proposal.round_id, secret)
    if credential is None or credential.revoked_at is not None:
        raise Forbidden(_l("This voter card code is not valid."), code="bad_credential")
    rating = db.session.scalar(
        db.select(Rating).filter_by(proposal_id=proposal.id, credential_id=credential.id)
    )
    if rating is None:
        rating = Rating(
            proposal_id=proposal.id,
            credential_id=credential.id,
            building=_building_of(credential),
        )
        db.session.add(rating)
    rating.score = score
    rating.comment = comment
    db.session.commit()
    return rating


def rating_summary(proposal_id: int) -> dict:
    """Average and count, overall and by building, and whether the project is flagged."""
    rows = db.session.execute(
        db.select(Rating.building, db.func.count(Rating.id), db.func.avg(Rating.score))
        .filter(Rating.proposal_id == proposal_id)
        .group_by(Rating.building)
        .order_by(Rating.building)
    ).all()
    count = sum(row[1] for row in rows)
    total = sum(row[1] * float(row[2]) for row in rows)
    average = round(total / count, 2) if count else None
    return {
        "count": count,
        "average": average,
        "flagged": average is not None and average < LOW_RATING,
        "by_building": [
            {"building": b, "count": n, "average": round(float(a), 2)} for b, n, a in rows
        ],
    }
