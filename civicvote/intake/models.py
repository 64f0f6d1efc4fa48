"""Needs (需求) submitted by residents, and "me too" supports."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import Column, DateTime, ForeignKey, Integer, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import InvalidTransition
from ..extensions import db
from ..rounds.models import uses_round_categories
from ..timeutil import utcnow

CHANNELS = ("online", "visit", "paper", "assembly")
CHANNEL_LABELS = {
    "online": _l("Online"),
    "visit": _l("Door-to-door visit"),
    "paper": _l("Paper form"),
    "assembly": _l("Assembly"),
}
NEED_STATUSES = ("new", "accepted", "declined", "merged")
NEED_STATUS_LABELS = {
    "new": _l("Received, waiting for a decision"),
    "accepted": _l("Accepted"),
    "declined": _l("Declined"),
    "merged": _l("Merged with a similar need"),
}
# The triage state machine: which status each status may move to.
NEED_TRANSITIONS = {
    "new": {"accepted", "declined", "merged"},
    "accepted": {"declined", "merged"},
    "declined": {"accepted"},
    "merged": set(),
}


# Which proposals answer which needs. Proposals choose their needs, but the table is intake's:
# a need a proposal answers cannot be declined, and merging needs moves the answers along.
proposal_needs = Table(
    "proposal_needs",
    db.metadata,
    Column("proposal_id", ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("need_id", ForeignKey("needs.id", ondelete="CASCADE"), primary_key=True),
)


@uses_round_categories  # a round's category in use stays
class Need(db.Model):
    __tablename__ = "needs"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    round_id: Mapped[int | None] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    # Short code the resident keeps to follow the need; random so it cannot be enumerated.
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    category_code: Mapped[str] = mapped_column(String(40), default="")
    place: Mapped[str] = mapped_column(String(100), default="")
    # Never shown publicly.
    contact: Mapped[str] = mapped_column(String(100), default="")
    channel: Mapped[str] = mapped_column(String(20), default="online")
    status: Mapped[str] = mapped_column(String(20), default="new")
    decline_reason: Mapped[str] = mapped_column(Text, default="")
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("needs.id"))
    # A one-time key from the form that created the need: a double submit finds the first need.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    # The submitting browser's supporter key (online needs): merged, its author supports the
    # target once, even if the same browser also said "me too" there.
    submitter_hash: Mapped[str | None] = mapped_column(String(64))
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    community = relationship("Community")
    merged_into = relationship("Need", remote_side=[id])
    # Named, not imported: proposals stand above intake (see tests/foundation/test_layers.py).
    answered_by = relationship(
        "Proposal", secondary=proposal_needs, order_by="Proposal.id", viewonly=True
    )

    @property
    def status_label(self):
        return NEED_STATUS_LABELS.get(self.status, self.status)

    @property
    def channel_label(self):
        return CHANNEL_LABELS.get(self.channel, self.channel)

    def change_status(self, new_status: str) -> None:
        """Move to ``new_status`` if triage allows it; raise InvalidTransition otherwise."""
        if new_status not in NEED_TRANSITIONS.get(self.status, set()):
            raise InvalidTransition(
                _l(
                    "A need that is %(old)s cannot become %(new)s.",
                    old=NEED_STATUS_LABELS.get(self.status, self.status),
                    new=NEED_STATUS_LABELS.get(new_status, new_status),
                ),
                code="need_transition",
            )
        self.status = new_status


class NeedSupport(db.Model):
    """One "me too" per browser: the supporter key is a hash of a random browser cookie."""

    __tablename__ = "need_supports"
    __table_args__ = (UniqueConstraint("need_id", "supporter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    supporter_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
