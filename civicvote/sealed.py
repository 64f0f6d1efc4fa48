"""Secrets a staff page must show again (a batch of voter cards, a walk-in's code), kept sealed.

A voter card's token exists only as a hash once issued; yet a printed sheet or a walk-in code
must survive a reload, or its codes are lost. So the page's secrets are stored encrypted
(AES-GCM) under a key derived (HKDF-SHA256) from two halves: the instance's SECRET_KEY, never
in the database, and a random key kept only in the issuing staff member's session. A copy of the
database alone, or the secret key alone, opens nothing; the browser that issued the page can
show it again.
"""

import base64
import json
import os
import secrets

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app, session

SESSION_KEY = "sealed_keys"
KEPT_KEYS = 20  # the session keeps the keys of the 20 newest sealed pages
NONCE_BYTES = 12


def _key(page_key: bytes, purpose: str) -> bytes:
    secret = str(current_app.config["SECRET_KEY"]).encode()
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=page_key, info=purpose.encode()).derive(
        secret
    )


def seal(value, purpose: str) -> bytes:
    """Encrypt ``value`` (JSON-able) for ``purpose`` (e.g. "card_batch:12"); its key goes to
    the session. Returns the blob to store."""
    page_key = secrets.token_bytes(32)
    nonce = os.urandom(NONCE_BYTES)
    data = json.dumps(value, ensure_ascii=False).encode()
    blob = nonce + AESGCM(_key(page_key, purpose)).encrypt(nonce, data, purpose.encode())
    kept = dict(session.get(SESSION_KEY) or {})
    kept[purpose] = base64.urlsafe_b64encode(page_key).decode()
    session[SESSION_KEY] = dict(list(kept.items())[-KEPT_KEYS:])
    return blob


def unseal(blob: bytes | None, purpose: str):
    """The value sealed for ``purpose``, or None when this session does not hold its key (another
    browser, a new login) or the blob is gone."""
    encoded = (session.get(SESSION_KEY) or {}).get(purpose)
    if not blob or not encoded:
        return None
    page_key = base64.urlsafe_b64decode(encoded)
    try:
        data = AESGCM(_key(page_key, purpose)).decrypt(
            blob[:NONCE_BYTES], blob[NONCE_BYTES:], purpose.encode()
        )
    except (InvalidTag, ValueError):
        return None
    return json.loads(data)
