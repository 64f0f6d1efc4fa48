"""The rules a vote is held to: what a valid ballot contains, when and how one may be cast.

The same rules decide for the resident's form, the JSON API and paper ballots:
:func:`validate_contents` checks the choices, :func:`refusal_for_status` whether the ballot takes
votes now, :func:`choose_channel` whether this voter may vote now and through which channel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..errors import Conflict, DomainError, Forbidden
from ..extensions import db
from ..i18n import money
from ..proposals.models import Proposal
from .models import Ballot, BallotItem

MAX_SELECTIONS = 200  # no ballot lists more proposals than this; longer input is forged

# The ballot's settings a vote is decided on: the write insists they are unchanged.
DECIDING_COLUMNS = (
    "status",
    "method",
    "mode",
    "min_choices",
    "max_choices",
    "budget_fen",
    "points_total",
    "online_opens_at",
    "online_closes_at",
)
# What BallotRules takes by name (the knapsack budget comes with the round's as fallback).
_RULE_COLUMNS = tuple(name for name in DECIDING_COLUMNS if name != "budget_fen")


class BallotContentError(DomainError):
    """The submitted choices break the ballot's rules (422 with the reason)."""

    status_code = 422


def ballot_budget(ballot: Ballot) -> int:
    """The budget a knapsack ballot's choices must fit: the ballot's own, else the round's."""
    return ballot.budget_fen or ballot.round.budget_fen


def _proposal_costs(ballot: Ballot) -> dict[int, int]:
    query = (
        select(BallotItem.proposal_id, Proposal.total_fen)
        .join(Proposal, Proposal.id == BallotItem.proposal_id)
        .where(BallotItem.ballot_id == ballot.id)
    )
    return {pid: cost for pid, cost in db.session.execute(query)}


@dataclass(frozen=True)
class BallotRules:
    """What checking and recording a vote needs to know of a ballot, read in one transaction.

    The casting path reads it with one Core statement (no ORM objects, see
    voting/statements.py); :meth:`of` builds it from a loaded ``Ballot`` for the paper and form
    paths.
    """

    id: int
    status: str
    method: str
    mode: str
    min_choices: int | None
    max_choices: int | None
    budget_fen: int | None  # knapsack: the ballot's budget, else the round's
    points_total: int | None
    online_opens_at: datetime | None
    online_closes_at: datetime | None
    costs: dict[int, int | None]  # proposal id -> cost in fen, for every proposal on the ballot

    @classmethod
    def of(cls, ballot: Ballot) -> BallotRules:
        """The rules of a loaded ballot (its proposals' costs read now)."""
        # Only a knapsack vote is held to a budget: other ballots need not load the round.
        budget = ballot_budget(ballot) if ballot.method == "knapsack" else ballot.budget_fen
        return cls.read(ballot.id, settings_of(ballot), budget, _proposal_costs(ballot))

    @classmethod
    def read(cls, ballot_id: int, settings, budget_fen: int | None, costs: dict) -> BallotRules:
        """From the ballot's DECIDING_COLUMNS by name (:func:`settings_of`, or the vote's state
        row as a mapping). ``budget_fen`` is the budget a knapsack vote is held to (the
        ballot's, else the round's)."""
        chosen = {name: settings[name] for name in _RULE_COLUMNS}
        return cls(ballot_id, **chosen, budget_fen=budget_fen, costs=costs)


def settings_of(ballot: Ballot) -> dict:
    """The ballot's DECIDING_COLUMNS by name: what a vote is decided on, and must still hold
    when it is written."""
    return {name: getattr(ballot, name) for name in DECIDING_COLUMNS}


# --------------------------------------------------------------------------- contents


def validate_contents(ballot: Ballot | BallotRules, payload: dict) -> dict:
    """Check a voter's choices strictly against the ballot; return the canonical contents.

    ``payload`` may hold ``selections`` (approval, knapsack: a list of proposal ids),
    ``points`` (cumulative: {proposal id: points}) and ``answers`` (yes/no: {proposal id: bool}).
    Rules, per method:

    * approval: between ``min_choices`` and ``max_choices`` distinct proposals (no duplicates);
    * knapsack: the same count limits, and the chosen proposals' total cost (fen) at most the
      ballot budget;
    * cumulative: ``points`` maps proposals on the ballot to non-negative whole numbers (JSON
      integers, or digit strings from a form) summing to at least 1 and at most ``points_total``;
      zero entries are dropped; ``max_choices``, if set, limits how many proposals get points;
    * yes_no: ``answers`` maps proposals to true (yes) or false (no); proposals left out are
      abstentions; at least one answer and at least ``min_choices`` answers.

    Raises BallotContentError (422) with the reason. Contents:
    ``{"selections": [sorted ids]}``, ``{"points": {"id": n}}`` or ``{"id": true|false}``.
    """
    if not isinstance(payload, dict):
        raise BallotContentError(_l("The ballot is not in the expected form."), code="type")
    rules = ballot if isinstance(ballot, BallotRules) else BallotRules.of(ballot)
    if rules.method in ("approval", "knapsack"):
        return _selections(rules, payload.get("selections", []))
    if rules.method == "cumulative":
        return _points(rules, payload.get("points", {}))
    return _answers(rules, payload.get("answers", {}))


def _selections(rules: BallotRules, raw) -> dict:
    """Approval and knapsack: a list of distinct proposals within the limits (and budget)."""
    if not isinstance(raw, list) or len(raw) > MAX_SELECTIONS:
        raise BallotContentError(_l("The choices must be a list of proposals."), code="type")
    chosen = [_proposal_id(value, rules.costs) for value in raw]
    if len(set(chosen)) != len(chosen):
        raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
    _check_count(len(chosen), rules.min_choices or 0, rules.max_choices)
    if rules.method == "knapsack":
        total, budget = sum(rules.costs[pid] for pid in chosen), rules.budget_fen
        if total > budget:
            raise BallotContentError(
                _l(
                    "Your choices cost %(total)s, more than the budget of %(budget)s. "
                    "Remove a proposal and try again.",
                    total=money(total),
                    budget=money(budget),
                ),
                code="over_budget",
            )
    return {"selections": sorted(chosen)}


def _points(rules: BallotRules, raw) -> dict:
    """Cumulative: whole, non-negative points per proposal, at least 1 and at most the total."""
    if not isinstance(raw, dict) or len(raw) > MAX_SELECTIONS:
        raise BallotContentError(_l("The points must map proposals to numbers."), code="type")
    points: dict[int, int] = {}
    for key, value in raw.items():
        pid = _proposal_id(key, rules.costs)
        value = _whole_number(value)
        if pid in points:
            raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
        points[pid] = value
    total, allowed = sum(points.values()), rules.points_total or 0
    if total > allowed:
        raise BallotContentError(
            _l(
                "You gave %(total)s points but have only %(allowed)s.", total=total, allowed=allowed
            ),
            code="too_many_points",
        )
    if total < 1:
        raise BallotContentError(_l("Give at least one point."), code="too_few")
    given = {pid: n for pid, n in points.items() if n > 0}
    _check_count(len(given), 0, rules.max_choices)
    return {"points": {str(pid): n for pid, n in sorted(given.items())}}


def _whole_number(value) -> int:
    """Points as given: a JSON integer, or a form's digits (blank is 0); never negative."""
    if isinstance(value, str) and value.strip() == "":
        value = 0
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip()) if len(value.strip()) <= 9 else -1
    if isinstance(value, bool) or not isinstance(value, int):
        raise BallotContentError(_l("Points must be whole numbers."), code="type")
    if value < 0:
        raise BallotContentError(_l("Points cannot be negative."), code="negative")
    return value


def _answers(rules: BallotRules, raw) -> dict:
    """Yes/no: true or false per proposal answered, at least one (and at least the minimum)."""
    if not isinstance(raw, dict) or len(raw) > MAX_SELECTIONS:
        raise BallotContentError(_l("The answers must map proposals to yes or no."), code="type")
    answers: dict[int, bool] = {}
    for key, value in raw.items():
        pid = _proposal_id(key, rules.costs)
        if not isinstance(value, bool):
            raise BallotContentError(_l("Answer each proposal with yes or no."), code="type")
        if pid in answers:
            raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
        answers[pid] = value
    # An all-"no opinion" ballot says nothing: at least one yes or no is the rule residents
    # are shown, and the refusal says so in the words of the yes/no ballot.
    minimum = max(rules.min_choices or 0, 1)
    if len(answers) < minimum:
        raise BallotContentError(
            _l("Answer at least %(n)s proposals with yes or no.", n=minimum)
            if minimum > 1
            else _l("Answer at least one proposal with yes or no."),
            code="too_few",
        )
    return {str(pid): answers[pid] for pid in sorted(answers)}


def _proposal_id(value, on_ballot: dict[int, int]) -> int:
    """A proposal id from JSON or a form (int, or a string of digits) that is on the ballot."""
    if isinstance(value, bool):
        raise BallotContentError(_l("A choice is not a proposal number."), code="type")
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 12:
        value = int(value)
    if not isinstance(value, int):
        raise BallotContentError(_l("A choice is not a proposal number."), code="type")
    if value not in on_ballot:
        raise BallotContentError(
            _l("Proposal %(id)s is not on this ballot.", id=value), code="not_on_ballot"
        )
    return value


def _check_count(count: int, minimum: int, maximum: int | None) -> None:
    if count < minimum:
        raise BallotContentError(
            _l("Choose at least %(n)s proposals.", n=minimum)
            if minimum > 1
            else _l("Choose at least one proposal."),
            code="too_few",
        )
    if maximum is not None and count > maximum:
        raise BallotContentError(_l("Choose at most %(n)s proposals.", n=maximum), code="too_many")


# --------------------------------------------------------------------------- when and how


def refusal_for_status(ballot: Ballot | BallotRules) -> Conflict | None:
    """Why this ballot takes no votes now (a 409 with code "closed" etc.), or None if open."""
    if ballot.status == "closed":
        return Conflict(_l("Voting has closed: this ballot takes no more votes."), code="closed")
    if ballot.status == "paused":
        return Conflict(
            _l("Voting is paused for a moment. Please wait and try again."), code="paused"
        )
    if ballot.status != "open":
        return Conflict(_l("Voting has not opened yet."), code="not_open")
    return None


def choose_channel(ballot: Ballot | BallotRules, present: bool, now: datetime) -> str:
    """ "assembly" for a voter ``present`` (checked in at an assembly of the ballot), else
    "online" within the online window; or refuse (not checked in, outside the window)."""
    if ballot.mode == "assembly":
        if not present:
            raise Forbidden(
                _l("This ballot is for the assembly: please check in at the desk first."),
                code="not_checked_in",
            )
        return "assembly"
    if ballot.mode == "mixed" and present:
        return "assembly"
    if ballot.online_opens_at and now < ballot.online_opens_at:
        raise Conflict(_l("Online voting has not opened yet."), code="outside_window")
    if ballot.online_closes_at and now >= ballot.online_closes_at:
        raise Conflict(_l("Online voting has closed."), code="outside_window")
    return "online"
