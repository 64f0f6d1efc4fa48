"""Assemblies (居民议事会) and check-in at the desk."""

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class Assembly(db.Model):
    __tablename__ = "assemblies"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    title: Mapped[str] = mapped_column(String(120))
    place: Mapped[str] = mapped_column(String(120))
    starts_at: Mapped[datetime] = mapped_column(DateTime)

    ballot = relationship("Ballot")


class CheckIn(db.Model):
    __tablename__ = "check_ins"
    __table_args__ = (UniqueConstraint("assembly_id", "voter_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    voter_key: Mapped[str] = mapped_column(String(30))
    credential_id: Mapped[int | None] = mapped_column(ForeignKey("credentials.id"))
    checked_in_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    checked_in_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class WalkIn(db.Model):
    """A one-time voting code given at the desk to a resident present in person.

    Two staff members answer for it: the clerk who issued it and a second one who confirmed
    on the same form. The resident's own unused card was withdrawn for ``reason``.
    """

    __tablename__ = "walk_ins"

    id: Mapped[int] = mapped_column(primary_key=True)
    assembly_id: Mapped[int] = mapped_column(ForeignKey("assemblies.id"), index=True)
    credential_id: Mapped[int] = mapped_column(ForeignKey("credentials.id"), unique=True)
    voter_key: Mapped[str] = mapped_column(String(30))
    reason: Mapped[str] = mapped_column(String(30))
    clerk_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    confirmed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # The code's link, sealed under a key kept in the issuing desk's session (see sealed.py).
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
