"""Ballot services: setting up a ballot, its lifecycle, casting votes, paper ballots and the tally.

Casting is one function, :func:`cast_vote`, used by the resident form and the JSON API alike;
paper ballots go through the same recording step (:func:`_record_ballot`).

How one vote is stored (the invariants of DESIGN.md "Ballot integrity"):

* ``participations`` says *who* voted (ballot, voter key, channel, time); its unique constraint on
  (ballot_id, voter_key) is what guarantees one vote per person or household, under any
  concurrency. Application checks only produce friendlier messages.
* ``cast_ballots`` says *what* was chosen: a random 128-bit hex id, the contents and a receipt code.
  No voter key, no timestamp, no sequential id (on SQLite the table is ``WITHOUT ROWID``, see
  migration 0004, so not even SQLite's hidden rowid records the insertion order).
* Both rows, and ``Credential.used_at``, are written in ONE transaction. On SQLite the transaction
  starts with ``BEGIN IMMEDIATE`` (the write lock up front, so nothing read can go stale). On
  PostgreSQL the three rows are written by ONE statement, which takes a share lock on the ballot
  row (``FOR SHARE``) and writes only if the ballot is still open with the settings the vote was
  checked against, while opening, pausing, closing and editing take ``FOR UPDATE``: votes run in
  parallel with each other but never interleave with a status change, and a vote that finds the
  ballot changed is decided again holding the lock from the start (see "Casting runs on Core").

Idempotent retries without breaking secrecy. A retried submission (double tap, lost response)
carries the same credential secret and the same idempotency key. The participation stores

* ``idempotency_hash = HMAC-SHA256(secret, "idem:" + key)``,
* ``request_hash = HMAC-SHA256(secret, "request:" + canonical JSON of the contents)``,
* ``sealed_receipt = hex(receipt bytes XOR HMAC-SHA256(secret, "receipt:" + key))``,

where ``secret`` is the voter's raw token (or, for a code typed by hand, a random secret kept in
the voter's session). The database holds only ``SHA-256(token)``, so it can compute none of these:
it cannot unseal the receipt, and it cannot hash candidate ballot contents to compare them with
``request_hash`` (an unkeyed hash of the contents would link them). A retry with the same secret
and key recomputes the hashes, unseals the receipt and gets 200 with it; the same key with a
different body is refused (409), as is any other second vote.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections import namedtuple
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, bindparam, cast, func, insert, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..audit.services import record
from ..checkin.models import Assembly, CheckIn
from ..errors import Conflict, DomainError, Forbidden, NotFound
from ..extensions import db
from ..proposals.models import Proposal
from ..rounds.models import VOTE_UNIT_RESIDENT, FundingRound
from ..timeutil import utcnow
from . import statistics
from .credentials import (
    SHORT_ALPHABET,
    SHORT_CODE_LENGTH,
    find_credential,
    hash_secret,
    normalize_short_code,
)
from .models import (
    METHODS,
    MODES,
    Ballot,
    BallotItem,
    CastBallot,
    Credential,
    PaperBallotEntry,
    Participation,
)

CHANNEL_LABELS = {"online": _l("online"), "assembly": _l("at the assembly"), "paper": _l("paper")}
RECEIPT_LENGTH = 12  # 12 symbols of 30: about 59 bits, unguessable for lookups
MAX_SELECTIONS = 200  # no ballot lists more proposals than this; longer input is forged
QUORUM_KINDS = ("households_percent", "residents_percent", "minimum")
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
)
EDITABLE_FIELDS = (
    "title",
    *LOCKED_FIELDS,
    "online_opens_at",
    "online_closes_at",
    "results_visible_live",
)


class BallotContentError(DomainError):
    """The submitted choices break the ballot's rules (422 with the reason)."""

    status_code = 422


# --------------------------------------------------------------------------- setting up


def approved_proposals(funding_round: FundingRound) -> list[Proposal]:
    """The proposals of a round approved for the ballot, in id order."""
    query = select(Proposal).filter_by(round_id=funding_round.id, status="approved")
    return list(db.session.scalars(query.order_by(Proposal.id)))


def _check_settings(values: dict, funding_round: FundingRound, proposal_ids: list[int]) -> None:
    method = values.get("method")
    if method not in METHODS:
        raise DomainError(_l("Choose a voting method."), code="method")
    if values.get("mode") not in MODES:
        raise DomainError(_l("Choose how people vote."), code="mode")
    if values.get("quorum_kind") not in QUORUM_KINDS:
        raise DomainError(_l("Choose a quorum rule."), code="quorum")
    min_choices = values.get("min_choices") or 0
    max_choices = values.get("max_choices")
    if max_choices is not None and max_choices < min_choices:
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
    allowed = {p.id for p in approved_proposals(funding_round)}
    if not proposal_ids:
        raise DomainError(_l("Choose at least one approved proposal."), code="proposals")
    if not set(proposal_ids) <= allowed or len(set(proposal_ids)) != len(proposal_ids):
        raise DomainError(_l("Only approved proposals of this round can be on the ballot."))
    if min_choices > len(proposal_ids):
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
    ballot = _lock_ballot(ballot.id, exclusive=True)
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


# --------------------------------------------------------------------------- locking


def _is_sqlite() -> bool:
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """Start the session's transaction holding SQLite's write lock (``BEGIN IMMEDIATE``).

    Python's sqlite3 module (legacy transaction control) opens a transaction only before the first
    INSERT/UPDATE, so reads before it would see a snapshot another writer can overtake. Emitting
    ``BEGIN IMMEDIATE`` ourselves on a connection with no open transaction takes the write lock
    now; the module notices the open transaction and commits it at ``session.commit()``. On other
    databases this does nothing (they lock rows explicitly).
    """
    if not _is_sqlite():
        return
    connection = db.session.connection()
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _lock_ballot(ballot_id: int, *, exclusive: bool) -> Ballot | None:
    """Load the ballot under a lock: share for votes, exclusive for status changes."""
    begin_write()
    query = select(Ballot).filter_by(id=ballot_id).execution_options(populate_existing=True)
    if not _is_sqlite():
        query = query.with_for_update(read=not exclusive)
    return db.session.scalar(query)


# --------------------------------------------------------------------------- lifecycle

STATUS_ACTIONS = {"open": "open", "pause": "paused", "close": "closed"}


def change_status(ballot_id: int, action: str, *, actor, at: datetime | None = None) -> Ballot:
    """Open, pause or close a ballot (audited). A vote in flight finishes first, never after."""
    if action not in STATUS_ACTIONS:
        raise DomainError(_l("Unknown action."), code="action")
    ballot = _lock_ballot(ballot_id, exclusive=True)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    before = {"status": ballot.status}
    if action == "open" and not ballot.items:
        raise Conflict(_l("A ballot without proposals cannot open."), code="empty")
    ballot.change_status(STATUS_ACTIONS[action], at=at)
    if ballot.status == "closed":
        _reshuffle_storage(ballot.id)
    record(
        f"ballot.{action}",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        before=before,
        after={"status": ballot.status},
        public=True,
    )
    db.session.commit()
    return ballot


def _reshuffle_storage(ballot_id: int) -> None:
    """On PostgreSQL, rewrite a closed ballot's rows in random-id order in one transaction.

    A heap table keeps rows roughly in insertion order (``ctid``) and stamps each with the id of
    the transaction that wrote it (``xmin``), which the matching participation shares. Rewriting
    every row at close gives them all one ``xmin`` and a physical order sorted by the random id.
    """
    if _is_sqlite():
        return
    db.session.execute(
        text(
            "CREATE TEMPORARY TABLE shuffled_ballots ON COMMIT DROP AS "
            "SELECT * FROM cast_ballots WHERE ballot_id = :b"
        ),
        {"b": ballot_id},
    )
    db.session.execute(text("DELETE FROM cast_ballots WHERE ballot_id = :b"), {"b": ballot_id})
    db.session.execute(text("INSERT INTO cast_ballots SELECT * FROM shuffled_ballots ORDER BY id"))


# --------------------------------------------------------------------------- validation


def _proposal_costs(ballot: Ballot) -> dict[int, int]:
    query = (
        select(BallotItem.proposal_id, Proposal.total_fen)
        .join(Proposal, Proposal.id == BallotItem.proposal_id)
        .where(BallotItem.ballot_id == ballot.id)
    )
    return {pid: cost for pid, cost in db.session.execute(query)}


def ballot_budget(ballot: Ballot) -> int:
    """The budget a knapsack ballot's choices must fit: the ballot's own, else the round's."""
    return ballot.budget_fen or ballot.round.budget_fen


# The ballot's settings a vote is decided on: the write insists they are unchanged.
_DECIDING_COLUMNS = (
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
_RULE_COLUMNS = ("id", *(name for name in _DECIDING_COLUMNS if name != "budget_fen"))


@dataclass(frozen=True)
class BallotRules:
    """What checking and recording a vote needs to know of a ballot, read in one transaction.

    The casting path reads it with two Core statements under the ballot lock (no ORM objects);
    :meth:`of` builds it from a loaded ``Ballot`` for the paper and form paths.
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
        return cls.read(ballot, budget, _proposal_costs(ballot))

    @classmethod
    def read(cls, source, budget_fen: int | None, costs: dict) -> BallotRules:
        """From anything holding the ballot's columns by name: a Ballot or the vote's state row.

        ``budget_fen`` is the budget a knapsack vote is held to (the ballot's, else the round's).
        """
        settings = {name: getattr(source, name) for name in _RULE_COLUMNS}
        return cls(**settings, budget_fen=budget_fen, costs=costs)


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
    costs = rules.costs
    method = rules.method
    min_choices = rules.min_choices or 0
    max_choices = rules.max_choices
    if method in ("approval", "knapsack"):
        raw = payload.get("selections", [])
        if not isinstance(raw, list) or len(raw) > MAX_SELECTIONS:
            raise BallotContentError(_l("The choices must be a list of proposals."), code="type")
        chosen = [_proposal_id(value, costs) for value in raw]
        if len(set(chosen)) != len(chosen):
            raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
        _check_count(len(chosen), min_choices, max_choices)
        if method == "knapsack":
            total, budget = sum(costs[pid] for pid in chosen), rules.budget_fen
            if total > budget:
                from ..i18n import money

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
    if method == "cumulative":
        raw = payload.get("points", {})
        if not isinstance(raw, dict) or len(raw) > MAX_SELECTIONS:
            raise BallotContentError(_l("The points must map proposals to numbers."), code="type")
        points: dict[int, int] = {}
        for key, value in raw.items():
            pid = _proposal_id(key, costs)
            if isinstance(value, str) and value.strip() == "":
                value = 0
            if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
                value = int(value.strip()) if len(value.strip()) <= 9 else -1
            if isinstance(value, bool) or not isinstance(value, int):
                raise BallotContentError(_l("Points must be whole numbers."), code="type")
            if value < 0:
                raise BallotContentError(_l("Points cannot be negative."), code="negative")
            if pid in points:
                raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
            points[pid] = value
        total, allowed = sum(points.values()), rules.points_total or 0
        if total > allowed:
            raise BallotContentError(
                _l(
                    "You gave %(total)s points but have only %(allowed)s.",
                    total=total,
                    allowed=allowed,
                ),
                code="too_many_points",
            )
        if total < 1:
            raise BallotContentError(_l("Give at least one point."), code="too_few")
        given = {pid: n for pid, n in points.items() if n > 0}
        _check_count(len(given), 0, max_choices)
        return {"points": {str(pid): n for pid, n in sorted(given.items())}}
    # yes_no
    raw = payload.get("answers", {})
    if not isinstance(raw, dict) or len(raw) > MAX_SELECTIONS:
        raise BallotContentError(_l("The answers must map proposals to yes or no."), code="type")
    answers: dict[int, bool] = {}
    for key, value in raw.items():
        pid = _proposal_id(key, costs)
        if not isinstance(value, bool):
            raise BallotContentError(_l("Answer each proposal with yes or no."), code="type")
        if pid in answers:
            raise BallotContentError(_l("A proposal was chosen twice."), code="duplicate")
        answers[pid] = value
    _check_count(len(answers), max(min_choices, 1), None)
    return {str(pid): answers[pid] for pid in sorted(answers)}


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


# --------------------------------------------------------------------------- casting


@dataclass
class CastResult:
    receipt: str
    created: bool  # False when a retry of an already recorded vote returned its receipt


def _mac(secret: str, label: str) -> bytes:
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def _canonical(contents: dict) -> str:
    return json.dumps(contents, sort_keys=True, separators=(",", ":"))


def _seal(receipt: str, seal_secret: str, key: str) -> str:
    pad = _mac(seal_secret, "receipt:" + key)
    data = receipt.encode()
    return bytes(a ^ b for a, b in zip(data, pad, strict=False)).hex()


def _unseal(sealed: str, seal_secret: str, key: str) -> str:
    pad = _mac(seal_secret, "receipt:" + key)
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, pad, strict=False)).decode("ascii", "replace")


def new_receipt_code() -> str:
    """RECEIPT_LENGTH symbols drawn uniformly from SHORT_ALPHABET (the OS's random source).

    One read of random bytes, not one per symbol: bytes below the largest multiple of the
    alphabet's size map evenly onto it, the rest are skipped (so no symbol is favoured).
    """
    size = len(SHORT_ALPHABET)
    usable = 256 - 256 % size
    code = ""
    while len(code) < RECEIPT_LENGTH:
        code += "".join(SHORT_ALPHABET[b % size] for b in secrets.token_bytes(16) if b < usable)
    return code[:RECEIPT_LENGTH]


def normalize_receipt(code: str) -> str:
    return normalize_short_code(code or "")[: RECEIPT_LENGTH + 4]


def format_receipt(code: str) -> str:
    """``ABCD-EFGH-JKMN``: easier to read aloud and to copy."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def checked_in(ballot_id: int, voter_key: str) -> bool:
    """Whether the voter has checked in at an assembly of this ballot."""
    query = (
        select(CheckIn.id)
        .join(Assembly, Assembly.id == CheckIn.assembly_id)
        .where(Assembly.ballot_id == ballot_id, CheckIn.voter_key == voter_key)
        .limit(1)
    )
    return db.session.scalar(query) is not None


def refusal_for_status(ballot: Ballot) -> Conflict | None:
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


def channel_for(ballot: Ballot | BallotRules, voter_key: str, now: datetime) -> str:
    """ "assembly" for checked-in voters, else "online" within the window; or refuse."""
    return _channel(ballot, checked_in(ballot.id, voter_key), now)


def _channel(ballot: Ballot | BallotRules, present: bool, now: datetime) -> str:
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


def usable_credential_or_refuse(credential: Credential | None, now: datetime) -> Credential:
    """The credential if it may be used now; else Forbidden (unknown, revoked or expired)."""
    if credential is None:
        raise Forbidden(_l("This voter card is not valid for this ballot."), code="unknown")
    if credential.revoked_at is not None:
        raise Forbidden(_l("This voter card has been withdrawn."), code="revoked")
    if credential.expires_at is not None and credential.expires_at <= now:
        raise Forbidden(_l("This voting link has expired."), code="expired")
    return credential


def _replay(participation, seal_secret: str | None, key: str | None, body: str):
    """A retry of the recorded vote returns its receipt; anything else is a second vote (409)."""
    same_key = bool(seal_secret and key and participation.idempotency_hash) and hmac.compare_digest(
        participation.idempotency_hash, _mac(seal_secret, "idem:" + key).hex()
    )
    if same_key:
        if hmac.compare_digest(
            participation.request_hash or "", _mac(seal_secret, "request:" + body).hex()
        ):
            return CastResult(_unseal(participation.sealed_receipt, seal_secret, key), False)
        raise Conflict(
            _l("This retry does not match the vote first sent with the same key."),
            code="idempotency_mismatch",
        )
    raise Conflict(_l("A vote has already been recorded for this voter."), code="already_voted")


# Casting runs on Core statements built once here, not on ORM objects: a vote is the hot path
# (hundreds a second when an assembly votes at once), and loading and flushing objects cost
# several times the SQL itself. On PostgreSQL a vote is two statements, each its own
# transaction (no BEGIN or COMMIT round trips):
#
# 1. _STATE_BY_TOKEN reads the ballot's settings, the round, the credential, the voter's
#    participation, whether they checked in, and the proposals with their costs, without a lock;
# 2. the vote is checked in Python;
# 3. _WRITE_VOTE takes the share lock on the ballot row and writes participation, cast ballot
#    and credential use only if that row still holds what step 1 read and is open; its commit
#    is flushed before it returns. Opening, pausing, closing and editing take the row
#    exclusively, so the vote is decided on the ballot's settings at the moment it is counted,
#    and a close waits for it (or it for the close, and then writes nothing). If the row
#    changed in between, the vote is decided again in a transaction that holds the lock from
#    the start (cast_vote).
#
# SQLite takes its write lock first (BEGIN IMMEDIATE), reads, and writes the three rows.
_ballots = Ballot.__table__
_credentials = Credential.__table__
_participations = Participation.__table__
_cast_ballots = CastBallot.__table__
_rounds = FundingRound.__table__
_items = BallotItem.__table__
_proposals = Proposal.__table__

_PARTICIPATION_COLUMNS = (
    _participations.c.channel,
    _participations.c.idempotency_hash,
    _participations.c.request_hash,
    _participations.c.sealed_receipt,
)


class _joined_strings(FunctionElement):
    """Text values of a group joined with commas: string_agg (PostgreSQL), group_concat."""

    type = String()
    name = "joined_strings"
    inherit_cache = True


@compiles(_joined_strings, "postgresql")
def _joined_strings_postgresql(element, compiler, **kw):
    return f"string_agg({compiler.process(element.clauses, **kw)}, ',')"


@compiles(_joined_strings)
def _joined_strings_sqlite(element, compiler, **kw):
    return f"group_concat({compiler.process(element.clauses, **kw)}, ',')"


def _vote_state(credential_match):
    """1. Everything a vote is decided on, in one row (None if there is no such ballot): the
    ballot's settings and round, the credential matching ``credential_match`` and its voter's
    participation (NULLs if none), whether the voter checked in at an assembly of the ballot,
    and the ballot's proposals with their costs as "id:cost,id:cost"."""
    check_ins, assemblies = CheckIn.__table__, Assembly.__table__
    present = (
        select(check_ins.c.id)
        .join(assemblies, assemblies.c.id == check_ins.c.assembly_id)
        .where(assemblies.c.ballot_id == _ballots.c.id)
        .where(check_ins.c.voter_key == _credentials.c.voter_key)
        .exists()
    )
    pair = (
        cast(_items.c.proposal_id, String)
        + ":"
        + func.coalesce(cast(_proposals.c.total_fen, String), "")
    )
    costs = (
        select(_joined_strings(pair))
        .select_from(_items.join(_proposals, _proposals.c.id == _items.c.proposal_id))
        .where(_items.c.ballot_id == _ballots.c.id)
        .scalar_subquery()
    )
    joined = (
        _ballots.join(_rounds, _rounds.c.id == _ballots.c.round_id)
        .outerjoin(_credentials, and_(_credentials.c.ballot_id == _ballots.c.id, credential_match))
        .outerjoin(
            _participations,
            and_(
                _participations.c.ballot_id == _ballots.c.id,
                _participations.c.voter_key == _credentials.c.voter_key,
            ),
        )
    )
    return (
        select(
            _ballots.c.id,
            *(_ballots.c[name] for name in _DECIDING_COLUMNS),
            _rounds.c.community_id,
            _rounds.c.budget_fen.label("round_budget_fen"),
            _credentials.c.id.label("credential_id"),
            _credentials.c.voter_key,
            _credentials.c.revoked_at,
            _credentials.c.expires_at,
            _participations.c.id.label("participation_id"),
            *_PARTICIPATION_COLUMNS,
            present.label("present"),
            costs.label("costs"),
        )
        .select_from(joined)
        .where(_ballots.c.id == bindparam("ballot_id"))
    )


_STATE_BY_TOKEN = _vote_state(_credentials.c.token_hash == bindparam("secret_hash"))
_STATE_BY_SHORT_CODE = _vote_state(_credentials.c.short_code_hash == bindparam("secret_hash"))

# Holding the share lock before reading (the retry of a vote whose ballot changed meanwhile).
# SQLite's compiler leaves FOR SHARE out; there BEGIN IMMEDIATE holds the database's write lock.
_LOCK_BALLOT = (
    select(_ballots.c.id).where(_ballots.c.id == bindparam("ballot")).with_for_update(read=True)
)

# 3. The write. Parameters are not named like columns: Core would take such keys as SET values.
_VOTE_VALUES = {
    "voter_key": bindparam("voter", type_=_participations.c.voter_key.type),
    "credential_id": bindparam("credential", type_=_participations.c.credential_id.type),
    "channel": bindparam("channel", type_=_participations.c.channel.type),
    "cast_at": bindparam("now", type_=_participations.c.cast_at.type),
    "idempotency_hash": bindparam(
        "idempotency_hash", type_=_participations.c.idempotency_hash.type
    ),
    "request_hash": bindparam("request_hash", type_=_participations.c.request_hash.type),
    "sealed_receipt": bindparam("sealed_receipt", type_=_participations.c.sealed_receipt.type),
}
_BALLOT_VALUES = {
    "id": bindparam("cast_id", type_=_cast_ballots.c.id.type),
    "contents": bindparam("contents", type_=_cast_ballots.c.contents.type),
    "receipt_code": bindparam("receipt", type_=_cast_ballots.c.receipt_code.type),
}
# SQLite: three statements, under the write lock taken before the read.
_INSERT_PARTICIPATION = insert(_participations).values(
    ballot_id=bindparam("ballot"), **_VOTE_VALUES
)
_INSERT_CAST_BALLOT = insert(_cast_ballots).values(ballot_id=bindparam("ballot"), **_BALLOT_VALUES)
_USE_CREDENTIAL = (
    update(_credentials)
    .where(_credentials.c.id == bindparam("credential"))
    .values(used_at=bindparam("now"))
)


def _guarded_write():
    """PostgreSQL: one statement of data-modifying CTEs (atomic: a unique violation on the
    participation leaves nothing written). Each row is inserted from the locked ballot row, so
    nothing is written unless the ballot is open with the settings read in step 1 ("was_*")."""
    unchanged = [
        _ballots.c[name].is_not_distinct_from(bindparam(f"was_{name}", type_=_ballots.c[name].type))
        for name in _DECIDING_COLUMNS
    ]
    ballot = (
        select(_ballots.c.id)
        .where(_ballots.c.id == bindparam("ballot"), _ballots.c.status == "open", *unchanged)
        .with_for_update(read=True)
        .cte("ballot")
    )
    participation = (
        insert(_participations)
        .from_select(["ballot_id", *_VOTE_VALUES], select(ballot.c.id, *_VOTE_VALUES.values()))
        .returning(_participations.c.id)
        .cte("participation")
    )
    cast_ballot = (
        insert(_cast_ballots)
        .from_select(["ballot_id", *_BALLOT_VALUES], select(ballot.c.id, *_BALLOT_VALUES.values()))
        .returning(_cast_ballots.c.id)
        .cte("cast_ballot")
    )
    credential_use = (
        update(_credentials)
        .where(_credentials.c.id == bindparam("credential"), select(ballot.c.id).exists())
        .values(used_at=bindparam("now"))
        .returning(_credentials.c.id)
        .cte("credential_use")
    )
    return select(func.count()).select_from(participation).add_cte(cast_ballot, credential_use)


_WRITE_VOTE = _guarded_write()


class BallotChanged(Conflict):
    """The ballot was opened, paused, closed or edited between reading it and writing a vote."""

    def __init__(self):
        super().__init__(_l("Please send your vote again."), code="retry")


_compiled: dict = {}


def _fetch_one(connection, statement, params: dict):
    """The first row of a prebuilt casting statement (a named tuple), or None.

    On PostgreSQL the statement runs on the driver's cursor: SQLAlchemy's per-execution result
    set-up (and psycopg building a column description for it) costs several times the query
    itself on this path. The SQL and the parameter conversions are SQLAlchemy's own, compiled
    once; errors go through SQLAlchemy's handling like any statement's (IntegrityError,
    OperationalError with the lost connection invalidated). SQLite runs it through Core.
    """
    if connection.dialect.name != "postgresql":
        return connection.execute(statement, params).first()
    dialect = connection.dialect
    key = (statement, type(dialect), dialect.server_version_info)
    if key not in _compiled:
        compiled = statement.compile(dialect=dialect)
        defaults, processors = {}, {}
        for name, bind in compiled.binds.items():
            if not bind.required:  # a constant of the statement, such as 'open'
                defaults[name] = bind.effective_value
            processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                processors[name] = processor
        row_type = namedtuple("Row", statement.selected_columns.keys())
        _compiled[key] = (compiled.string, defaults, processors, row_type)
    sql, defaults, processors, row_type = _compiled[key]
    values = {**defaults, **params}
    for name, processor in processors.items():
        values[name] = processor(values[name])
    cursor = connection.connection.driver_connection.cursor()
    try:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    except Exception as error:
        connection._handle_dbapi_exception(error, sql, values, cursor, None)
    finally:
        cursor.close()
    return row_type._make(row) if row is not None else None


def _parse_costs(text_value: str | None) -> dict[int, int | None]:
    costs: dict[int, int | None] = {}
    for pair in (text_value or "").split(","):
        if pair:
            pid, _sep, cost = pair.partition(":")
            costs[int(pid)] = int(cost) if cost else None
    return costs


def _write_vote(
    connection,
    ballot: dict,
    voter_key: str,
    credential_id: int | None,
    contents: dict,
    *,
    channel: str,
    seal_secret: str | None,
    idempotency_key: str | None,
    now: datetime,
) -> str:
    """Insert participation + cast ballot and mark the credential used on ``connection`` (in its
    transaction, or as a transaction of its own in autocommit); returns the receipt code.

    ``ballot`` holds the ballot's id and the settings the vote was checked against
    (_DECIDING_COLUMNS). Raises IntegrityError if the voter already voted, BallotChanged if the
    ballot is no longer open with those settings."""
    receipt = new_receipt_code()
    params = {
        "ballot": ballot["id"],
        "voter": voter_key,
        "credential": credential_id,
        "channel": channel,
        "now": now,
        "idempotency_hash": None,
        "request_hash": None,
        "sealed_receipt": None,
        "cast_id": secrets.token_hex(16),
        "contents": contents,
        "receipt": receipt,
    }
    if seal_secret and idempotency_key:
        params["idempotency_hash"] = _mac(seal_secret, "idem:" + idempotency_key).hex()
        params["request_hash"] = _mac(seal_secret, "request:" + _canonical(contents)).hex()
        params["sealed_receipt"] = _seal(receipt, seal_secret, idempotency_key)
    if connection.dialect.name == "postgresql":
        params.update({f"was_{name}": ballot[name] for name in _DECIDING_COLUMNS})
        if not _fetch_one(connection, _WRITE_VOTE, params)[0]:
            raise BallotChanged()
    else:
        # The unique constraint speaks on the first insert, before the ballot row exists.
        connection.execute(_INSERT_PARTICIPATION, params)
        connection.execute(_INSERT_CAST_BALLOT, params)
        if credential_id is not None:
            connection.execute(_USE_CREDENTIAL, params)
    return receipt


def cast_vote(
    ballot_id: int,
    secret: str,
    payload: dict,
    *,
    idempotency_key: str | None = None,
    seal_secret: str | None = None,
    now: datetime | None = None,
) -> CastResult:
    """Record one resident's vote, given their credential secret (token or typed short code).

    ``payload`` holds the choices (see :func:`validate_contents`). ``seal_secret`` seals the
    receipt for retries; it defaults to ``secret`` (the raw token) and must be a high-entropy
    secret the voter holds (the web flow passes a random session secret for typed short codes).
    Returns the receipt; raises NotFound (no such ballot), Forbidden (unknown/revoked/expired
    credential, not checked in), Conflict (already voted, ballot not open, outside the online
    window, key reused with another request) or BallotContentError (invalid choices). Nothing is
    stored unless everything holds.
    """
    seal_secret = seal_secret or secret
    now = now or utcnow()
    vote = (ballot_id, secret, payload, seal_secret, idempotency_key, now)
    try:
        # The engine's dialect, not the session's: asking the session would create one, and the
        # PostgreSQL path needs none.
        if db.engine.dialect.name != "sqlite":
            try:
                result = _cast_in_two_statements(vote)  # committed: the write is a transaction
                statistics.vote_cast(db.engine, ballot_id)
                if db.session.registry.has():
                    db.session.commit()  # as on SQLite: the caller's session then sees the vote
                return result
            except BallotChanged:
                # Opened, paused, closed or edited since we read it. Decide again on what it
                # is now, in a transaction holding its lock from the start.
                connection = db.session.connection()
                connection.execute(_LOCK_BALLOT, {"ballot": ballot_id})
        else:
            begin_write()  # the write lock before anything is read
            connection = db.session.connection()
        result = _decide_and_write(connection, *vote)
        db.session.commit()
        return result
    except IntegrityError:
        # Another request for the same voter committed first (PostgreSQL; on SQLite the write
        # lock makes this unreachable). Decide against what it stored.
        db.session.rollback()
        credential = find_credential(ballot_id, secret)
        existing = db.session.scalar(
            select(Participation).filter_by(ballot_id=ballot_id, voter_key=credential.voter_key)
        )
        if existing is None:  # not the participation constraint: a random id collided
            raise Conflict(_l("Please send your vote again."), code="retry") from None
        ballot = db.session.get(Ballot, ballot_id)
        contents = validate_contents(ballot, payload)
        return _replay(existing, seal_secret, idempotency_key, _canonical(contents))
    except Exception:
        db.session.rollback()
        raise


def _cast_in_two_statements(vote: tuple) -> CastResult:
    """PostgreSQL: the read and the guarded write, each its own (autocommit) transaction.

    The write is one statement, so it is atomic and durable on its own: participation, cast
    ballot and credential use are written together or not at all, and its commit is flushed
    before the vote is acknowledged. Being its own transaction it also needs no BEGIN and COMMIT
    round trips. It runs on a pooled connection of its own; the request's session (audit events
    of refused paper ballots, the decide-again path) keeps its ordinary transactions.
    """
    with db.engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return _decide_and_write(connection, *vote)


def _decide_and_write(
    connection, ballot_id, secret, payload, seal_secret, idempotency_key, now
) -> CastResult:
    state = _read_vote_state(connection, ballot_id, secret)
    if state is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    credential = usable_credential_or_refuse(
        state if state.credential_id is not None else None, now
    )
    rules = BallotRules.read(
        state, state.budget_fen or state.round_budget_fen, _parse_costs(state.costs)
    )
    return _record_ballot(
        connection,
        rules,
        state._asdict(),
        state.community_id,
        credential.voter_key,
        credential.credential_id,
        state if state.participation_id is not None else None,
        payload,
        channel=None,
        present=bool(state.present),
        seal_secret=seal_secret,
        idempotency_key=idempotency_key,
        now=now,
    )


def _read_vote_state(connection, ballot_id: int, secret: str):
    """Step 1 for this secret: by token hash, else (a code typed by hand) by short code."""
    params = {"ballot_id": ballot_id}
    secret = (secret or "").strip()
    if not secret or len(secret) > 64:  # as find_credential: such a secret matches nothing
        params["secret_hash"] = ""
        return _fetch_one(connection, _STATE_BY_TOKEN, params)
    params["secret_hash"] = hash_secret(secret)
    state = _fetch_one(connection, _STATE_BY_TOKEN, params)
    if state is not None and state.credential_id is None:
        code = normalize_short_code(secret)
        if len(code) == SHORT_CODE_LENGTH:
            params["secret_hash"] = hash_secret(code)
            state = _fetch_one(connection, _STATE_BY_SHORT_CODE, params)
    return state


def warm_up_casting(connection) -> None:
    """Run the vote's read once on ``connection``, for no ballot (see app.warm_up)."""
    _read_vote_state(connection.execution_options(isolation_level="AUTOCOMMIT"), 0, "")


def _participation(ballot_id: int, voter_key: str):
    """The voter's participation in the ballot (the columns a replay needs), or None."""
    query = select(_participations.c.id, *_PARTICIPATION_COLUMNS).where(
        _participations.c.ballot_id == ballot_id, _participations.c.voter_key == voter_key
    )
    return db.session.connection().execute(query).first()


def _record_ballot(
    connection,
    rules: BallotRules,
    ballot: dict,
    community_id: int,
    voter_key: str,
    credential_id: int | None,
    existing,
    payload: dict,
    *,
    channel: str | None,
    present: bool,
    seal_secret: str | None,
    idempotency_key: str | None,
    now: datetime,
) -> CastResult:
    """Decide on one vote and write it in the caller's transaction.

    ``ballot`` maps the ballot's id and _DECIDING_COLUMNS to the values ``rules`` were read from
    (the write checks they still hold). ``existing`` is the voter's participation row if they
    already took part (a retry is answered with its receipt, anything else refused);
    ``channel`` None means online or assembly, chosen by ``present`` (checked in at an assembly
    of the ballot) and the ballot's mode and window.
    """
    if existing is not None:
        if channel == "paper" or existing.channel == "paper":
            record(
                "ballot.double_channel_refused",
                "ballot",
                rules.id,
                community_id=community_id,
                after={
                    "voter_key": voter_key,
                    "attempted": channel or "online",
                    "already": existing.channel,
                },
            )
            db.session.commit()
            raise Conflict(
                _l(
                    "A vote has already been recorded for this voter (%(channel)s).",
                    channel=CHANNEL_LABELS.get(existing.channel, existing.channel),
                ),
                code="already_voted",
            )
        body = _canonical(validate_contents(rules, payload))
        return _replay(existing, seal_secret, idempotency_key, body)
    refusal = refusal_for_status(rules)
    if refusal is not None:
        raise refusal
    if channel is None:
        channel = _channel(rules, present, now)
    contents = validate_contents(rules, payload)
    receipt = _write_vote(
        connection,
        ballot,
        voter_key,
        credential_id,
        contents,
        channel=channel,
        seal_secret=seal_secret,
        idempotency_key=idempotency_key,
        now=now,
    )
    return CastResult(receipt, True)


def voter_has_voted(ballot_id: int, voter_key: str) -> bool:
    query = select(Participation.id).filter_by(ballot_id=ballot_id, voter_key=voter_key)
    return db.session.scalar(query) is not None


def lookup_receipt(code: str) -> CastBallot | None:
    """The counted ballot with this receipt code (public: it reveals only "counted")."""
    code = normalize_receipt(code)
    if len(code) != RECEIPT_LENGTH:
        return None
    return db.session.scalar(select(CastBallot).filter_by(receipt_code=code))


def find_credential_by_token(token: str) -> Credential | None:
    """The credential whose personal-link token this is, in any ballot (token hashes are unique)."""
    if not token or len(token) > 64:
        return None
    return db.session.scalar(select(Credential).filter_by(token_hash=hash_secret(token)))


def claim_credential(credential: Credential, now: datetime | None = None) -> Credential:
    """Exchange a personal link for a session: refuse revoked, expired, reused walk-in links.

    The claim is one conditional UPDATE (``... WHERE claimed_at IS NULL``), so of two phones
    opening the same walk-in link at once exactly one gets it.
    """
    now = now or utcnow()
    usable_credential_or_refuse(credential, now)
    claimed = db.session.execute(
        update(Credential)
        .where(Credential.id == credential.id, Credential.claimed_at.is_(None))
        .values(claimed_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    if not claimed and credential.kind == "walk_in":
        raise Forbidden(
            _l("This one-time code has already been used. Please ask at the desk."),
            code="claimed",
        )
    db.session.refresh(credential)
    return credential


# --------------------------------------------------------------------------- paper ballots


def _paper_voter(ballot: Ballot, voter: str) -> tuple[str, Credential]:
    """The voter key and credential for a paper ballot, from a card's short code or a voter key."""
    voter = (voter or "").strip()
    credential = None
    if len(voter) <= 30 and voter[:1] in ("r", "h") and voter[1:].isdigit():
        credential = db.session.scalar(
            select(Credential)
            .filter_by(ballot_id=ballot.id, voter_key=voter, revoked_at=None)
            .order_by(Credential.id.desc())
        )
    else:
        found = find_credential(ballot.id, voter)
        if found is not None and found.revoked_at is None:
            credential = found
    if credential is None:
        raise DomainError(
            _l("No valid voter card found for this voter on this ballot."), code="unknown_voter"
        )
    return credential.voter_key, credential


def enter_paper_ballot(ballot_id: int, voter: str, payload: dict, *, clerk) -> PaperBallotEntry:
    """One clerk's entry of a paper ballot. When two clerks' entries agree it is counted.

    The entry is validated like an online vote. The second clerk's entry is compared with the
    first: equal contents count the ballot through the casting service (channel "paper", using up
    the voter's credential) and the stored entries' contents are then erased, so that no table
    keeps a voter's choices; different contents mark both entries "mismatch" for a supervisor.
    A paper ballot for a voter who already voted (by phone or on paper) is refused and the refusal
    recorded in the audit log for the supervisor.
    """
    ballot = _lock_ballot(ballot_id, exclusive=False)
    try:
        if ballot is None:
            raise NotFound(_l("No such ballot."), code="not_found")
        voter_key, credential = _paper_voter(ballot, voter)
        if voter_has_voted(ballot.id, voter_key):
            existing = db.session.scalar(
                select(Participation).filter_by(ballot_id=ballot.id, voter_key=voter_key)
            )
            # A pending entry of this voter's paper ballot is void now: keep no choices.
            for stale in db.session.scalars(
                select(PaperBallotEntry).filter_by(
                    ballot_id=ballot.id, voter_key=voter_key, status="pending"
                )
            ):
                stale.status, stale.contents = "refused", {}
            record(
                "ballot.double_channel_refused",
                "ballot",
                ballot.id,
                actor=clerk,
                community_id=ballot.round.community_id,
                after={"voter_key": voter_key, "attempted": "paper", "already": existing.channel},
            )
            db.session.commit()
            raise Conflict(
                _l(
                    "This voter has already voted (%(channel)s). The paper ballot is refused "
                    "and the supervisor has been notified.",
                    channel=CHANNEL_LABELS.get(existing.channel, existing.channel),
                ),
                code="already_voted",
            )
        refusal = refusal_for_status(ballot)
        if refusal is not None:
            raise refusal
        contents = validate_contents(ballot, payload)
        entries = list(
            db.session.scalars(
                select(PaperBallotEntry).filter_by(ballot_id=ballot.id, voter_key=voter_key)
            )
        )
        if any(e.clerk_id == clerk.id for e in entries):
            raise Conflict(
                _l("You have already entered this paper ballot; a second clerk must enter it."),
                code="same_clerk",
            )
        if len(entries) >= 2:
            raise Conflict(_l("This paper ballot has already been entered twice."), code="twice")
        entry = PaperBallotEntry(
            ballot_id=ballot.id, voter_key=voter_key, clerk_id=clerk.id, contents=contents
        )
        db.session.add(entry)
        db.session.flush()
        record(
            "paper_ballot.enter",
            "paper_ballot_entry",
            entry.id,
            actor=clerk,
            community_id=ballot.round.community_id,
            after={"voter_key": voter_key},
        )
        if entries:
            first = entries[0]
            if _canonical(first.contents) == _canonical(contents):
                _count_paper(ballot, voter_key, credential, contents, [first, entry], clerk)
            else:
                for item in (first, entry):
                    item.status = "mismatch"
                record(
                    "paper_ballot.mismatch",
                    "ballot",
                    ballot.id,
                    actor=clerk,
                    community_id=ballot.round.community_id,
                    after={"voter_key": voter_key},
                )
        db.session.commit()
        return entry
    except IntegrityError as error:
        db.session.rollback()
        raise Conflict(
            _l("This paper ballot was entered at the same moment by someone else; reload."),
            code="conflict",
        ) from error
    except Exception:
        db.session.rollback()
        raise


def _count_paper(ballot, voter_key, credential, contents, entries, actor) -> str:
    result = _record_ballot(
        db.session.connection(),
        BallotRules.of(ballot),
        {name: getattr(ballot, name) for name in ("id", *_DECIDING_COLUMNS)},
        ballot.round.community_id,
        voter_key,
        credential.id if credential is not None else None,
        _participation(ballot.id, voter_key),
        _payload_from_contents(ballot, contents),
        channel="paper",
        present=False,
        seal_secret=None,
        idempotency_key=None,
        now=utcnow(),
    )
    for item in entries:
        item.status = "matched"
        item.contents = {}  # counted: the choices now live only in the unlinked cast ballot
    record(
        "paper_ballot.count",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        after={"voter_key": voter_key},
    )
    return result.receipt


def _payload_from_contents(ballot: Ballot, contents: dict) -> dict:
    if ballot.method in ("approval", "knapsack"):
        return {"selections": contents["selections"]}
    if ballot.method == "cumulative":
        return {"points": contents["points"]}
    return {"answers": contents}


def paper_mismatches(ballot_id: int) -> dict[str, list[PaperBallotEntry]]:
    """Paper ballots whose two entries disagree, by voter key."""
    found: dict[str, list[PaperBallotEntry]] = {}
    query = select(PaperBallotEntry).filter_by(ballot_id=ballot_id, status="mismatch")
    for entry in db.session.scalars(query.order_by(PaperBallotEntry.id)):
        found.setdefault(entry.voter_key, []).append(entry)
    return found


def resolve_paper_mismatch(
    ballot_id: int,
    voter_key: str,
    chosen_entry_id: int | None,
    *,
    supervisor,
    discard: bool = False,
) -> None:
    """A supervisor settles a mismatch: count one clerk's entry (checked on paper), or discard."""
    ballot = _lock_ballot(ballot_id, exclusive=False)
    try:
        if ballot is None:
            raise NotFound(_l("No such ballot."), code="not_found")
        entries = paper_mismatches(ballot_id).get(voter_key, [])
        if not entries:
            raise NotFound(_l("No mismatch to resolve for this voter."), code="not_found")
        if discard:
            for item in entries:
                item.status = "discarded"
                item.contents = {}
            record(
                "paper_ballot.discard",
                "ballot",
                ballot.id,
                actor=supervisor,
                community_id=ballot.round.community_id,
                after={"voter_key": voter_key},
            )
        else:
            chosen = next((e for e in entries if e.id == chosen_entry_id), None)
            if chosen is None:
                raise DomainError(_l("Choose one of the two entries."), code="choice")
            refusal = refusal_for_status(ballot)
            if refusal is not None:
                raise refusal
            credential = db.session.scalar(
                select(Credential)
                .filter_by(ballot_id=ballot.id, voter_key=voter_key, revoked_at=None)
                .order_by(Credential.id.desc())
            )
            _count_paper(ballot, voter_key, credential, chosen.contents, entries, supervisor)
            record(
                "paper_ballot.resolve",
                "ballot",
                ballot.id,
                actor=supervisor,
                community_id=ballot.round.community_id,
                after={"voter_key": voter_key, "entry": chosen.id},
            )
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise


# --------------------------------------------------------------------------- tally


@dataclass
class Tally:
    ballot_id: int
    method: str
    ballots_cast: int
    eligible: int
    by_channel: dict[str, int]
    # proposal id -> votes (approval/knapsack), points (cumulative) or yes votes (yes_no)
    votes: dict[int, int]
    no_votes: dict[int, int]  # yes_no only

    @property
    def turnout_percent(self) -> float:
        return round(100 * self.ballots_cast / self.eligible, 1) if self.eligible else 0.0


def eligible_count(ballot: Ballot) -> int:
    """Eligible voters of the ballot's round, by the registry's rule: residents, or households."""
    from ..registry.services import eligible_counts

    funding_round = ballot.round
    residents, households = eligible_counts(funding_round.community_id, funding_round.year)
    return residents if funding_round.vote_unit == VOTE_UNIT_RESIDENT else households


def _aggregate(ballot: Ballot) -> list[tuple[str, object, int]]:
    """(proposal id as text, value, count or sum) rows computed by the database from the JSON."""
    dialect = db.session.get_bind().dialect.name
    params = {"b": ballot.id}
    if ballot.method in ("approval", "knapsack"):
        if dialect == "sqlite":
            sql = (
                "SELECT CAST(j.value AS TEXT), 1, COUNT(*) FROM cast_ballots c, "
                "json_each(c.contents, '$.selections') j WHERE c.ballot_id = :b "
                "GROUP BY j.value"
            )
        else:
            sql = (
                "SELECT j.value, 1, COUNT(*) FROM cast_ballots c, "
                "json_array_elements_text(c.contents -> 'selections') j(value) "
                "WHERE c.ballot_id = :b GROUP BY j.value"
            )
    elif ballot.method == "cumulative":
        if dialect == "sqlite":
            sql = (
                "SELECT j.key, 1, SUM(j.value) FROM cast_ballots c, "
                "json_each(c.contents, '$.points') j WHERE c.ballot_id = :b GROUP BY j.key"
            )
        else:
            sql = (
                "SELECT j.key, 1, SUM(j.value::bigint) FROM cast_ballots c, "
                "json_each_text(c.contents -> 'points') j WHERE c.ballot_id = :b GROUP BY j.key"
            )
    elif dialect == "sqlite":
        sql = (
            "SELECT j.key, CASE WHEN j.type = 'true' THEN 1 ELSE 0 END AS yes, COUNT(*) "
            "FROM cast_ballots c, json_each(c.contents) j WHERE c.ballot_id = :b "
            "GROUP BY j.key, yes"
        )
    else:
        sql = (
            "SELECT j.key, CASE WHEN j.value = 'true' THEN 1 ELSE 0 END AS yes, COUNT(*) "
            "FROM cast_ballots c, json_each_text(c.contents) j WHERE c.ballot_id = :b "
            "GROUP BY j.key, yes"
        )
    return list(db.session.execute(text(sql), params))


def tally(ballot_id: int) -> Tally:
    """Count a ballot: votes (or points, or yes/no) per proposal, ballots cast and turnout.

    Aggregation happens in the database (JSON functions of SQLite and PostgreSQL); Python only
    shapes the result. Every proposal on the ballot appears, with 0 if nobody chose it.
    """
    ballot = db.session.get(Ballot, ballot_id)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    votes = {item.proposal_id: 0 for item in ballot.items}
    no_votes = dict(votes) if ballot.method == "yes_no" else {}
    for key, flag, amount in _aggregate(ballot):
        pid = int(key)
        if pid not in votes:
            continue
        if ballot.method == "yes_no" and not flag:
            no_votes[pid] = int(amount)
        else:
            votes[pid] = int(amount)
    channels = dict(
        db.session.execute(
            select(Participation.channel, func.count())
            .where(Participation.ballot_id == ballot_id)
            .group_by(Participation.channel)
        ).all()
    )
    cast = db.session.scalar(
        select(func.count()).select_from(CastBallot).where(CastBallot.ballot_id == ballot_id)
    )
    return Tally(
        ballot_id=ballot_id,
        method=ballot.method,
        ballots_cast=cast or 0,
        eligible=eligible_count(ballot),
        by_channel=channels,
        votes=votes,
        no_votes=no_votes,
    )
