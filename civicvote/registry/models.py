"""The voter registry (选民名册): households and residents of a community, and their voter cards."""

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow


class Household(db.Model):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("community_id", "building", "unit", "room"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    building: Mapped[str] = mapped_column(String(20))
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20))

    residents = relationship("Resident", back_populates="household", order_by="Resident.id")

    @property
    def address(self) -> str:
        return "-".join(part for part in (self.building, self.unit, self.room) if part)


class Resident(db.Model):
    __tablename__ = "residents"
    # The registry's own reference (e.g. the community's resident number) makes re-imports update.
    __table_args__ = (UniqueConstraint("community_id", "external_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    external_ref: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    birth_year: Mapped[int | None] = mapped_column(Integer)
    # Registered residence or long-term residence both count; the registry states which holds.
    residence_status: Mapped[str] = mapped_column(String(20), default="registered")
    eligible: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    household = relationship("Household", back_populates="residents")


HASH_SCHEME = "hmac-sha256"  # keyed by the instance secret (registry.credentials.hash_secret)
LEGACY_SCHEME = "sha256"  # cards issued before migration 0008: unsalted SHA-256


class Credential(db.Model):
    """A voter card: its token and short code are never stored, only their keyed hashes."""

    __tablename__ = "credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    # The voter key is "r<resident id>" or "h<household id>", as the round's vote unit decides.
    voter_key: Mapped[str] = mapped_column(String(30), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    short_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # How both hashes were made: HASH_SCHEME, or LEGACY_SCHEME for cards from before 0008.
    hash_scheme: Mapped[str] = mapped_column(
        String(16), default=HASH_SCHEME, server_default=HASH_SCHEME
    )
    kind: Mapped[str] = mapped_column(String(20), default="card")  # card | walk_in
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    # When the personal link was first exchanged for a session (walk-in links work only once).
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
