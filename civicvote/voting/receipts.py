"""Receipt codes, and how a retried vote gets its receipt back without anything stored linking
the card to the contents.

Every counted ballot has a receipt code anyone can look up ("counted", nothing more). A retried
submission (double tap, lost answer, Back, reload, the card scanned again) carries the same card
secret and idempotency key. The vote stores, beside its participation, a *vote replay*:

* ``key = HMAC(server key, "ballot:credential")``: which card it answers, computable only with
  the instance's secret key;
* ``sealed = AES-GCM(HMAC(server key, card secret), receipt, aad = idempotency key)``;
* ``expires_at``: the vote's time plus RECEIPT_RECOVERY_MINUTES (default 30).

No contents, and nothing computed from them. A retry within the window with the same card secret
and key opens the receipt; after the window, or once the ballot closes, the replay is gone and a
retry is told the vote is counted (``already_voted``). ``card secret`` is the raw token, or for a
code typed by hand a random secret kept in that browser's session (the code is too short to key
anything). docs/secrecy.md says how long a lost receipt can be recovered, and how.
"""

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import monotonic

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..ballots.models import BallotBoxEntry, CastBallot
from ..errors import Conflict
from ..extensions import db
from ..registry.credentials import SHORT_ALPHABET, normalize_short_code
from . import statements
from .sealing import NONCE_BYTES, derive, receipt_tag, server_secret

RECEIPT_LENGTH = 12  # 12 symbols of 30: about 59 bits, unguessable for lookups


def new_receipt_code() -> str:
    """RECEIPT_LENGTH symbols drawn uniformly from SHORT_ALPHABET (the OS's random source).

    One read of random bytes, not one per symbol: bytes below the largest multiple of the
    alphabet's size map evenly onto it, the rest are skipped (so no symbol is favoured).
    """
    size = len(SHORT_ALPHABET)
    usable = 256 - 256 % size
    code = ""
    while len(code) < RECEIPT_LENGTH:
        code += "".join(SHORT_ALPHABET[b % size] for b in secrets.token_bytes(16) if b < usable)
    return code[:RECEIPT_LENGTH]


def normalize_receipt(code: str) -> str:
    """A receipt code as typed (any case, dashes, spaces) in its stored form."""
    return normalize_short_code(code or "")[: RECEIPT_LENGTH + 4]


def format_receipt(code: str) -> str:
    """``ABCD-EFGH-JKMN``: easier to read aloud and to copy."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


@dataclass(frozen=True)
class Counted:
    """A receipt found: the ballot it was counted in."""

    ballot_id: int


def lookup_receipt(code: str) -> Counted | None:
    """The ballot a receipt code was counted in (public: it reveals only "counted"): a closed
    ballot's cast ballot, or an open ballot's sealed entry found by the code's keyed hash."""
    code = normalize_receipt(code)
    if len(code) != RECEIPT_LENGTH:
        return None
    ballot_id = db.session.scalar(select(CastBallot.ballot_id).filter_by(receipt_code=code))
    if ballot_id is None:
        ballot_id = db.session.scalar(
            select(BallotBoxEntry.ballot_id).filter_by(receipt_tag=receipt_tag(code))
        )
    return Counted(ballot_id) if ballot_id is not None else None


def canonical(contents: dict) -> str:
    """The contents as one canonical JSON text (two clerks' entries are compared by it)."""
    return json.dumps(contents, sort_keys=True, separators=(",", ":"))


# --------------------------------------------------------------------------- retries


def replay_key(ballot_id: int, credential_id: int) -> str:
    """Where a card's vote replay is kept: a keyed hash only the server can compute."""
    key = derive(server_secret(), b"civicvote vote replay")
    return hmac.new(key, b"%d:%d" % (ballot_id, credential_id), hashlib.sha256).hexdigest()


def _replay_cipher(seal_secret: str) -> AESGCM:
    """AES-GCM under HMAC(server-derived key, card secret): one HMAC per vote, and neither the
    card nor the database alone gives the key."""
    salt = derive(server_secret(), b"civicvote replay key")
    return AESGCM(hmac.new(salt, seal_secret.encode(), hashlib.sha256).digest())


def replay_columns(
    ballot_id: int,
    credential_id: int | None,
    receipt: str,
    sealing: tuple[str | None, str | None],
    now: datetime,
) -> dict:
    """The vote replay's ``replay_key``, ``replay`` and ``replay_expires`` for a vote sealed
    with (card secret, idempotency key); all None without them or with no recovery window."""
    seal_secret, key = sealing
    minutes = current_app.config.get("RECEIPT_RECOVERY_MINUTES", 30)
    if not (seal_secret and key and credential_id is not None and minutes):
        return {"replay_key": None, "replay": None, "replay_expires": None}
    nonce = secrets.token_bytes(NONCE_BYTES)
    sealed = _replay_cipher(seal_secret).encrypt(nonce, receipt.encode(), key.encode())
    return {
        "replay_key": replay_key(ballot_id, credential_id),
        "replay": nonce + sealed,
        "replay_expires": now + timedelta(minutes=minutes),
    }


def replayed_receipt(
    connection, ballot_id: int, credential_id: int | None, sealing, now: datetime
) -> str | None:
    """The receipt of the card's vote if (card secret, key) open its replay within the
    window; else None."""
    seal_secret, key = sealing
    if not (seal_secret and key and credential_id is not None):
        return None
    row = statements.replay_of(connection, replay_key(ballot_id, credential_id))
    if row is None or row.expires_at <= now:
        return None
    sealed = bytes(row.sealed)
    try:
        receipt = _replay_cipher(seal_secret).decrypt(
            sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], key.encode()
        )
    except InvalidTag:  # another card secret or another key: not a retry of this vote
        return None
    return receipt.decode("ascii")


SWEEP_SECONDS = 60
_last_sweep = [monotonic()]  # the first sweep a minute after the process starts


def sweep_expired_replays(engine, now: datetime) -> None:
    """Wipe the vote replays whose window has passed: at most once a minute per process, in a
    transaction of its own after a vote (a stale replay is never used: its expiry is checked)."""
    if monotonic() - _last_sweep[0] < SWEEP_SECONDS:
        return
    _last_sweep[0] = monotonic()
    try:
        with engine.begin() as connection:
            statements.delete_expired_replays(connection, now)
    except Exception:  # the next sweep tries again; the vote is counted
        current_app.logger.warning("Wiping expired vote replays failed", exc_info=True)


def receipt_of_retry(connection, ballot_id: int, credential_id, sealing, now) -> str:
    """The receipt of a retried vote; Conflict ``already_voted`` when it cannot be replayed
    (another key, another secret, or the recovery window has passed)."""
    receipt = replayed_receipt(connection, ballot_id, credential_id, sealing, now)
    if receipt is None:
        raise Conflict(_l("A vote has already been recorded for this voter."), code="already_voted")
    return receipt
