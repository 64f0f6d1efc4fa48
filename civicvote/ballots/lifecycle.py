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
# What a close does to the votes, supplied by the voting area (a higher layer) when it loads:
# ``step(ballot)`` runs in the close's transaction and returns what to run after its commit
# (voting/sealing.py: the sealed ballot box is shuffled into cast ballots, then the tables are
# rewritten).
CLOSE_STEPS: list = []

# Called with the ballot when it closes, inside the close's transaction. Higher areas register
# here what a close must fix (checkin: the quorum's figures), since ballots cannot import them.
_close_hooks: list = []


def on_close(hook):
    """Register ``hook(ballot)`` to run as a ballot closes; returns the hook."""
    if hook not in _close_hooks:
        _close_hooks.append(hook)
    return hook


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
        after_commit = [step(ballot) for step in CLOSE_STEPS]
        for hook in _close_hooks:
            hook(ballot)
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
