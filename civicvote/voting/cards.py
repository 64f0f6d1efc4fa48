"""The voter cards a browser holds, per ballot: one shared phone, many voters.

The session keeps, for each ballot, the card opened last (``current``) and one small entry per
card: its secret while it has not voted (``s``) and the secret that seals its receipt for retries
(``k``: the token of a personal link, or a random secret for a code typed by hand), both
encrypted and dated (``x``: registry.credentials.seal_for_session, as the cookie is only
signed); the choices
under review (``d``), and once it has voted its receipt (``r``) and how the vote went (``n``:
"new", "again" for a retry answered with the first vote's receipt, "counted" when the receipt
cannot be shown). A receipt is shown only for the card that cast it; when another card is
opened, the cards that voted keep nothing but a code card's seal (which opens nothing without
the code).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask import session

from ..extensions import db
from ..registry.credentials import open_from_session, seal_for_session
from ..timeutil import utcnow
from .receipts import replayed_receipt

SESSION_KEY = "ballot_cards"
WEB_KEY = "web-form"  # the web form's idempotency key: the vote's, the same for every retry
MAX_CARDS = 6  # cards kept per ballot (the cookie stays small)


@dataclass
class Card:
    """One card's state in this browser (see the module's docstring)."""

    id: str
    secret: str | None = None
    seal: str | None = None
    draft: dict | None = None
    receipt: str | None = None
    notice: str | None = None

    @property
    def voted(self) -> bool:
        return self.receipt is not None or self.notice == "counted"


def _state(ballot_id: int) -> dict:
    state = (session.get(SESSION_KEY) or {}).get(str(ballot_id)) or {}
    return {"current": state.get("current"), "cards": dict(state.get("cards") or {})}


def _save(ballot_id: int, state: dict) -> None:
    everything = dict(session.get(SESSION_KEY) or {})
    everything[str(ballot_id)] = state
    session[SESSION_KEY] = everything


def _card(card_id: str, entry: dict) -> Card:
    secrets_ = open_from_session(entry.get("x")) or {}  # the secrets, encrypted in the cookie
    return Card(
        card_id,
        secrets_.get("s"),
        secrets_.get("k"),
        entry.get("d"),
        entry.get("r"),
        entry.get("n"),
    )


def _entry(card: Card) -> dict:
    values = {"d": card.draft, "r": card.receipt, "n": card.notice}
    if card.secret or card.seal:
        values["x"] = seal_for_session({"s": card.secret, "k": card.seal})
    return {key: value for key, value in values.items() if value is not None}


def remember(ballot_id: int, credential_id: int, secret: str, *, seal: str | None) -> None:
    """A card was opened in this browser (link scanned or code typed): it becomes the current
    card. ``seal`` None: keep the card's random seal, or draw one."""
    state = _state(ballot_id)
    cards = state["cards"]
    card_id = str(credential_id)
    for other, entry in list(cards.items()):
        if other != card_id and (entry.get("r") or entry.get("n") == "counted"):
            voted = _card(other, entry)
            if voted.seal and not voted.secret:
                cards[other] = _entry(Card(other, seal=voted.seal))
            else:
                del cards[other]
    card = _card(card_id, cards.pop(card_id, {}))
    card.secret = secret
    card.seal = seal or card.seal or secrets.token_urlsafe(32)
    cards[card_id] = _entry(card)
    while len(cards) > MAX_CARDS:
        del cards[next(iter(cards))]
    _save(ballot_id, {"current": card_id, "cards": cards})


def named(ballot_id: int, card_id: str | None) -> Card | None:
    """The card ``card_id`` if this browser holds it, else (no id given) the current card."""
    state = _state(ballot_id)
    card_id = card_id or state["current"]
    entry = state["cards"].get(str(card_id)) if card_id else None
    return _card(str(card_id), entry) if entry is not None else None


def current(ballot_id: int) -> Card | None:
    """The card opened last on this browser for the ballot, or None."""
    return named(ballot_id, None)


def _store(ballot_id: int, card: Card) -> None:
    state = _state(ballot_id)
    state["cards"][card.id] = _entry(card)
    _save(ballot_id, state)


def keep_draft(ballot_id: int, card: Card, payload: dict) -> None:
    """The choices under review (shown again by "change my choices")."""
    card.draft = payload
    _store(ballot_id, card)


def counted(ballot_id: int, card: Card, receipt: str | None, *, again: bool = False) -> None:
    """The card's vote is counted: keep its receipt (None: it cannot be shown any more), drop
    its secret and choices. A code card keeps its seal, so that typing the code again on this
    browser still opens its vote replay."""
    keep_seal = card.seal if card.seal and card.seal != card.secret else None
    card.secret, card.draft, card.seal = None, None, keep_seal
    card.receipt = receipt
    card.notice = ("again" if again else "new") if receipt else "counted"
    _store(ballot_id, card)


def recover(ballot_id: int, card: Card, credential_id: int) -> None:
    """The card's voter has voted, but this browser holds no receipt (the answer to "confirm"
    was lost, or the card was scanned again): replay it if its recovery window is still open."""
    receipt = replayed_receipt(
        db.session.connection(), ballot_id, credential_id, (card.seal, WEB_KEY), utcnow()
    )
    counted(ballot_id, card, receipt, again=True)
