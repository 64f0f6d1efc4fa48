"""The published heads and the public key as open data, checked the way an outsider would:
with nothing but the API's answers and a standard Ed25519 implementation."""

import base64
import stat

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from civicvote import create_app
from civicvote.audit import signing
from civicvote.audit.services import record
from civicvote.extensions import db
from tests import factories
from tests.api.test_openapi import check
from tests.conftest import test_config


@pytest.fixture
def heads(app):
    one, two = factories.community(), factories.community()
    for place in (one, two, one):
        record("ballot.open", "ballot", 1, community_id=place.id, public=True)
        record("paper_ballot.count", "ballot", 1, community_id=place.id)
        record("ballot.close", "ballot", 1, community_id=place.id, public=True)
    db.session.commit()
    return one, two


@pytest.fixture
def spec(client):
    return client.get("/api/openapi.json").get_json()


def test_heads_are_open_data_newest_first_and_match_the_spec(client, spec, heads):
    one, two = heads
    everything = client.get("/api/v1/audit/heads")
    check(spec, "/api/v1/audit/heads", "GET", everything)
    body = everything.get_json()
    assert [h["count"] for h in body["heads"]] == [9, 7, 6, 4, 3, 1]
    assert body["heads"][0]["milestone"] == {
        "action": "ballot.close",
        "community_id": one.id,
        "object_type": "ballot",
        "object_id": 1,
    }
    theirs = client.get(f"/api/v1/audit/heads?community_id={two.id}").get_json()
    assert [h["count"] for h in theirs["heads"]] == [6, 4]
    paged = client.get("/api/v1/audit/heads?per_page=2&page=2")
    check(spec, "/api/v1/audit/heads", "GET", paged)
    assert [h["count"] for h in paged.get_json()["heads"]] == [6, 4]
    for bad in ("x", "0", "99999999999", "²"):
        refused = client.get(f"/api/v1/audit/heads?community_id={bad}")
        assert refused.status_code == 422
        check(spec, "/api/v1/audit/heads", "GET", refused)


def test_an_outsider_checks_each_head_with_the_published_key(client, spec, heads):
    answer = client.get("/api/v1/audit/public-key")
    check(spec, "/api/v1/audit/public-key", "GET", answer)
    published = answer.get_json()
    key = Ed25519PublicKey.from_public_bytes(base64.b64decode(published["public_key"]))
    pem = load_pem_public_key(published["public_key_pem"].encode())
    assert pem.public_bytes_raw() == key.public_bytes_raw()
    for head in client.get("/api/v1/audit/heads").get_json()["heads"]:
        # The signed text is rebuilt from the head's own fields, not taken on trust.
        text = (
            f"civicvote audit head\ncount: {head['count']}\nhash: {head['hash']}\n"
            f"time: {head['created_at']}\n"
        )
        assert text == head["signed_text"]
        assert head["key_fingerprint"] == published["fingerprint"]
        key.verify(base64.b64decode(head["signature"]), text.encode())
        tampered = text.replace(f"count: {head['count']}", f"count: {head['count'] - 1}")
        with pytest.raises(InvalidSignature):
            key.verify(base64.b64decode(head["signature"]), tampered.encode())


def test_the_public_key_command_prints_the_published_key(runner, client, heads):
    result = runner.invoke(args=["audit", "public-key"])
    assert result.exit_code == 0
    published = client.get("/api/v1/audit/public-key").get_json()
    assert result.stdout == published["public_key_pem"]
    assert published["fingerprint"] in result.stderr


def test_the_generated_key_is_private_and_kept(tmp_path, database_urls):
    instance = tmp_path / "instance"
    config = {**test_config(database_urls("sqlite"), instance), "AUDIT_SIGNING_KEY": ""}
    prints = []
    for _ in range(2):  # two processes (here: two apps) of one instance share one key
        app = create_app(config)
        with app.app_context():
            prints.append(signing.fingerprint(signing.public_key()))
    assert prints[0] == prints[1]
    key_file = instance / signing.KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [p.name for p in instance.iterdir()] == [signing.KEY_FILE]  # no temporary left


@pytest.mark.parametrize("configured", ["ab" * 32, None])
def test_a_configured_key_is_used_and_no_file_is_written(tmp_path, database_urls, configured):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    private = Ed25519PrivateKey.from_private_bytes(bytes.fromhex("ab" * 32))
    configured = configured or signing._private_pem(private).decode()  # PEM works too
    instance = tmp_path / "instance"
    app = create_app(
        {**test_config(database_urls("sqlite"), instance), "AUDIT_SIGNING_KEY": configured}
    )
    with app.app_context():
        assert signing.fingerprint(signing.public_key()) == signing.fingerprint(
            private.public_key()
        )
    assert not (instance / signing.KEY_FILE).exists()


@pytest.mark.parametrize("configured", ["not a key", "ab" * 31, "-----BEGIN PRIVATE KEY-----\n"])
def test_a_bad_configured_key_is_a_clear_error(tmp_path, database_urls, configured):
    app = create_app(
        {**test_config(database_urls("sqlite"), tmp_path), "AUDIT_SIGNING_KEY": configured}
    )
    with app.app_context(), pytest.raises(signing.SigningKeyError, match="Ed25519"):
        signing.signing_key()
