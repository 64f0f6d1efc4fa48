"""A ballot's status (open, paused, closed) and the lock that orders status changes and votes.

Opening, pausing, closing and editing take the ballot row exclusively; votes and paper ballots
take it shared (PostgreSQL), or take SQLite's write lock before reading anything. So a vote is
decided on the ballot's settings at the moment it is counted, and a close waits for a vote in
flight (or the vote for the close, and then refuses).
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..audit.services import record
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..timeutil import utcnow
from .live import forget_batches
from .models import Ballot, void_unfinished_paper_entries

STATUS_ACTIONS = {"open": "open", "pause": "paused", "close": "closed"}

# What a close does beyond the status, supplied by higher areas when they load (ballots cannot
# import them). ``step(ballot)`` runs in the close's transaction and returns a callable to run
# after its commit, or None. Steps run stage by stage, in this order, then in the order they
# were registered:
#   "seal"    - voting/sealing.py: the sealed ballot box is shuffled into cast ballots (and,
#               after the commit, the tables are rewritten);
#   "figures" - checkin/services.py: the quorum's figures are frozen with the ballot.
CLOSE_STAGES = ("seal", "figures")
CLOSE_STEPS: list = []  # (stage, step), kept in the order above


def on_close(step, *, stage: str = "figures"):
    """Register ``step(ballot)`` to run as a ballot closes, in ``stage`` (one of
    ``CLOSE_STAGES``); it may return a callable to run after the close's commit. Registering
    a step twice keeps the first. Returns the step (usable as a decorator)."""
    if stage not in CLOSE_STAGES:
        raise ValueError(f"unknown close stage {stage!r}")
    if all(registered is not step for _stage, registered in CLOSE_STEPS):
        CLOSE_STEPS.append((stage, step))
        CLOSE_STEPS.sort(key=lambda entry: CLOSE_STAGES.index(entry[0]))  # stable
    return step


def close_steps() -> list:
    """The registered close steps, in the order a close runs them."""
    return [step for _stage, step in CLOSE_STEPS]


def is_sqlite() -> bool:
    """Whether the session's database is SQLite (locks the whole database, not rows)."""
    return db.session.get_bind().dialect.name == "sqlite"


def begin_write() -> None:
    """Start the session's transaction holding SQLite's write lock (``BEGIN IMMEDIATE``).

    Python's sqlite3 module (legacy transaction control) opens a transaction only before the first
    INSERT/UPDATE, so reads before it would see a snapshot another writer can overtake. Emitting
    ``BEGIN IMMEDIATE`` ourselves on a connection with no open transaction takes the write lock
    now; the module notices the open transaction and commits it at ``session.commit()``. On other
    databases this does nothing (they lock rows explicitly).
    """
    if not is_sqlite():
        return
    connection = db.session.connection()
    if not connection.connection.driver_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def lock_ballot(ballot_id: int, *, exclusive: bool) -> Ballot | None:
    """Load the ballot under a lock: share for votes, exclusive for status changes and edits."""
    begin_write()
    query = select(Ballot).filter_by(id=ballot_id).execution_options(populate_existing=True)
    if not is_sqlite():
        query = query.with_for_update(read=not exclusive)
    return db.session.scalar(query)


def change_status(ballot_id: int, action: str, *, actor, at: datetime | None = None) -> Ballot:
    """Open, pause or close a ballot (audited). A vote in flight finishes first, never after."""
    if action not in STATUS_ACTIONS:
        raise DomainError(_l("Unknown action."), code="action")
    ballot = lock_ballot(ballot_id, exclusive=True)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    before = {"status": ballot.status}
    if action == "open" and not ballot.items:
        raise Conflict(_l("A ballot without proposals cannot open."), code="empty")
    ballot.change_status(STATUS_ACTIONS[action], at=at)
    after_commit = []
    closing = ballot.status == "closed"
    if closing:
        void_unfinished_paper_entries(ballot.id)
        forget_batches(ballot.id)  # the final tally takes over; the pending batch never shows
        after_commit = [step(ballot) for step in close_steps()]
    record(
        f"ballot.{action}",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        before=before,
        after={"status": ballot.status, **({"quorum": ballot.quorum_outcome} if closing else {})},
        public=True,
    )
    db.session.commit()
    for step in after_commit:
        if step is not None:
            step()
    return ballot


def decide_quorum(ballot_id: int, decision: str, note: str, *, actor, at=None) -> Ballot:
    """Record the organizer's public decision on a ballot that closed below its quorum: void
    it, reopen it or adjourn it (``QUORUM_DECISIONS``), with the reason; audited in public."""
    note = (note or "").strip()
    if not note or len(note) > 1000:
        raise DomainError(
            _l("Give the reason for the decision (at most 1,000 characters)."), code="no_reason"
        )
    ballot = lock_ballot(ballot_id, exclusive=True)
    if ballot is None:
        raise NotFound(_l("No such ballot."), code="not_found")
    outcome = dict(ballot.quorum_outcome or {})
    ballot.decide_quorum(decision, note, at=at or utcnow())  # InvalidTransition: 409
    record(
        "ballot.quorum_decision",
        "ballot",
        ballot.id,
        actor=actor,
        community_id=ballot.round.community_id,
        before={"status": "closed", "quorum": outcome},
        after={"status": ballot.status, "decision": decision, "note": note},
        public=True,
    )
    db.session.commit()
    return ballot
