"""Funding rounds: one yearly cycle of a community's fund, its phases, rules and fund sources."""

from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, Boolean, DateTime, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..errors import InvalidTransition
from ..extensions import db
from ..timeutil import utcnow

# The cycle of DESIGN.md, in order. A round moves forward one phase at a time.
PHASES = (
    "intake",
    "costing",
    "review",
    "ballot",
    "allocation",
    "notice",
    "delivery",
    "evaluation",
    "closed",
)
PHASE_LABELS = {
    "intake": _l("Collecting needs"),
    "costing": _l("Costing proposals"),
    "review": _l("Reviewing proposals"),
    "ballot": _l("Voting"),
    "allocation": _l("Allocating funds"),
    "notice": _l("Public notice"),
    "delivery": _l("Delivery"),
    "evaluation": _l("Evaluation"),
    "closed": _l("Closed"),
}

VOTE_UNIT_RESIDENT = "resident"
VOTE_UNIT_HOUSEHOLD = "household"

SOURCE_GENERAL = "general"
SOURCE_RESTRICTED = "restricted"
SOURCE_MATCHING = "matching"
SOURCE_KINDS = (SOURCE_GENERAL, SOURCE_RESTRICTED, SOURCE_MATCHING)
SOURCE_KIND_LABELS = {
    SOURCE_GENERAL: _l("General fund: pays any project"),
    SOURCE_RESTRICTED: _l("Restricted: only some categories, or a cap per project"),
    SOURCE_MATCHING: _l("Matching donor: adds to what residents' funds put in"),
}
VOTE_UNIT_LABELS = {
    VOTE_UNIT_HOUSEHOLD: _l("One vote per household"),
    VOTE_UNIT_RESIDENT: _l("One vote per registered resident"),
}
# How a closed ballot becomes funding (civicvote.allocation), and how ties are broken. Every rule
# applies the ballot's pass threshold (a proposal below it is never funded), so the pure
# module's "greedy-threshold" is plain "greedy" here.
RULE_LABELS = {
    "greedy": _l("Most votes first, skipping what does not fit"),
    "greedy-no-skip": _l("Most votes first, stopping at the first that does not fit"),
    "mes": _l("Method of Equal Shares"),
}
# What the Method of Equal Shares does with the money it leaves (civicvote.allocation.COMPLETIONS).
COMPLETION_LABELS = {
    "add1": _l("Raise every voter's share one yuan at a time while the result fits (add1)"),
    "add1+greedy": _l("add1, then fund the most voted projects that still fit"),
    "add1+greedy+compare": _l(
        "add1 and most voted, then take the most-votes result if more voters prefer it"
    ),
    "none": _l("Leave it unspent"),
}
TIE_LABELS = {
    "cost": _l("Lower cost first, then a drawn lot"),
    "lot": _l("A drawn lot"),
    "lexico": _l("Proposal number"),
}


# Needs and proposals belong to one of their round's categories, but their areas stand above
# rounds, which cannot import them. Their models register here, so that a category still in use
# is not removed (rounds.services.update_rules).
_category_users: list[type] = []


def uses_round_categories(model: type) -> type:
    """Class decorator for a higher area's model whose rows belong to one of their round's
    categories (its columns ``round_id`` and ``category_code``)."""
    if model not in _category_users:
        _category_users.append(model)
    return model


def categories_in_use(round_id: int) -> set[str]:
    """The category codes of a round that needs, proposals (any registered model) use."""
    used: set[str] = set()
    for model in _category_users:
        query = db.select(model.category_code).where(model.round_id == round_id).distinct()
        used.update(db.session.scalars(query))
    return used


class FundingRound(db.Model):
    __tablename__ = "funding_rounds"

    id: Mapped[int] = mapped_column(primary_key=True)
    community_id: Mapped[int] = mapped_column(ForeignKey("communities.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    year: Mapped[int] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(Text, default="")
    phase: Mapped[str] = mapped_column(String(20), default="intake")
    # Money is integer fen (1 yuan = 100 fen) everywhere; floats never touch it.
    budget_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    per_project_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    vote_unit: Mapped[str] = mapped_column(String(20), default=VOTE_UNIT_HOUSEHOLD)
    allocation_rule: Mapped[str] = mapped_column(String(30), default="greedy")
    tie_break: Mapped[str] = mapped_column(String(40), default="cost")
    mes_completion: Mapped[str] = mapped_column(String(30), default="add1", server_default="add1")
    notice_days: Mapped[int] = mapped_column(Integer, default=7)
    # Ballots keep their voter's building only in groups of at least this many (issue 19,
    # allocation/buildings.py): 10 to 1000, fixed once voting opens.
    building_min_ballots: Mapped[int] = mapped_column(Integer, default=20, server_default="20")
    required_documents: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    community = relationship("Community", back_populates="rounds")
    categories = relationship(
        "RoundCategory",
        back_populates="round",
        order_by="RoundCategory.position",
        cascade="all, delete-orphan",
    )
    fund_sources = relationship(
        "FundSource", back_populates="round", order_by="FundSource.id", cascade="all, delete-orphan"
    )
    ballots = relationship("Ballot", back_populates="round", order_by="Ballot.id")

    @property
    def phase_label(self):
        return PHASE_LABELS.get(self.phase, self.phase)

    @property
    def rule_label(self):
        return RULE_LABELS.get(self.allocation_rule, self.allocation_rule)

    @property
    def vote_unit_label(self):
        return VOTE_UNIT_LABELS.get(self.vote_unit, self.vote_unit)

    def advance(self) -> str:
        """Move to the next phase of the cycle; a closed round cannot move."""
        index = PHASES.index(self.phase)
        if index == len(PHASES) - 1:
            raise InvalidTransition(_l("This round is closed."))
        self.phase = PHASES[index + 1]
        return self.phase

    def category_codes(self) -> list[str]:
        return [c.code for c in self.categories]


class RoundCategory(db.Model):
    """A category a round accepts (e.g. greening, elderly care); its name is shown as entered."""

    __tablename__ = "round_categories"
    __table_args__ = (db.UniqueConstraint("round_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(60))
    position: Mapped[int] = mapped_column(Integer, default=0)

    round = relationship("FundingRound", back_populates="categories")


class FundSource(db.Model):
    """Where money comes from: the general community fund, restricted gifts, matching donors."""

    __tablename__ = "fund_sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("funding_rounds.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(20), default=SOURCE_GENERAL)
    amount_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # Restricted sources: only these category codes (empty = any) and at most this per project.
    categories: Mapped[list] = mapped_column(JSON, default=list)
    per_project_cap_fen: Mapped[int | None] = mapped_column(BigInteger)
    # Matching sources add match_ratio_percent fen per 100 fen raised from residents, up to the cap.
    match_ratio_percent: Mapped[int | None] = mapped_column(Integer)
    donor: Mapped[str] = mapped_column(String(120), default="")
    public: Mapped[bool] = mapped_column(Boolean, default=True)

    round = relationship("FundingRound", back_populates="fund_sources")

    @property
    def kind_label(self):
        return SOURCE_KIND_LABELS.get(self.kind, self.kind)

    @property
    def category_names(self) -> list[str]:
        """The names of the round's categories this source is limited to (empty: any)."""
        return [c.name for c in self.round.categories if c.code in (self.categories or [])]
