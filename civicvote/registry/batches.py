"""Batches of voter cards issued from the console: one batch per form, whatever the browser does.

The cards form carries a one-time request key. Issuing creates the batch row first (its key is
unique), then the cards; the same form sent again (a reload, a double click, back and send)
finds that batch instead of issuing another. The batch keeps its cards sealed (see
``civicvote.sealed``), so its sheet is a GET page the organizer can reload and print again.
"""

from collections.abc import Callable

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError

from ..errors import NotFound
from ..extensions import db
from .credentials import IssuedCard, Voter, issue_credentials
from .models import CardBatch


def batch_purpose(batch_id: int) -> str:
    """What a batch's cards are sealed for (binds the blob to this batch)."""
    return f"card_batch:{batch_id}"


def find_batch(ballot_id: int, request_key: str) -> CardBatch | None:
    return db.session.scalar(
        db.select(CardBatch).filter_by(ballot_id=ballot_id, request_key=request_key)
    )


def issue_card_batch(
    ballot_id: int,
    request_key: str,
    *,
    building: str | None,
    count: int | None,
    base_url: str,
    seal: Callable[[list, str], bytes],
    actor=None,
) -> tuple[CardBatch, bool]:
    """Issue the cards the form asks for once per ``request_key``; commit.

    Returns ``(batch, created)``: ``created`` is False when this key's batch existed already (the
    same form sent again), and nothing new was issued. ``seal(cards, purpose)`` encrypts the cards
    for the sheet (the view passes ``civicvote.sealed.seal``).
    """
    existing = find_batch(ballot_id, request_key)
    if existing is not None:
        return existing, False
    batch = CardBatch(
        ballot_id=ballot_id,
        request_key=request_key,
        building=building,
        requested=count,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(batch)
    try:
        db.session.flush()  # the unique key decides between two copies of one form
    except IntegrityError:
        db.session.rollback()
        existing = find_batch(ballot_id, request_key)
        if existing is None:
            raise
        return existing, False

    def keep_sealed(cards) -> None:  # in the cards' own transaction, before its commit
        batch.issued = len(cards)
        batch.sealed = seal([_card_values(card) for card in cards], batch_purpose(batch.id))

    issue_credentials(
        ballot_id, building, count, base_url=base_url, actor=actor, before_commit=keep_sealed
    )
    return batch, True


def _card_values(card: IssuedCard) -> dict:
    voter = card.voter
    return {
        "voter": [voter.key, voter.building, voter.unit, voter.room, voter.name],
        "token": card.token,
        "short_code": card.short_code,
        "link": card.link,
        "credential_id": card.credential_id,
    }


def batch_cards(values: list) -> list[IssuedCard]:
    """The cards of a batch from its unsealed values."""
    return [
        IssuedCard(
            Voter(*row["voter"]), row["token"], row["short_code"], row["link"], row["credential_id"]
        )
        for row in values
    ]


def get_batch(ballot_id: int, batch_id: int) -> CardBatch:
    batch = db.session.get(CardBatch, batch_id)
    if batch is None or batch.ballot_id != ballot_id:
        raise NotFound(_l("No such batch of cards."))
    return batch
