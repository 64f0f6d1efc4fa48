"""Casting a vote: one function, :func:`cast_vote`, for the resident's form and the JSON API.

Paper ballots are counted through the same decision (:func:`record_ballot`). How one vote is
stored (the invariants of DESIGN.md "Ballot integrity"):

* ``participations`` says *who* voted (ballot, voter key, channel, day); its unique constraint on
  (ballot_id, voter_key) is what guarantees one vote per person or household, under any
  concurrency. Application checks only produce friendlier messages.
* ``ballot_box`` says *what* was chosen, sealed under a key the database does not hold (a random
  id, the sealed contents and receipt, a keyed hash of the receipt): sealing.py. The close moves
  the contents to ``cast_ballots`` in a shuffled order with new ids.
* ``vote_replays`` answers a retry with its receipt for a while, holding no contents
  (receipts.py).
* These rows, and ``Credential.used_at``, are written in ONE transaction. On SQLite the
  transaction starts with ``BEGIN IMMEDIATE`` (the write lock up front, so nothing read can go
  stale). On PostgreSQL the rows are written by ONE statement, which takes a share lock on the
  ballot row and writes only if the ballot is still open with the settings the vote was checked
  against, while opening, pausing, closing and editing take it exclusively: votes run in
  parallel with each other but never interleave with a status change, and a vote that finds the
  ballot changed is decided again holding the lock from the start (statements.py).

Retries are idempotent without breaking secrecy: see receipts.py. The time of a vote is kept
nowhere: the participation keeps the day, the credential's ``used_at`` the same day.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, time

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..ballots.lifecycle import begin_write
from ..ballots.models import Ballot, Participation
from ..ballots.rules import BallotRules, choose_channel, refusal_for_status, validate_contents
from ..checkin.models import Assembly, CheckIn
from ..errors import Conflict, NotFound
from ..extensions import db
from ..registry.credentials import check_usable, find_credential
from ..timeutil import utcnow
from . import statements, statistics
from .receipts import (
    new_receipt_code,
    receipt_of_retry,
    replay_columns,
    sweep_expired_replays,
)
from .sealing import receipt_tag, seal_contents

CHANNEL_LABELS = {"online": _l("online"), "assembly": _l("at the assembly"), "paper": _l("paper")}


@dataclass
class CastResult:
    receipt: str
    created: bool  # False when a retry of an already recorded vote returned its receipt


@dataclass(frozen=True)
class Vote:
    """One voter's vote as sent: the credential ``secret``, the choices (``payload``), the
    secret that seals its receipt for retries and the vote's idempotency key."""

    ballot_id: int
    secret: str
    payload: dict
    seal_secret: str | None
    idempotency_key: str | None
    now: datetime


@dataclass(frozen=True)
class Participant:
    """Who is voting: the ballot's community (for the audit log), the voter key, the
    credential used (None for a paper ballot without one) and whether they took part already."""

    community_id: int
    key: str
    credential_id: int | None
    took_part: bool


def checked_in(ballot_id: int, voter_key: str) -> bool:
    """Whether the voter has checked in at an assembly of this ballot."""
    query = (
        select(CheckIn.id)
        .join(Assembly, Assembly.id == CheckIn.assembly_id)
        .where(Assembly.ballot_id == ballot_id, CheckIn.voter_key == voter_key)
        .limit(1)
    )
    return db.session.scalar(query) is not None


def channel_for(ballot: Ballot | BallotRules, voter_key: str, now: datetime) -> str:
    """ "assembly" for checked-in voters, else "online" within the window; or refuse."""
    return choose_channel(ballot, checked_in(ballot.id, voter_key), now)


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

    ``payload`` holds the choices (see :func:`..ballots.rules.validate_contents`).
    ``seal_secret`` seals the receipt for retries; it defaults to ``secret`` (the raw token) and
    must be a high-entropy secret the voter holds (the web flow passes a random session secret
    for typed short codes). A retry with the same secrets and ``idempotency_key`` within the
    recovery window is answered with the first vote's receipt (``created`` False), whatever
    choices it carries: the vote that counts is the first. Returns the receipt; raises NotFound
    (no such ballot), Forbidden (unknown/revoked/expired credential, not checked in), Conflict
    (already voted and not a retry that can be replayed, ballot not open, outside the online
    window) or BallotContentError (invalid choices). Nothing is stored unless everything holds.
    """
    vote = Vote(ballot_id, secret, payload, seal_secret or secret, idempotency_key, now or utcnow())
    result = _cast(vote)
    sweep_expired_replays(db.engine, vote.now)
    return result


def _cast(vote: Vote) -> CastResult:
    """cast_vote's decision and write, on the database's path."""
    ballot_id = vote.ballot_id
    # The engine, not the session: asking the session would create one, and the PostgreSQL path
    # needs none.
    engine = db.engine
    try:
        if engine.dialect.name != "sqlite":
            try:
                result = _cast_in_two_statements(engine, vote)  # committed: it is a transaction
                statistics.vote_cast(engine, ballot_id)
                if db.session.registry.has():
                    db.session.commit()  # as on SQLite: the caller's session then sees the vote
                return result
            except statements.BallotChanged:
                # Opened, paused, closed or edited since we read it. Decide again on what it
                # is now, in a transaction holding its lock from the start.
                connection = db.session.connection()
                statements.lock_for_vote(connection, ballot_id)
        else:
            begin_write()  # the write lock before anything is read
            connection = db.session.connection()
        result = decide_and_write(connection, vote)
        db.session.commit()
        return result
    except IntegrityError:
        # Another request for the same voter committed first (PostgreSQL; on SQLite the write
        # lock makes this unreachable). Decide against what it stored.
        db.session.rollback()
        return _answer_the_first(vote)
    except Exception:
        db.session.rollback()
        raise


def _answer_the_first(vote: Vote) -> CastResult:
    """The voter's vote was recorded by a request that committed first: answer a retry of it
    with its receipt, anything else as a second vote."""
    credential = find_credential(vote.ballot_id, vote.secret)
    existing = db.session.scalar(
        select(Participation).filter_by(ballot_id=vote.ballot_id, voter_key=credential.voter_key)
    )
    if existing is None:  # not the participation constraint: a random id collided
        raise Conflict(_l("Please send your vote again."), code="retry") from None
    validate_contents(db.session.get(Ballot, vote.ballot_id), vote.payload)
    sealing = (vote.seal_secret, vote.idempotency_key)
    receipt = receipt_of_retry(
        db.session.connection(), vote.ballot_id, credential.id, sealing, vote.now
    )
    return CastResult(receipt, False)


def _cast_in_two_statements(engine, vote: Vote) -> CastResult:
    """PostgreSQL: the read and the guarded write, each its own (autocommit) transaction.

    The write is one statement, so it is atomic and durable on its own: participation, cast
    ballot and credential use are written together or not at all, and its commit is flushed
    before the vote is acknowledged. Being its own transaction it also needs no BEGIN and COMMIT
    round trips. It runs on a pooled connection of its own; the request's session (audit events
    of refused paper ballots, the decide-again path) keeps its ordinary transactions.
    """
    with engine.connect() as connection:
        connection = connection.execution_options(isolation_level="AUTOCOMMIT")
        return decide_and_write(connection, vote)


def decide_and_write(connection, vote: Vote) -> CastResult:
    """Read what the vote is decided on, decide, and write it on ``connection``."""
    state = statements.read_vote_state(connection, vote.ballot_id, vote.secret)
    if state is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    check_usable(
        state["credential_id"] is not None, state["revoked_at"], state["expires_at"], vote.now
    )
    budget = state["budget_fen"] or state["round_budget_fen"]
    rules = BallotRules.read(vote.ballot_id, state, budget, statements.parse_costs(state["costs"]))
    voter = Participant(
        state["community_id"],
        state["voter_key"],
        state["credential_id"],
        state["participation_id"] is not None,
    )
    return record_ballot(
        connection,
        rules,
        state,
        voter,
        vote.payload,
        channel=None,
        present=bool(state["present"]),
        sealing=(vote.seal_secret, vote.idempotency_key),
        now=vote.now,
    )


def record_ballot(
    connection,
    rules: BallotRules,
    settings,
    voter: Participant,
    payload: dict,
    *,
    channel: str | None,
    present: bool,
    sealing: tuple[str | None, str | None],
    now: datetime,
) -> CastResult:
    """Decide on one vote and write it in the caller's transaction.

    ``settings`` maps DECIDING_COLUMNS to the values ``rules`` were read from (the write checks
    they still hold). A voter who already took part is answered with the receipt of a retry,
    anything else refused; ``channel`` None means online or assembly, chosen by ``present``
    (checked in at an assembly of the ballot) and the ballot's mode and window. ``sealing`` is
    the (seal secret, idempotency key) of the vote, or (None, None).
    """
    if voter.took_part:
        existing = statements.participation_of(connection, rules.id, voter.key)
        return _second_vote(connection, rules, voter, existing, (payload, channel), sealing, now)
    refusal = refusal_for_status(rules)
    if refusal is not None:
        raise refusal
    if channel is None:
        channel = choose_channel(rules, present, now)
    contents = validate_contents(rules, payload)
    receipt = new_receipt_code()
    day = datetime.combine(now.date(), time())
    statements.write_vote(
        connection,
        rules.id,
        settings,
        {
            "voter": voter.key,
            "credential": voter.credential_id,
            "channel": channel,
            "now": day,
            "day": day,
            "box_id": secrets.token_hex(16),
            # The voter's building travels sealed with the contents (allocation/buildings.py).
            "sealed": seal_contents(rules.id, contents, receipt, settings.get("building")),
            "receipt_tag": receipt_tag(receipt),
            **replay_columns(rules.id, voter.credential_id, receipt, sealing, now),
        },
    )
    return CastResult(receipt, True)


def record_hand_over(connection, rules: BallotRules, voter_key: str, now: datetime) -> None:
    """Record that ``voter_key`` received a paper ballot: the participation alone (channel
    "paper", no credential, no contents), in the caller's transaction. Its choices are counted
    later from the sheet, through :func:`record_contents`, with nothing naming the voter.
    Raises the status refusal, or IntegrityError if the voter already took part."""
    refusal = refusal_for_status(rules)
    if refusal is not None:
        raise refusal
    day = datetime.combine(now.date(), time())  # as a phone's vote: the day, not the time
    vote = {"voter": voter_key, "credential": None, "channel": "paper", "day": day}
    statements.write_participation(connection, rules.id, vote)


def record_contents(connection, rules: BallotRules, payload: dict) -> CastResult:
    """Count one ballot's choices with no voter (a paper sheet), in the caller's transaction:
    validated and stored exactly as a vote's contents are."""
    refusal = refusal_for_status(rules)
    if refusal is not None:
        raise refusal
    contents = validate_contents(rules, payload)
    receipt = new_receipt_code()
    statements.write_contents(
        connection,
        rules.id,
        {
            "box_id": secrets.token_hex(16),
            "sealed": seal_contents(rules.id, contents, receipt),
            "receipt_tag": receipt_tag(receipt),
        },
    )
    return CastResult(receipt, True)


def _second_vote(
    connection, rules: BallotRules, voter: Participant, existing, sent, sealing, now
) -> CastResult:
    """A voter who already took part (``existing`` is their participation; ``sent`` the
    (payload, channel) of this vote): a retry gets its receipt; any other vote is refused, and
    one that involves a paper ballot is recorded in the audit log for the supervisor."""
    payload, channel = sent
    if channel == "paper" or existing.channel == "paper":
        record(
            "ballot.double_channel_refused",
            "ballot",
            rules.id,
            community_id=voter.community_id,
            after={
                "voter_key": voter.key,
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
    validate_contents(rules, payload)
    receipt = receipt_of_retry(connection, rules.id, voter.credential_id, sealing, now)
    return CastResult(receipt, False)
