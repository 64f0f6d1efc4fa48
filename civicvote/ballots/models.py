"""Ballots (投票), participation and the cast ballots themselves.

Secrecy rests on the split between ``participations`` (who voted, on which day, how) and what was
chosen: sealed in ``ballot_box`` while the ballot is open, and in ``cast_ballots`` (no voter key, no
timestamp, no sequential id) once the close has shuffled them there. docs/secrecy.md says why.
"""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    update,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import InvalidTransition
from ..extensions import db
from ..timeutil import utcnow

METHODS = ("approval", "knapsack", "cumulative", "yes_no")
METHOD_LABELS = {
    "approval": _l("Approval: choose the proposals you support"),
    "knapsack": _l("Budget: choose proposals that fit the budget"),
    "cumulative": _l("Points: spread your points"),
    "yes_no": _l("Yes or no on each proposal"),
}
MODES = ("assembly", "online", "mixed")
QUORUM_KINDS = ("households_percent", "residents_percent", "minimum")
STATUSES = ("draft", "open", "paused", "closed")
STATUS_LABELS = {
    "draft": _l("Not yet open"),
    "open": _l("Open"),
    "paused": _l("Paused"),
    "closed": _l("Closed"),
}
# Allowed status changes: a closed ballot never reopens (its result feeds the allocation), except
# through a recorded quorum decision (QUORUM_DECISIONS) when it closed below its quorum.
TRANSITIONS = {
    ("draft", "open"),
    ("open", "paused"),
    ("paused", "open"),
    ("open", "closed"),
    ("paused", "closed"),
}

# What the organizer may decide when a ballot closes below its quorum; the rules stated to
# residents allow these and nothing else. Each maps to the status the ballot takes.
QUORUM_DECISIONS = {"void": "closed", "reopen": "open", "adjourn": "paused"}
QUORUM_DECISION_LABELS = {
    "void": _l("Declare the ballot void: no project is funded from it"),
    "reopen": _l("Reopen voting now; the ballots already cast still count"),
    "adjourn": _l("Adjourn to a later assembly; the ballots already cast still count"),
}


class Ballot(db.Model):
    __tablename__ = "ballots"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    method: Mapped[str] = mapped_column(String(20), default="approval")
    mode: Mapped[str] = mapped_column(String(20), default="mixed")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    min_choices: Mapped[int] = mapped_column(Integer, default=0)
    max_choices: Mapped[int | None] = mapped_column(Integer)
    budget_fen: Mapped[int | None] = mapped_column(BigInteger)
    points_total: Mapped[int | None] = mapped_column(Integer)
    online_opens_at: Mapped[datetime | None] = mapped_column(DateTime)
    online_closes_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Quorum: "households_percent" or "residents_percent" (of the eligible) or "minimum" (a count).
    quorum_kind: Mapped[str] = mapped_column(String(30), default="households_percent")
    quorum_value: Mapped[int] = mapped_column(Integer, default=50)
    # A proposal passes when more than this percent of ballots cast approve it.
    pass_threshold_percent: Mapped[int] = mapped_column(Integer, default=50)
    results_visible_live: Mapped[bool] = mapped_column(Boolean, default=False)
    # Frozen at close: {kind, value, present, eligible, required, met} (checkin.quorum_status).
    quorum_outcome: Mapped[dict | None] = mapped_column(JSON)
    # Each time it closed below quorum, the organizer's public decision: a list of
    # {decision (QUORUM_DECISIONS), note, at (ISO time), outcome (the figures it answered)}.
    quorum_decisions: Mapped[list | None] = mapped_column(JSON, default=list)
    # Live figures change only in batches of at least this many ballots (ballots.live).
    live_batch_size: Mapped[int] = mapped_column(Integer, default=10, server_default="10")
    opened_at: Mapped[datetime | None] = mapped_column(DateTime)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    round = relationship("FundingRound", back_populates="ballots")
    items = relationship(
        "BallotItem",
        back_populates="ballot",
        order_by="BallotItem.position",
        cascade="all, delete-orphan",
    )
    # The ballot's assemblies (checkin's table, named here as a string like the round's
    # back-references): when and where residents vote in person. Read only: checkin writes them.
    assemblies = relationship(
        "Assembly", order_by="[Assembly.starts_at, Assembly.id]", viewonly=True
    )

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def locked(self) -> bool:
        """Method, limits and proposal list are frozen once the ballot has been opened."""
        return self.opened_at is not None

    @property
    def quorum_missed(self) -> bool:
        """Closed, and its frozen quorum figures say the quorum was not reached."""
        return self.status == "closed" and not (self.quorum_outcome or {}).get("met", True)

    @property
    def void(self) -> bool:
        """Declared void after closing below quorum: nothing is funded from it."""
        decisions = self.quorum_decisions or []
        return self.quorum_missed and bool(decisions) and decisions[-1]["decision"] == "void"

    def decide_quorum(self, decision: str, note: str, *, at: datetime) -> None:
        """Apply the organizer's decision on a ballot that closed below quorum.

        Reopening or adjourning takes the ballot back to open or paused (votes already cast are
        kept); the quorum is judged again at the next close."""
        if decision not in QUORUM_DECISIONS:
            raise InvalidTransition(_l("Choose one of the outcomes the rules allow."))
        if not self.quorum_missed or self.void:
            raise InvalidTransition(
                _l("Only a ballot that closed below its quorum takes this decision.")
            )
        entry = {"decision": decision, "note": note, "at": at.isoformat()}
        self.quorum_decisions = [*(self.quorum_decisions or []), {**entry, **self.quorum_outcome}]
        if decision != "void":
            self.status = QUORUM_DECISIONS[decision]
            self.closed_at = None
            self.quorum_outcome = None

    def change_status(self, new_status: str, *, at: datetime | None = None) -> None:
        """Apply one status transition; raises InvalidTransition for any other."""
        if (self.status, new_status) not in TRANSITIONS:
            raise InvalidTransition(
                _l(
                    "A ballot that is %(old)s cannot become %(new)s.",
                    old=STATUS_LABELS.get(self.status, self.status),
                    new=STATUS_LABELS.get(new_status, new_status),
                )
            )
        now = at or utcnow()
        if new_status == "open" and self.opened_at is None:
            self.opened_at = now
        if new_status == "closed":
            self.closed_at = now
        self.status = new_status


class BallotItem(db.Model):
    __tablename__ = "ballot_items"
    __table_args__ = (UniqueConstraint("ballot_id", "proposal_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id", ondelete="CASCADE"), index=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    position: Mapped[int] = mapped_column(Integer, default=0)

    ballot = relationship("Ballot", back_populates="items")
    proposal = relationship("Proposal")


class Participation(db.Model):
    """Who took part in a ballot. The unique constraint is what makes one person, one vote.

    ``cast_at`` holds the day only (midnight UTC): the time of a vote is not kept."""

    __tablename__ = "participations"
    __table_args__ = (UniqueConstraint("ballot_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    voter_key: Mapped[str] = mapped_column(String(30))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    channel: Mapped[str] = mapped_column(String(20))  # online | assembly | paper
    cast_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BallotBoxEntry(db.Model):
    """One ballot's contents and receipt while the ballot is open, sealed (AES-GCM) under a key
    derived from the instance's secret key, which the database never holds (voting/sealing.py).
    The close opens, shuffles and moves them to ``cast_ballots`` and deletes these rows."""

    __tablename__ = "ballot_box"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    # Keyed hash of the receipt code: "counted" can be checked while the ballot is open.
    receipt_tag: Mapped[str] = mapped_column(String(64), unique=True)


class VoteReplay(db.Model):
    """What answers a retried vote for a while: its receipt, sealed under a key derived from the
    card's secret and the instance's secret key, with no contents. Wiped when it expires and
    at the close (voting/replays.py)."""

    __tablename__ = "vote_replays"

    # Keyed hash of (ballot, credential): which card it answers, readable with the server key only.
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)


class CastBallot(db.Model):
    """The contents of one ballot of a closed ballot: no voter key, no timestamp, a random id
    drawn at the close, written by the close in one transaction in random order."""

    __tablename__ = "cast_ballots"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    # approval/knapsack: {"selections": [ids]}; cumulative: {"points": {id: n}}; yes_no: {id: bool}
    contents: Mapped[dict] = mapped_column(JSON)
    receipt_code: Mapped[str] = mapped_column(String(20), unique=True)


class PaperSheetBatch(db.Model):
    """Paper ballot sheets printed together. ``request_key`` (from the print form) makes a
    resubmitted or reloaded form find this batch instead of printing another."""

    __tablename__ = "paper_sheet_batches"
    __table_args__ = (UniqueConstraint("ballot_id", "request_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(64))
    count: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PaperSheet(db.Model):
    """A printed paper ballot sheet: a random number, never linked to the voter who gets it.

    ``status``: "unused" until two agreeing entries (or a supervisor) count it, then "counted".
    """

    __tablename__ = "paper_sheets"

    number: Mapped[str] = mapped_column(String(16), primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("paper_sheet_batches.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="unused")


# pending: the first entry; matched: two agreeing entries; mismatch: two that differ, for the
# supervisor; chosen / rejected: what the supervisor decided; void: unfinished at the close.
ENTRY_STATUSES = ("pending", "matched", "mismatch", "chosen", "rejected", "void")


class PaperBallotEntry(db.Model):
    """One clerk's entry of a paper ballot sheet; two independent entries must agree.

    No voter key and no time: an entry names only its sheet and its clerk. Its contents are
    emptied as soon as the sheet is counted or the entry loses (or is left over at the close).
    """

    __tablename__ = "paper_ballot_entries"
    __table_args__ = (UniqueConstraint("sheet_number", "clerk_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    sheet_number: Mapped[str] = mapped_column(ForeignKey("paper_sheets.number"), index=True)
    clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    contents: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20), default="pending")


def void_unfinished_paper_entries(ballot_id: int) -> int:
    """At the close: entries still waiting for a second clerk or a supervisor can no longer
    count; they become "void" and keep no choices. Returns how many there were."""
    return db.session.execute(
        update(PaperBallotEntry)
        .where(
            PaperBallotEntry.ballot_id == ballot_id,
            PaperBallotEntry.status.in_(("pending", "mismatch")),
        )
        .values(status="void", contents={})
        .execution_options(synchronize_session=False)
    ).rowcount
