"""Paper ballot sheets: random sheet numbers, printed in batches from the console.

A sheet number is 8 symbols of the voter cards' alphabet (no 0/O, 1/I/L, U), printed as
``ABCD-EFGH`` with a QR code of the same text. It is made at random when the batch is printed
and stored only with its ballot and batch: no voter is ever written next to it, and the desk
hands out sheets without noting which one a resident takes. 30^8 (about 6.6 * 10^11) numbers
make a typed or guessed number that was printed for the ballot practically impossible.
"""

import secrets
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, insert, select
from sqlalchemy.exc import IntegrityError

from ..audit.services import record
from ..ballots.models import Ballot, PaperSheet, PaperSheetBatch
from ..errors import Conflict, DomainError, NotFound
from ..extensions import db
from ..registry.credentials import SHORT_ALPHABET, normalize_short_code

SHEET_NUMBER_LENGTH = 8
MAX_SHEETS_PER_BATCH = 500


def new_sheet_number() -> str:
    """Eight random symbols of the cards' alphabet (about 39 bits)."""
    return "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHEET_NUMBER_LENGTH))


def normalize_sheet_number(text: str) -> str:
    """A sheet number as typed or scanned (any case, dashes, spaces) in its stored form."""
    return normalize_short_code((text or "")[:40])


def format_sheet_number(number: str) -> str:
    """``ABCD-EFGH``: two groups of four, easy to read out and type."""
    return f"{number[:4]}-{number[4:]}"


@dataclass(frozen=True)
class PrintedBatch:
    batch: PaperSheetBatch
    created: bool  # False when the form had been sent before: the batch it printed then


def print_sheets(ballot: Ballot, count: int, request_key: str, *, actor) -> PrintedBatch:
    """Make ``count`` new sheet numbers for ``ballot`` as one batch, once per ``request_key``.

    The same key (a reloaded or resent print form) returns the batch it made the first time.
    Refused for a closed ballot. Commits.
    """
    if ballot.status == "closed":
        raise Conflict(_l("This ballot is closed."), code="closed")
    if not 1 <= count <= MAX_SHEETS_PER_BATCH:
        raise DomainError(
            _l("Print between 1 and %(max)s sheets at a time.", max=MAX_SHEETS_PER_BATCH),
            code="count",
        )
    request_key = (request_key or "")[:64]
    if not request_key:
        raise DomainError(_l("The form has expired; please open it again."), code="key")
    existing = _batch_by_key(ballot.id, request_key)
    if existing is not None:
        return PrintedBatch(existing, False)
    batch = PaperSheetBatch(
        ballot_id=ballot.id, request_key=request_key, count=count, created_by=actor.id
    )
    db.session.add(batch)
    try:
        db.session.flush()
        numbers = _unused_numbers(count)
        db.session.execute(
            insert(PaperSheet),
            [{"number": n, "ballot_id": ballot.id, "batch_id": batch.id} for n in numbers],
        )
        record(
            "paper_sheets.print",
            "ballot",
            ballot.id,
            actor=actor,
            community_id=ballot.round.community_id,
            after={"batch": batch.id, "count": count},
        )
        db.session.commit()
    except IntegrityError:
        # The same form sent twice at once: the other request's batch stands.
        db.session.rollback()
        existing = _batch_by_key(ballot.id, request_key)
        if existing is None:
            raise
        return PrintedBatch(existing, False)
    return PrintedBatch(batch, True)


def _batch_by_key(ballot_id: int, request_key: str) -> PaperSheetBatch | None:
    return db.session.scalar(
        select(PaperSheetBatch).filter_by(ballot_id=ballot_id, request_key=request_key)
    )


def _unused_numbers(count: int) -> list[str]:
    """``count`` fresh numbers no sheet of any ballot has (a collision is only retried)."""
    numbers: set[str] = set()
    while len(numbers) < count:
        wanted = {new_sheet_number() for _ in range(count - len(numbers))}
        taken = set(
            db.session.scalars(select(PaperSheet.number).where(PaperSheet.number.in_(wanted)))
        )
        numbers |= wanted - taken
    return sorted(numbers)


def get_batch(ballot: Ballot, batch_id: int) -> PaperSheetBatch:
    batch = db.session.get(PaperSheetBatch, batch_id)
    if batch is None or batch.ballot_id != ballot.id:
        raise NotFound(_l("No such batch of sheets."), code="not_found")
    return batch


def batch_numbers(batch: PaperSheetBatch) -> list[str]:
    """The batch's sheet numbers in print order (sorted, which says nothing: they are random)."""
    return list(
        db.session.scalars(
            select(PaperSheet.number).filter_by(batch_id=batch.id).order_by(PaperSheet.number)
        )
    )


def ballot_batches(ballot_id: int) -> list[PaperSheetBatch]:
    """The ballot's printed batches, newest first."""
    return list(
        db.session.scalars(
            select(PaperSheetBatch)
            .filter_by(ballot_id=ballot_id)
            .order_by(PaperSheetBatch.id.desc())
        )
    )


def sheet_counts(ballot_id: int) -> dict[str, int]:
    """How many sheets of the ballot are printed and unused, counted, or otherwise."""
    rows = db.session.execute(
        select(PaperSheet.status, func.count())
        .where(PaperSheet.ballot_id == ballot_id)
        .group_by(PaperSheet.status)
    ).all()
    return dict(rows)
