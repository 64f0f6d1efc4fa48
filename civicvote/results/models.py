"""Allocation runs (the tally fed through a rule), their public notice and objections."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

RUN_STATUSES = ("provisional", "final", "superseded")


class AllocationRun(db.Model):
    __tablename__ = "allocation_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    rule: Mapped[str] = mapped_column(String(30))
    options: Mapped[dict] = mapped_column(JSON, default=dict)
    tie_break: Mapped[str] = mapped_column(String(40))
    seed: Mapped[str] = mapped_column(String(64), default="")
    status: Mapped[str] = mapped_column(String(20), default="provisional")
    # The whole explained outcome as computed, kept verbatim for the record.
    outcome: Mapped[dict] = mapped_column(JSON, default=dict)
    notice_ends_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision_note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finalized_at: Mapped[datetime | None] = mapped_column(DateTime)

    projects = relationship(
        "ProjectAllocation",
        back_populates="run",
        order_by="ProjectAllocation.rank",
        cascade="all, delete-orphan",
    )
    objections = relationship("Objection", back_populates="run", order_by="Objection.id")


class ProjectAllocation(db.Model):
    __tablename__ = "project_allocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(
        ForeignKey("allocation_runs.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"))
    rank: Mapped[int] = mapped_column(Integer)
    votes: Mapped[int] = mapped_column(BigInteger)
    funded: Mapped[bool] = mapped_column(Boolean)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reason: Mapped[dict] = mapped_column(JSON, default=dict)
    # {source_id: fen}
    funding_by_source: Mapped[dict] = mapped_column(JSON, default=dict)

    run = relationship("AllocationRun", back_populates="projects")
    proposal = relationship("Proposal")


class Objection(db.Model):
    """A resident's objection during the public notice, and the organizers' public answer."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("allocation_runs.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    # A credential hash or a private contact: how the objector is known; never published.
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    contact: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="open")  # open | answered
    answer: Mapped[str] = mapped_column(Text, default="")
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime)

    run = relationship("AllocationRun", back_populates="objections")
    answers = relationship(
        "ObjectionAnswer", order_by="ObjectionAnswer.id", cascade="all, delete-orphan"
    )

    @property
    def earlier_answers(self) -> list:
        """The versions replaced by an amendment, oldest first (the last one is ``answer``)."""
        return list(self.answers[:-1])


class ObjectionAnswer(db.Model):
    """One published version of an objection's answer: amendments add rows, never replace."""

    __tablename__ = "objection_answers"

    id: Mapped[int] = mapped_column(primary_key=True)
    objection_id: Mapped[int] = mapped_column(ForeignKey("objections.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    answered_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
