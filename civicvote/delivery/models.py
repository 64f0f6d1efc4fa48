"""Delivery of funded projects: progress, spending, completion and residents' ratings.

Milestones are a proposal's (civicvote.proposals.models.Milestone): delivery reports on them.
"""

from datetime import date, datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..timeutil import utcnow


class ProgressUpdate(db.Model):
    __tablename__ = "progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    milestone_id: Mapped[int | None] = mapped_column(ForeignKey("milestones.id"))
    text: Mapped[str] = mapped_column(Text)
    photo_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    percent_complete: Mapped[int] = mapped_column(SmallInteger, default=0)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class SpendingEntry(db.Model):
    __tablename__ = "spending_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    line_item_id: Mapped[int | None] = mapped_column(ForeignKey("line_items.id"))
    fund_source_id: Mapped[int | None] = mapped_column(ForeignKey("fund_sources.id"))
    spent_on: Mapped[date] = mapped_column(Date)
    item: Mapped[str] = mapped_column(String(200))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    payee: Mapped[str] = mapped_column(String(120))
    receipt_id: Mapped[int | None] = mapped_column(ForeignKey("uploads.id"))
    over_budget: Mapped[bool] = mapped_column(Boolean, default=False)
    approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    approved_at: Mapped[datetime | None] = mapped_column(DateTime)
    entered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CompletionReport(db.Model):
    __tablename__ = "completion_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), unique=True)
    text: Mapped[str] = mapped_column(Text)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    sign_off_comment: Mapped[str] = mapped_column(Text, default="")


class Rating(db.Model):
    """A resident's satisfaction with a finished project: one per credential, changeable."""

    __tablename__ = "ratings"
    __table_args__ = (UniqueConstraint("proposal_id", "credential_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"))
    building: Mapped[str] = mapped_column(String(20), default="")
    score: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
