"""Costed proposals (项目方案) with line items, the needs they answer, versions and reviews."""

from datetime import date, datetime
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    and_,
    or_,
)
from sqlalchemy.ext.hybrid import hybrid_property
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import InvalidTransition
from ..extensions import db
from ..intake.models import proposal_needs
from ..rounds.models import uses_round_categories
from ..timeutil import utcnow

PROPOSAL_STATUSES = ("draft", "submitted", "returned", "approved", "rejected", "withdrawn")
STATUS_LABELS = {
    "draft": _l("Draft"),
    "submitted": _l("Submitted for review"),
    "returned": _l("Returned for revision"),
    "approved": _l("Approved for the ballot"),
    "rejected": _l("Rejected"),
    "withdrawn": _l("Withdrawn"),
}

# The proposal state machine: which status each status may move to.
PROPOSAL_TRANSITIONS = {
    "draft": {"submitted", "withdrawn"},
    "submitted": {"approved", "returned", "rejected", "withdrawn"},
    "returned": {"submitted", "withdrawn"},
    "approved": set(),
    "rejected": set(),
    "withdrawn": set(),
}
EDITABLE_STATUSES = ("draft", "returned")


@uses_round_categories  # a round's category in use stays
class Proposal(db.Model):
    __tablename__ = "proposals"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(ForeignKey("organizations.id"), index=True)
    title: Mapped[str] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(Text, default="")
    beneficiaries_count: Mapped[int] = mapped_column(Integer, default=0)
    beneficiaries_desc: Mapped[str] = mapped_column(String(200), default="")
    location: Mapped[str] = mapped_column(String(100), default="")
    start_date: Mapped[date | None] = mapped_column(Date)
    end_date: Mapped[date | None] = mapped_column(Date)
    category_code: Mapped[str] = mapped_column(String(40), default="")
    implementer: Mapped[str] = mapped_column(String(120), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    # Computed by the server from the line items, in integer fen.
    total_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    version: Mapped[int] = mapped_column(Integer, default=0)
    rejection_reason: Mapped[str] = mapped_column(Text, default="")
    # Names of the round's required documents with a file attached (see ProposalDocument).
    documents: Mapped[list] = mapped_column(JSON, default=list)
    # A one-time key from the form that created the draft: a double submit finds the first one.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    round = relationship("FundingRound")
    organization = relationship("Organization", back_populates="proposals")
    line_items = relationship(
        "LineItem",
        back_populates="proposal",
        order_by="LineItem.position",
        cascade="all, delete-orphan",
    )
    needs = relationship("Need", secondary=proposal_needs, order_by="Need.id")
    versions = relationship(
        "ProposalVersion",
        back_populates="proposal",
        order_by="ProposalVersion.number",
        cascade="all, delete-orphan",
    )
    reviews = relationship(
        "Review", back_populates="proposal", order_by="Review.id", cascade="all, delete-orphan"
    )
    milestones = relationship(
        "Milestone",
        back_populates="proposal",
        order_by="Milestone.position",
        cascade="all, delete-orphan",
    )
    document_files = relationship(
        "ProposalDocument", order_by="ProposalDocument.name", cascade="all, delete-orphan"
    )

    @property
    def status_label(self):
        return STATUS_LABELS.get(self.status, self.status)

    @property
    def editable(self) -> bool:
        return self.status in EDITABLE_STATUSES

    @hybrid_property
    def is_public(self) -> bool:
        """Drafts stay private to the organization until first submitted."""
        return self.status != "draft" and (self.version > 0 or self.status == "approved")

    @is_public.inplace.expression
    @classmethod
    def _is_public_in_sql(cls):
        return and_(cls.status != "draft", or_(cls.version > 0, cls.status == "approved"))

    def change_status(self, new_status: str) -> None:
        """Move to ``new_status`` if the review process allows it; raise InvalidTransition."""
        if new_status not in PROPOSAL_TRANSITIONS.get(self.status, set()):
            raise InvalidTransition(
                _l(
                    "A proposal that is %(old)s cannot become %(new)s.",
                    old=STATUS_LABELS.get(self.status, self.status),
                    new=STATUS_LABELS.get(new_status, new_status),
                ),
                code="proposal_transition",
            )
        self.status = new_status


class LineItem(db.Model):
    __tablename__ = "line_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str] = mapped_column(String(200))
    quantity: Mapped[Decimal] = mapped_column(Numeric(12, 2))
    unit: Mapped[str] = mapped_column(String(20), default="")
    unit_cost_fen: Mapped[int] = mapped_column(BigInteger)
    total_fen: Mapped[int] = mapped_column(BigInteger)

    proposal = relationship("Proposal", back_populates="line_items")


class ProposalVersion(db.Model):
    """A frozen copy of a proposal as submitted; every submission keeps one, so changes show."""

    __tablename__ = "proposal_versions"
    __table_args__ = (UniqueConstraint("proposal_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict] = mapped_column(JSON)
    submitted_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    proposal = relationship("Proposal", back_populates="versions")


class Review(db.Model):
    """A reviewer's decision on one version: approve, return with comments, or reject."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    automatic_checks: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    proposal = relationship("Proposal", back_populates="reviews")
    reviewer = relationship("User")


class Milestone(db.Model):
    """A step of a proposal's timeline: planned with the proposal, reported on in delivery.

    The proposal owns its milestones (their titles and planned dates are part of what residents
    vote on); delivery fills in when each was reached and the supervisory committee's sign-off.
    """

    __tablename__ = "milestones"

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer, default=0)
    title: Mapped[str] = mapped_column(String(120))
    planned_date: Mapped[date | None] = mapped_column(Date)
    actual_date: Mapped[date | None] = mapped_column(Date)
    signed_off_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    signed_off_at: Mapped[datetime | None] = mapped_column(DateTime)
    sign_off_comment: Mapped[str] = mapped_column(Text, default="")

    proposal = relationship("Proposal", back_populates="milestones")


class ProposalDocument(db.Model):
    """The file for one of the round's required documents (a supplier's quotation, say).

    One file per document name; a new upload replaces it. Files are published with the
    proposal once it is submitted, like the rest of its content.
    """

    __tablename__ = "proposal_documents"
    __table_args__ = (UniqueConstraint("proposal_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    proposal_id: Mapped[int] = mapped_column(
        ForeignKey("proposals.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(80))
    upload_id: Mapped[int] = mapped_column(ForeignKey("uploads.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    upload = relationship("Upload")
