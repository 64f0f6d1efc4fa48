"""Receipt codes, and how a retried vote gets its receipt back without the database linking it.

Every counted ballot has a receipt code anyone can look up ("counted", nothing more). A retried
submission (double tap, lost response) carries the same credential secret and idempotency key.
The voter's participation stores

* ``idempotency_hash = HMAC-SHA256(secret, "idem:" + key)``,
* ``request_hash = HMAC-SHA256(secret, "request:" + canonical JSON of the contents)``,
* ``sealed_receipt = hex(receipt bytes XOR HMAC-SHA256(secret, "receipt:" + key))``,

where ``secret`` is the voter's raw token (or, for a code typed by hand, a random secret kept in
the voter's session). The database holds only ``SHA-256(token)``, so it can compute none of these:
it cannot unseal the receipt, and it cannot hash candidate ballot contents to compare them with
``request_hash`` (an unkeyed hash of the contents would link them). A retry with the same secret
and key recomputes the hashes and unseals the receipt; the same key with a different body is
refused (409), as is any other second vote.
"""

import hashlib
import hmac
import json
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..ballots.models import CastBallot
from ..errors import Conflict
from ..extensions import db
from ..registry.credentials import SHORT_ALPHABET, normalize_short_code

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


def lookup_receipt(code: str) -> CastBallot | None:
    """The counted ballot with this receipt code (public: it reveals only "counted")."""
    code = normalize_receipt(code)
    if len(code) != RECEIPT_LENGTH:
        return None
    return db.session.scalar(select(CastBallot).filter_by(receipt_code=code))


# --------------------------------------------------------------------------- retries


def canonical(contents: dict) -> str:
    """The contents as one canonical JSON text (what a retry's request is compared by)."""
    return json.dumps(contents, sort_keys=True, separators=(",", ":"))


def _mac(secret: str, label: str) -> bytes:
    return hmac.new(secret.encode(), label.encode(), hashlib.sha256).digest()


def seal(receipt: str, seal_secret: str, key: str) -> str:
    """The receipt XOR a pad only the holder of ``seal_secret`` can make, as hex."""
    pad = _mac(seal_secret, "receipt:" + key)
    data = receipt.encode()
    return bytes(a ^ b for a, b in zip(data, pad, strict=False)).hex()


def unseal(sealed: str, seal_secret: str, key: str) -> str:
    """The receipt sealed by :func:`seal` with the same secret and key."""
    pad = _mac(seal_secret, "receipt:" + key)
    data = bytes.fromhex(sealed)
    return bytes(a ^ b for a, b in zip(data, pad, strict=False)).decode("ascii", "replace")


def retry_columns(
    receipt: str, contents: dict, seal_secret: str | None, key: str | None
) -> dict[str, str | None]:
    """The participation's ``idempotency_hash``, ``request_hash`` and ``sealed_receipt`` for a
    vote sent with an idempotency ``key`` (all None without a key or secret)."""
    if not (seal_secret and key):
        return {"idempotency_hash": None, "request_hash": None, "sealed_receipt": None}
    return {
        "idempotency_hash": _mac(seal_secret, "idem:" + key).hex(),
        "request_hash": _mac(seal_secret, "request:" + canonical(contents)).hex(),
        "sealed_receipt": seal(receipt, seal_secret, key),
    }


def receipt_of_retry(participation, seal_secret: str | None, key: str | None, body: str) -> str:
    """The receipt of the recorded vote if this is a retry of it (same secret, key and canonical
    ``body``); else Conflict: the same key with another body, or a second vote."""
    same_key = bool(seal_secret and key and participation.idempotency_hash) and hmac.compare_digest(
        participation.idempotency_hash, _mac(seal_secret, "idem:" + key).hex()
    )
    if not same_key:
        raise Conflict(_l("A vote has already been recorded for this voter."), code="already_voted")
    if not hmac.compare_digest(
        participation.request_hash or "", _mac(seal_secret, "request:" + body).hex()
    ):
        raise Conflict(
            _l("This retry does not match the vote first sent with the same key."),
            code="idempotency_mismatch",
        )
    return unseal(participation.sealed_receipt, seal_secret, key)
