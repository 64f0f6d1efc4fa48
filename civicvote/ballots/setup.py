"""Setting up a ballot: its proposals, method, limits, quorum and online window.

Every setting a voter is held to is locked once the ballot has opened (LOCKED_FIELDS), so that
early and late voters vote under the same rules.
"""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..proposals.models import Proposal
from ..rounds.models import FundingRound
from .lifecycle import lock_ballot
from .live import MAX_BATCH, MIN_BATCH
from .models import METHODS, MODES, QUORUM_KINDS, Ballot, BallotItem

# Settings frozen once a ballot has opened (early and late voters vote under the same rules).
LOCKED_FIELDS = (
    "method",
    "mode",
    "min_choices",
    "max_choices",
    "budget_fen",
    "points_total",
    "quorum_kind",
    "quorum_value",
    "pass_threshold_percent",
    # Lowered during the vote, it would let a step of the live figures single out a ballot.
    "live_batch_size",
)
EDITABLE_FIELDS = (
    "title",
    *LOCKED_FIELDS,
    "online_opens_at",
    "online_closes_at",
    "results_visible_live",
)


def community_ballots(community_id: int) -> list[Ballot]:
    """The ballots of a community's rounds, newest first."""
    return list(
        db.session.scalars(
            select(Ballot)
            .join(FundingRound, Ballot.round_id == FundingRound.id)
            .where(FundingRound.community_id == community_id)
            .order_by(Ballot.id.desc())
        )
    )


def community_ballot(community_id: int, ballot_id: int) -> Ballot:
    """The ballot ``ballot_id`` of one of the community's rounds; NotFound otherwise."""
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None or ballot.round.community_id != community_id:
        raise NotFound(_l("No such ballot."))
    return ballot


def approved_proposals(funding_round: FundingRound) -> list[Proposal]:
    """The proposals of a round approved for the ballot, in id order."""
    query = select(Proposal).filter_by(round_id=funding_round.id, status="approved")
    return list(db.session.scalars(query.order_by(Proposal.id)))


def _check_choices(values: dict, funding_round: FundingRound) -> None:
    """The method, mode, quorum rule, limits and window are each valid and agree."""
    method = values.get("method")
    if method not in METHODS:
        raise DomainError(_l("Choose a voting method."), code="method")
    if values.get("mode") not in MODES:
        raise DomainError(_l("Choose how people vote."), code="mode")
    if values.get("quorum_kind") not in QUORUM_KINDS:
        raise DomainError(_l("Choose a quorum rule."), code="quorum")
    max_choices = values.get("max_choices")
    if max_choices is not None and max_choices < (values.get("min_choices") or 0):
        raise DomainError(
            _l("The maximum number of choices cannot be below the minimum."), code="limits"
        )
    if method == "cumulative" and not values.get("points_total"):
        raise DomainError(_l("A points ballot needs the number of points."), code="points")
    if method == "knapsack":
        budget = values.get("budget_fen") or funding_round.budget_fen
        if not budget or budget <= 0:
            raise DomainError(_l("A budget ballot needs a budget."), code="budget")
    opens, closes = values.get("online_opens_at"), values.get("online_closes_at")
    if opens and closes and closes <= opens:
        raise DomainError(_l("The online window must close after it opens."), code="window")
    batch = values.get("live_batch_size", MIN_BATCH)
    if not isinstance(batch, int) or not MIN_BATCH <= batch <= MAX_BATCH:
        raise DomainError(
            _l(
                "Live results change in batches of %(low)d to %(high)d ballots.",
                low=MIN_BATCH,
                high=MAX_BATCH,
            ),
            code="live_batch_size",
        )


def live_results_default(mode: str | None) -> bool:
    """Live results unless told otherwise: on for a ballot held only at the assembly, off as
    soon as people may vote online (ballots trickling in one by one are the easiest to tell)."""
    return mode == "assembly"


def _check_settings(values: dict, funding_round: FundingRound, proposal_ids: list[int]) -> None:
    _check_choices(values, funding_round)
    allowed = {p.id for p in approved_proposals(funding_round)}
    if not proposal_ids:
        raise DomainError(_l("Choose at least one approved proposal."), code="proposals")
    if not set(proposal_ids) <= allowed or len(set(proposal_ids)) != len(proposal_ids):
        raise DomainError(_l("Only approved proposals of this round can be on the ballot."))
    if (values.get("min_choices") or 0) > len(proposal_ids):
        raise DomainError(
            _l("The minimum number of choices is more than the proposals on the ballot."),
            code="limits",
        )


def _snapshot(ballot: Ballot) -> dict:
    data = {name: getattr(ballot, name) for name in EDITABLE_FIELDS}
    for name in ("online_opens_at", "online_closes_at"):
        data[name] = data[name].isoformat() if data[name] else None
    data["proposals"] = [item.proposal_id for item in ballot.items]
    return data


def create_ballot(funding_round: FundingRound, values: dict, proposal_ids: list[int], *, actor):
    """Create a draft ballot for ``funding_round`` holding ``proposal_ids`` (approved ones only)."""
    _check_settings(values, funding_round, proposal_ids)
    ballot = Ballot(round_id=funding_round.id, status="draft")
    values.setdefault("results_visible_live", live_results_default(values.get("mode")))
    for name in EDITABLE_FIELDS:
        if name in values:
            setattr(ballot, name, values[name])
    ballot.items = [BallotItem(proposal_id=pid, position=i) for i, pid in enumerate(proposal_ids)]
    db.session.add(ballot)
    db.session.flush()
    record(
        "ballot.create",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=funding_round.community_id,
        after=_snapshot(ballot),
        public=True,
    )
    db.session.commit()
    return ballot


def update_ballot(ballot: Ballot, values: dict, proposal_ids: list[int], *, actor) -> Ballot:
    """Change a ballot's settings. Once opened, method, limits and proposals cannot change."""
    # Under the same lock as opening, so an edit cannot slip in after the ballot opened.
    ballot = lock_ballot(ballot.id, exclusive=True)
    current_ids = [item.proposal_id for item in ballot.items]
    if ballot.locked:
        changed = [n for n in LOCKED_FIELDS if n in values and values[n] != getattr(ballot, n)]
        if changed or proposal_ids != current_ids:
            raise Conflict(
                _l(
                    "This ballot has been opened: its method, limits and proposals are locked, "
                    "so that every voter votes under the same rules."
                ),
                code="locked",
            )
    if ballot.status == "closed":
        raise Conflict(_l("A closed ballot cannot be changed."), code="closed")
    merged = {name: values.get(name, getattr(ballot, name)) for name in EDITABLE_FIELDS}
    _check_settings(merged, ballot.round, proposal_ids)
    before = _snapshot(ballot)
    for name, value in merged.items():
        setattr(ballot, name, value)
    if proposal_ids != current_ids:
        ballot.items.clear()
        db.session.flush()  # delete the old rows before inserting (ballot_id, proposal_id) again
        ballot.items = [
            BallotItem(proposal_id=pid, position=i) for i, pid in enumerate(proposal_ids)
        ]
    db.session.flush()
    record(
        "ballot.update",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        before=before,
        after=_snapshot(ballot),
        public=True,
    )
    db.session.commit()
    return ballot
