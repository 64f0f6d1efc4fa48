"""Voter-card tokens: random, at least 128 bits, stored only as SHA-256 hashes."""

import hashlib
import secrets

# Crockford-style alphabet without 0/O, 1/I/L, U: easy to read aloud and type on a phone.
SHORT_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
SHORT_CODE_LENGTH = 10


def new_token() -> str:
    """A URL-safe token carrying 160 random bits (the QR voter-card secret)."""
    return secrets.token_urlsafe(20)


def new_short_code() -> str:
    """A typable code for phones without a camera: 10 symbols of 30 (~49 bits), rate-limited."""
    return "".join(secrets.choice(SHORT_ALPHABET) for _ in range(SHORT_CODE_LENGTH))


def normalize_short_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def find_credential(ballot_id: int, secret: str):
    """The credential of ``ballot_id`` whose token or short code is ``secret``, or None.

    Revoked and expired credentials are returned too; callers decide what each state means.
    """
    from ..extensions import db
    from .models import Credential

    secret = (secret or "").strip()
    if not secret or len(secret) > 64:
        return None
    by_token = db.select(Credential).filter_by(ballot_id=ballot_id, token_hash=hash_secret(secret))
    found = db.session.scalar(by_token)
    if found is None:
        code = normalize_short_code(secret)
        if len(code) == SHORT_CODE_LENGTH:
            found = db.session.scalar(
                db.select(Credential).filter_by(
                    ballot_id=ballot_id, short_code_hash=hash_secret(code)
                )
            )
    return found
