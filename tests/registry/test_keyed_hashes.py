"""Voter cards under a keyed hash (issue 14, finding 6): what verifies, what does not, the
cards from before migration 0008, the typed code, and the card's secret in the session."""

import base64
import hashlib
import json
import sqlite3
import zlib

import pytest
from flask_migrate import upgrade

from civicvote import create_app
from civicvote.extensions import db
from civicvote.registry import credentials
from civicvote.registry.credentials import (
    SHORT_ALPHABET,
    find_credential,
    find_credential_by_token,
    format_short_code,
    hash_secret,
    new_short_code,
    new_token,
    normalize_short_code,
)
from civicvote.registry.models import Credential
from civicvote.voting.casting import cast_vote
from tests import factories
from tests.conftest import test_config


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_hashes_are_keyed_by_the_instance_secret(app):
    ballot = factories.ballot()
    _credential, token, short = factories.credential(ballot)
    assert hash_secret(token) != _sha256(token)
    assert find_credential(ballot.id, short) is not None
    app.config["SECRET_KEY"] = "another instance"  # a new key: every issued card stops working
    assert find_credential(ballot.id, short) is None
    assert find_credential_by_token(token) is None


def _legacy_card(ballot, scheme: str):
    token, short = new_token(), new_short_code()
    db.session.add(
        Credential(
            ballot_id=ballot.id,
            voter_key="h77",
            token_hash=_sha256(token),
            short_code_hash=_sha256(short),
            hash_scheme=scheme,
        )
    )
    db.session.commit()
    return token, short


def test_cards_from_before_0008_still_vote(app):
    ballot = factories.ballot()
    token, short = _legacy_card(ballot, "sha256")
    assert find_credential_by_token(token).voter_key == "h77"
    assert find_credential(ballot.id, format_short_code(short)).voter_key == "h77"
    receipt = cast_vote(ballot.id, token, {"selections": [ballot.items[0].proposal_id]})
    assert receipt.created


def test_a_sha256_in_a_keyed_card_verifies_nothing(app):
    ballot = factories.ballot()
    token, short = _legacy_card(ballot, "hmac-sha256")
    assert find_credential_by_token(token) is None
    assert find_credential(ballot.id, short) is None


def test_the_migration_marks_existing_cards_as_legacy(tmp_path):
    url = f"sqlite:///{tmp_path / 'old.db'}"
    app = create_app(test_config(url, tmp_path / "instance"))
    with app.app_context():
        upgrade(revision="0007_audit_trail")
        db.engine.dispose()
    with sqlite3.connect(tmp_path / "old.db") as old:  # a card issued by the old code
        old.execute(
            "INSERT INTO credentials (ballot_id, voter_key, token_hash, short_code_hash, kind,"
            " issued_at) VALUES (1, 'h1', ?, ?, 'card', '2026-05-01 09:00:00')",
            (_sha256("t" * 27), _sha256("ABCDEFGHJK")),
        )
    with app.app_context():
        upgrade()
        assert db.session.scalar(db.select(Credential.hash_scheme)) == "sha256"
        assert find_credential(1, "abcd-efgh-jk").voter_key == "h1"
        db.session.remove()
        db.engine.dispose()


def test_codes_are_grouped_unambiguous_and_typed_forgivingly(app):
    assert not set("01ILOU") & set(SHORT_ALPHABET)
    code = new_short_code()
    printed = format_short_code(code)
    assert len(printed) == 12 and printed[4] == printed[9] == "-"
    fullwidth = "".join(chr(ord(ch) + 0xFEE0) for ch in code.lower())  # a Chinese input method
    assert normalize_short_code(fullwidth) == code
    assert normalize_short_code(f" {printed.lower()} ") == code


def _cookie_payload(client) -> str:
    """What anyone holding the session cookie can read, without the server's key."""
    value = client.get_cookie("session").value
    compressed = value.startswith(".")
    payload = value.lstrip(".").split(".")[0]
    raw = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    return (zlib.decompress(raw) if compressed else raw).decode()


def test_the_session_cookie_does_not_carry_the_token(client):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    client.get(f"/v/{token}")
    readable = _cookie_payload(client)
    card = json.loads(readable)["ballot_cards"][str(ballot.id)]
    assert card["current"] and card["cards"]  # the card is remembered, its secret encrypted
    assert token not in readable
    assert client.get(f"/ballots/{ballot.id}/vote").status_code == 200


def test_the_card_in_the_session_expires(client, monkeypatch):
    ballot = factories.ballot()
    _, token, _ = factories.credential(ballot)
    client.get(f"/v/{token}")
    monkeypatch.setattr(credentials, "VOTER_SESSION_SECONDS", -1)  # hours later
    assert client.get(f"/ballots/{ballot.id}/vote").status_code == 403


@pytest.mark.parametrize("sealed", [None, 3, "garbage", {"s": "token"}])
def test_a_forged_session_entry_is_no_voter(app, sealed):
    with app.test_request_context():
        assert credentials.open_from_session(sealed) is None
