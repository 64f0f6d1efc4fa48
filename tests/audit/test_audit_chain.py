"""The hash-chained audit log: appending, verifying, and catching every kind of tampering."""

import json

import pytest
from sqlalchemy import text

from civicvote.audit.models import AuditEvent, AuditHead
from civicvote.audit.services import GENESIS, _digest, _fields, record, verify_chain
from civicvote.extensions import db
from tests import factories


@pytest.fixture
def chain(app):
    """Five committed entries, as staff actions would leave them."""
    place = factories.community()
    actor = factories.user("organizer")
    for n in range(5):
        record(
            "need.accept",
            "need",
            n + 1,
            actor=actor,
            community_id=place.id,
            before={"status": "new"},
            after={"status": "accepted", "n": n},
            public=True,
        )
        db.session.commit()
    return [e.id for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id))]


def _verify(runner, *args):
    return runner.invoke(args=["audit", "verify", *args])


def _head_hash(entry_id: int) -> str:
    return db.session.get(AuditEvent, entry_id).hash


def _recompute_from(first_id: int) -> None:
    """What a forger with write access does after editing: rehash every entry from there on."""
    earlier = db.select(AuditEvent.hash).filter(AuditEvent.id < first_id)
    prev = db.session.scalar(earlier.order_by(AuditEvent.id.desc())) or GENESIS
    for event in db.session.scalars(
        db.select(AuditEvent).filter(AuditEvent.id >= first_id).order_by(AuditEvent.id)
    ):
        event.prev_hash = prev
        event.hash = _digest(prev, _fields(event))
        db.session.flush()
        prev = event.hash
    db.session.commit()


def test_entries_link_to_their_predecessor_and_are_numbered_without_gaps(chain):
    events = list(db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)))
    assert [e.id for e in events] == [1, 2, 3, 4, 5]
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert verify_chain().intact


def test_a_rolled_back_entry_leaves_no_gap(app):
    # PostgreSQL's sequences skip the ids of rolled-back rows; the log numbers its own entries.
    record("need.accept", "need", 1)
    db.session.commit()
    record("need.decline", "need", 2)
    db.session.flush()
    db.session.rollback()
    record("need.merge", "need", 3)
    db.session.commit()
    assert list(db.session.scalars(db.select(AuditEvent.id).order_by(AuditEvent.id))) == [1, 2]
    assert verify_chain().intact


def test_an_action_without_a_sentence_is_refused(app):
    with pytest.raises(ValueError, match="no sentence"):
        record("cost.edit", "line_item", 1)
    assert db.session.scalar(db.select(db.func.count(AuditEvent.id))) == 0


def test_non_json_values_are_stored_as_hashed(app):
    from datetime import date
    from decimal import Decimal

    record(
        "spending.add",
        "spending_entry",
        1,
        after={"cost": Decimal("12.50"), "on": date(2026, 1, 2)},
    )
    db.session.commit()
    db.session.expire_all()
    assert verify_chain().intact


def test_intact_chain_verifies(runner, chain):
    result = _verify(runner)
    assert result.exit_code == 0
    assert "OK: 5 entries" in result.output


@pytest.mark.parametrize(
    "column, value",
    [
        ("action", "'need.decline'"),
        ("after", '\'{"status": "declined"}\''),
        ("actor_label", "'someone-else'"),
        ("public", "false"),
        ("object_id", "99"),
    ],
)
def test_a_changed_row_is_named(runner, chain, column, value):
    db.session.execute(text(f"UPDATE audit_events SET {column} = {value} WHERE id = {chain[2]}"))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"audit entry {chain[2]} " in result.output
    assert "changed" in result.output


def test_a_changed_timestamp_is_caught(runner, chain):
    db.session.execute(
        text("UPDATE audit_events SET created_at = :t WHERE id = :id"),
        {"t": "2020-01-01 00:00:00", "id": chain[1]},
    )
    db.session.commit()
    assert f"audit entry {chain[1]} " in _verify(runner).output


def test_a_removed_row_is_caught_at_the_next_one(runner, chain):
    db.session.execute(text(f"DELETE FROM audit_events WHERE id = {chain[2]}"))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"audit entry {chain[3]} " in result.output
    assert "removed" in result.output


def test_reordered_rows_are_caught(runner, chain):
    # Swap two entries' positions by exchanging their ids.
    a, b = chain[1], chain[3]
    db.session.execute(text(f"UPDATE audit_events SET id = -1 WHERE id = {a}"))
    db.session.execute(text(f"UPDATE audit_events SET id = {a} WHERE id = {b}"))
    db.session.execute(text(f"UPDATE audit_events SET id = {b} WHERE id = -1"))
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"audit entry {a} " in result.output


def test_a_rewritten_row_with_a_recomputed_hash_breaks_the_next_link(runner, chain):
    # A forger who recomputes the changed row's own hash still breaks the row after it.
    event = db.session.get(AuditEvent, chain[2])
    event.after = {"status": "declined"}
    db.session.flush()
    forged = _digest(event.prev_hash, _fields(event))
    db.session.execute(
        text("UPDATE audit_events SET hash = :h WHERE id = :id"), {"h": forged, "id": chain[2]}
    )
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"audit entry {chain[3]} " in result.output


def test_a_gap_in_the_numbering_is_caught_even_in_a_recomputed_chain(runner, chain):
    db.session.execute(text(f"DELETE FROM audit_events WHERE id = {chain[2]}"))
    db.session.commit()
    _recompute_from(chain[3])
    result = _verify(runner)
    assert result.exit_code == 1
    assert f"entries {chain[2]} to {chain[2]} were removed" in result.output
    assert "changed" not in result.output and "link" not in result.output  # only the gap shows


def test_truncation_passes_alone_and_is_caught_with_expected_head(runner, chain):
    published = _head_hash(chain[-1])
    assert _verify(runner, "--expected-head", published).exit_code == 0
    db.session.execute(text(f"DELETE FROM audit_events WHERE id >= {chain[3]}"))
    db.session.commit()
    assert _verify(runner).exit_code == 0  # a shorter chain is still a valid chain...
    result = _verify(runner, "--expected-head", published)
    assert result.exit_code == 1  # ...but not the one that was published
    assert f"expected head {published} is not in the chain" in result.output


def test_a_recomputed_chain_passes_alone_and_is_caught_with_expected_head(runner, chain):
    published = _head_hash(chain[-1])
    event = db.session.get(AuditEvent, chain[1])
    event.after = {"status": "declined"}
    db.session.commit()
    _recompute_from(chain[1])
    assert _verify(runner).exit_code == 0  # every link and hash recomputed: internally valid
    result = _verify(runner, "--expected-head", published)
    assert result.exit_code == 1
    assert "not in the chain" in result.output


def test_an_older_head_still_holds_after_the_chain_grows(runner, chain):
    earlier = _head_hash(chain[1])
    record("need.accept", "need", 9)
    db.session.commit()
    assert _verify(runner, "--expected-head", earlier).exit_code == 0


def test_two_appenders_cannot_fork_the_chain(app):
    # prev_hash is unique: a second entry claiming the same predecessor is refused.
    from sqlalchemy.exc import IntegrityError

    record("need.accept", "need")
    db.session.commit()
    head = db.session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()))
    db.session.add(
        AuditEvent(
            id=head.id + 1,
            action="need.decline",
            object_type="need",
            prev_hash=head.prev_hash,
            hash="f" * 64,
            actor_label="",
            created_at=head.created_at,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


# --------------------------------------------------------------------------- signed heads


@pytest.fixture
def milestones(app):
    """A round's life with its milestones: a head is published at each."""
    place = factories.community()
    record("need.accept", "need", 1, community_id=place.id, public=True)
    record("ballot.open", "ballot", 1, community_id=place.id, public=True)
    record("paper_ballot.enter", "paper_ballot_entry", 1, community_id=place.id)
    record("ballot.close", "ballot", 1, community_id=place.id, public=True)
    record("allocation.run", "allocation_run", 1, community_id=place.id, public=True)
    db.session.commit()
    return place


def test_a_head_is_published_at_every_milestone(milestones):
    heads = list(db.session.scalars(db.select(AuditHead).order_by(AuditHead.count)))
    assert [(h.count, h.action) for h in heads] == [
        (2, "ballot.open"),
        (4, "ballot.close"),
        (5, "allocation.run"),
    ]
    for head in heads:
        assert head.hash == _head_hash(head.count)
        assert head.community_id == milestones.id
    assert verify_chain().intact


def test_a_recomputed_chain_is_caught_by_the_published_heads(runner, milestones):
    # A forger with the database but not the key cannot sign heads for the rewritten chain.
    event = db.session.get(AuditEvent, 1)
    event.after = {"forged": True}
    db.session.commit()
    _recompute_from(1)
    result = _verify(runner)
    assert result.exit_code == 1
    assert "rewritten after that head was published" in result.output
    # Moving the published heads along does not help: their signatures no longer check.
    for head in db.session.scalars(db.select(AuditHead)):
        head.hash = _head_hash(head.count)
    db.session.commit()
    result = _verify(runner)
    assert result.exit_code == 1
    assert "no valid signature" in result.output


def _api_heads(client) -> list[dict]:
    return client.get("/api/v1/audit/heads").get_json()["heads"]


def test_a_saved_head_file_catches_truncation_even_with_the_heads_deleted(
    runner, client, milestones, tmp_path
):
    saved = tmp_path / "heads.json"
    saved.write_text(json.dumps({"heads": _api_heads(client)}))
    assert _verify(runner, "--head", str(saved)).exit_code == 0
    db.session.execute(text("DELETE FROM audit_heads"))
    db.session.execute(text("DELETE FROM audit_events WHERE id >= 4"))
    db.session.commit()
    assert _verify(runner).exit_code == 0  # nothing left inside to contradict it
    result = _verify(runner, "--head", str(saved))
    assert result.exit_code == 1
    assert "counts 5 entries, but the log ends at entry 3" in result.output


def test_a_saved_head_given_inline_catches_a_rewrite(runner, client, milestones):
    newest = _api_heads(client)[0]
    db.session.execute(text("DELETE FROM audit_heads"))
    event = db.session.get(AuditEvent, 3)
    event.after = {"sheet": "forged"}
    db.session.commit()
    _recompute_from(3)
    assert _verify(runner).exit_code == 0
    result = _verify(runner, "--head", json.dumps(newest))
    assert result.exit_code == 1
    assert "rewritten after that head" in result.output


def test_a_tampered_saved_head_fails_its_signature(runner, client, milestones):
    head = _api_heads(client)[1]
    # Claims the chain was shorter: its signature no longer matches what it says.
    forged = {**head, "count": head["count"] - 1, "hash": _head_hash(head["count"] - 1)}
    result = _verify(runner, "--head", json.dumps(forged))
    assert result.exit_code == 1
    assert "no valid signature" in result.output
    assert _verify(runner, "--head", json.dumps(head)).exit_code == 0


def test_a_head_signed_with_another_key_is_refused_unless_that_key_is_given(
    runner, client, milestones, app, tmp_path
):
    from civicvote.audit import signing

    head = _api_heads(client)[0]
    old_pem = tmp_path / "old.pem"
    old_pem.write_text(client.get("/audit/public-key.pem").get_data(as_text=True))
    app.config["AUDIT_SIGNING_KEY"] = "11" * 32  # the instance moves to a new key
    app.extensions.pop(signing._EXTENSION)
    result = _verify(runner, "--head", json.dumps(head))
    assert result.exit_code == 1 and "no valid signature" in result.output
    assert _verify(runner, "--head", json.dumps(head), "--public-key", str(old_pem)).exit_code == 0


@pytest.mark.parametrize(
    "saved",
    [
        '{"count": 3}',
        "[1, 2]",
        '{"hash": "ab", "count": -1}',
        '{"hash": "ab", "count": 2, "created_at": 5}',
        '{"hash": "ab", "count": 2, "created_at": "yesterday"}',
        "/no/such/file.json",
    ],
)
def test_a_saved_head_that_is_not_one_is_a_usage_error(runner, milestones, saved):
    result = _verify(runner, "--head", saved)
    assert result.exit_code == 2
    assert "Traceback" not in result.output
