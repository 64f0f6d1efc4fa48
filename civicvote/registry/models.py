"""The voter registry (选民名册): households and residents of a community, and their voter cards."""

from datetime import datetime

from sqlalchemy import (
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
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
    # Why it was withdrawn: "lost", "card_forgotten", "card_lost" (a walk-in replaced it)...
    revoked_reason: Mapped[str | None] = mapped_column(String(30))
    # When the personal link was first exchanged for a session (walk-in links work only once).
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class CardBatch(db.Model):
    """One issue of voter cards from the console, made once per form (``request_key``).

    The batch's tokens are kept sealed (``sealed``: AES-GCM under a key that needs both the
    instance secret and a key held only in the issuing organizer's session), so its sheet is a
    page that can be reloaded and printed again, and a resent form finds this batch.
    """

    __tablename__ = "card_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    request_key: Mapped[str] = mapped_column(String(64), unique=True)
    building: Mapped[str | None] = mapped_column(String(20))
    requested: Mapped[int | None] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
