"""Communities: the residential communities (社区) an instance serves."""

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db


class Community(db.Model):
    __tablename__ = "communities"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The slug appears in public URLs and on printed posters, so it never changes once set.
    slug: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    district: Mapped[str] = mapped_column(String(100), default="")
    address: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")
    # The presenter's choice of what the public screens show: auto (rotate) or one panel.
    board_panel: Mapped[str] = mapped_column(String(20), default="auto", server_default="auto")
    # The ballot the presenter put on the screens; None follows the assembly in progress.
    # No foreign key: communities stand below ballots, and a ballot gone falls back to the default.
    board_ballot_id: Mapped[int | None] = mapped_column(Integer)

    rounds = relationship("FundingRound", back_populates="community", order_by="FundingRound.id")

    def __repr__(self) -> str:
        return f"<Community {self.slug}>"
