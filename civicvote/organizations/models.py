"""Social organizations (社会组织) that turn needs into costed proposals."""

from datetime import datetime

from sqlalchemy import DateTime, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..timeutil import utcnow

PENDING = "pending"
APPROVED = "approved"
REJECTED = "rejected"


class Organization(db.Model):
    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    registration_number: Mapped[str] = mapped_column(String(40), unique=True)
    contact_name: Mapped[str] = mapped_column(String(60))
    contact_phone: Mapped[str] = mapped_column(String(30))
    field_of_work: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default=PENDING)
    applied_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    members = relationship(
        "User", back_populates="organization", foreign_keys="User.organization_id"
    )
    proposals = relationship("Proposal", back_populates="organization")
