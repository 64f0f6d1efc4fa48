"""The instance's Ed25519 key that signs published chain heads.

The key lives outside the database (``CIVICVOTE_AUDIT_SIGNING_KEY``, else a file generated once
into the instance folder with mode 0600), so that whoever can write to the database, or holds a
copy of it, cannot sign a head for a chain they rewrote. The public half is published; anyone
checks a head's signature with it (see docs/audit.md).
"""

import base64
import binascii
import hashlib
from datetime import datetime
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from flask import current_app

from ..config import make_instance_folder, write_private_file
from ..timeutil import iso_utc

KEY_FILE = "audit_signing_key.pem"
_EXTENSION = "civicvote.audit_signing_key"


class SigningKeyError(ValueError):
    """The configured signing key cannot be read."""


def parse_private_key(text: str) -> Ed25519PrivateKey:
    """A private key given as PEM (PKCS#8) or as the 32-byte seed in 64 hexadecimal digits."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_private_key(text.encode(), password=None)
        else:
            key = Ed25519PrivateKey.from_private_bytes(bytes.fromhex(text))
    except ValueError as error:
        raise SigningKeyError(
            "The audit signing key must be an Ed25519 PEM key or 64 hexadecimal digits."
        ) from error
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningKeyError("The audit signing key must be an Ed25519 key.")
    return key


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A public key given as PEM or as its 32 raw bytes in base64 (as the API publishes it)."""
    text = text.strip()
    try:
        if text.startswith("-----BEGIN"):
            key = serialization.load_pem_public_key(text.encode())
        else:
            key = Ed25519PublicKey.from_public_bytes(base64.b64decode(text, validate=True))
    except (ValueError, binascii.Error) as error:
        raise SigningKeyError("Not an Ed25519 public key (PEM or base64).") from error
    if not isinstance(key, Ed25519PublicKey):
        raise SigningKeyError("The public key must be an Ed25519 key.")
    return key


def _private_pem(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _key_from_instance(folder: Path) -> Ed25519PrivateKey:
    """The key kept in the instance folder, generated the first time (mode 0600).

    Written to a private temporary file and then linked into place, so that two workers
    starting at once agree on one key and neither ever reads a half-written file.
    """
    path = folder / KEY_FILE
    if not path.exists():
        make_instance_folder(folder)
        write_private_file(path, _private_pem(Ed25519PrivateKey.generate()))  # or another's
    return parse_private_key(path.read_text())


def signing_key() -> Ed25519PrivateKey:
    """This instance's signing key (read once per process)."""
    key = current_app.extensions.get(_EXTENSION)
    if key is None:
        configured = current_app.config.get("AUDIT_SIGNING_KEY") or ""
        if configured:
            key = parse_private_key(configured)
        else:
            key = _key_from_instance(Path(current_app.instance_path))
        current_app.extensions[_EXTENSION] = key
    return key


def public_key() -> Ed25519PublicKey:
    return signing_key().public_key()


def raw_public_key(key: Ed25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_key_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def fingerprint(key: Ed25519PublicKey) -> str:
    """SHA-256 of the raw public key, in hexadecimal: names the key in every signed head."""
    return hashlib.sha256(raw_public_key(key)).hexdigest()


def head_text(count: int, head_hash: str, created_at: datetime) -> str:
    """The exact text a head's signature covers (UTF-8): documented in docs/audit.md."""
    when = iso_utc(created_at)
    return f"civicvote audit head\ncount: {count}\nhash: {head_hash}\ntime: {when}\n"


def sign(text: str) -> str:
    """The base64 Ed25519 signature of ``text`` with this instance's key."""
    return base64.b64encode(signing_key().sign(text.encode())).decode()


def signature_holds(key: Ed25519PublicKey, text: str, signature: str) -> bool:
    try:
        key.verify(base64.b64decode(signature, validate=True), text.encode())
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True
