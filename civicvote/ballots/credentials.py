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
