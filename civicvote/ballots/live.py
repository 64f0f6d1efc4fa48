"""Live results in batches: what may be published about a ballot while it is open.

A figure published while voting must never move because of one ballot, or the ballot just cast
is known (turnout up one, two proposals up one). So the public figures (turnout and the counts)
change only in steps of at least ``k = ballot.live_batch_size`` ballots, and lag a full batch:

* the *pending* batch is the tally as it was read once the count reached the previous pending
  count plus k; it is not shown;
* when the count reaches the pending count plus k again, the pending batch becomes the
  *published* one and the current tally the new pending one.

So two published figures differ by at least k ballots, and the final result differs from the
last published one by at least k ballots too (the ones counted since the pending batch, and the
pending batch itself). Snapshots are taken by whoever reads the figures (the board, the API);
under concurrent voting one may be taken a few ballots past the step, never before it. The row
is deleted when the ballot closes (lifecycle.change_status), when the final tally takes over.
"""

from dataclasses import dataclass

from sqlalchemy import JSON, ForeignKey, Integer, delete, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db

DEFAULT_BATCH = 10
MIN_BATCH, MAX_BATCH = 2, 1000
EMPTY = {"cast": 0, "votes": {}, "no_votes": {}}


class LiveSnapshot(db.Model):
    """The published and pending batch of an open ballot: ``{"cast": n, "votes": {id: n},
    "no_votes": {id: n}}`` each; ``step`` counts the advances (a compare-and-set guard)."""

    __tablename__ = "live_snapshots"

    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), primary_key=True)
    published: Mapped[dict] = mapped_column(JSON)
    pending: Mapped[dict] = mapped_column(JSON)
    step: Mapped[int] = mapped_column(Integer, default=0)


@dataclass(frozen=True)
class LiveFigures:
    """What may be shown now: the published batch, and after how many ballots beyond its count
    the next one comes (known from the pending batch; changes only when a batch is taken)."""

    published: dict
    batch_size: int
    next_update_after: int


def next_batches(published: dict, pending: dict, current: dict, k: int):
    """``(published, pending)`` after reading ``current``: unchanged until the count has grown
    by k since the pending batch was taken, then the pending batch is published."""
    if current["cast"] >= pending["cast"] + k:
        return pending, current
    return published, pending


def live_figures(ballot, current: dict) -> LiveFigures:
    """The figures of an open or paused ``ballot`` that may be shown, given its ``current``
    tally (same shape as a batch). Advances the stored batches when due, and commits."""
    k = ballot.live_batch_size
    row = db.session.get(LiveSnapshot, ballot.id, populate_existing=True)
    if row is None:
        _create(ballot.id)
        row = db.session.get(LiveSnapshot, ballot.id, populate_existing=True)
    published, pending = next_batches(row.published, row.pending, current, k)
    if pending is not row.pending:
        # Only one reader advances a given step; the others find it taken and read the result.
        db.session.execute(
            update(LiveSnapshot)
            .where(LiveSnapshot.ballot_id == ballot.id, LiveSnapshot.step == row.step)
            .values(published=published, pending=pending, step=row.step + 1)
            .execution_options(synchronize_session=False)
        )
        db.session.commit()
        row = db.session.get(LiveSnapshot, ballot.id, populate_existing=True)
        published, pending = row.published, row.pending
    return LiveFigures(published, k, pending["cast"] + k - published["cast"])


def _create(ballot_id: int) -> None:
    """The ballot's row with both batches empty, unless another reader made it first."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    db.session.execute(
        insert(LiveSnapshot)
        .values(ballot_id=ballot_id, published=EMPTY, pending=EMPTY, step=0)
        .on_conflict_do_nothing()
    )
    db.session.commit()


def forget_batches(ballot_id: int) -> None:
    """Drop the ballot's batches (at the close: the pending one is never to be shown)."""
    db.session.execute(delete(LiveSnapshot).where(LiveSnapshot.ballot_id == ballot_id))
