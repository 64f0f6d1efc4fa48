"""Needs (需求) submitted by residents, and "me too" supports."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

CHANNELS = ("online", "visit", "paper", "assembly")
CHANNEL_LABELS = {
    "online": _l("Online"),
    "visit": _l("Door-to-door visit"),
    "paper": _l("Paper form"),
    "assembly": _l("Assembly"),
}
NEED_STATUSES = ("new", "accepted", "declined", "merged")


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
    support_count: Mapped[int] = mapped_column(Integer, default=0)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    community = relationship("Community")
    merged_into = relationship("Need", remote_side=[id])


class NeedSupport(db.Model):
    """One "me too" per browser: the supporter key is a hash of a random browser cookie."""

    __tablename__ = "need_supports"
    __table_args__ = (UniqueConstraint("need_id", "supporter_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id", ondelete="CASCADE"), index=True)
    supporter_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
