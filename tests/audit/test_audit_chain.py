"""The hash-chained audit log: appending, verifying, and catching every kind of tampering."""

import pytest
from sqlalchemy import text

from civicvote.audit.models import AuditEvent
from civicvote.audit.services import GENESIS, record, verify_chain
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


def test_entries_link_to_their_predecessor(chain):
    events = list(db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)))
    assert events[0].prev_hash == GENESIS
    for before, after in zip(events, events[1:], strict=False):
        assert after.prev_hash == before.hash
    assert verify_chain().intact


def test_non_json_values_are_stored_as_hashed(app):
    from datetime import date
    from decimal import Decimal

    record("cost.edit", "line_item", 1, after={"cost": Decimal("12.50"), "on": date(2026, 1, 2)})
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
    assert "removed or moved" in result.output


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
    from civicvote.audit.services import _digest, _fields

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


def test_removed_tail_is_caught_against_a_published_head(runner, chain):
    head = db.session.get(AuditEvent, chain[-1]).hash
    assert _verify(runner, "--expected-head", head).exit_code == 0
    db.session.execute(text(f"DELETE FROM audit_events WHERE id = {chain[-1]}"))
    db.session.commit()
    result = _verify(runner, "--expected-head", head)
    assert result.exit_code == 1
    assert "expected head" in result.output


def test_two_appenders_cannot_fork_the_chain(app):
    # prev_hash is unique: a second entry claiming the same predecessor is refused.
    from sqlalchemy.exc import IntegrityError

    record("a", "x")
    db.session.commit()
    head = db.session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()))
    db.session.add(
        AuditEvent(
            action="b",
            object_type="x",
            prev_hash=head.prev_hash,
            hash="f" * 64,
            actor_label="",
            created_at=head.created_at,
        )
    )
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()


def test_admin_log_filters_and_public_log_hides_private_actions(client, chain):
    place_id = db.session.get(AuditEvent, chain[0]).community_id
    record(
        "user.create",
        "user",
        7,
        community_id=place_id,
        public=False,
        after={"username": "secret-name"},
    )
    db.session.commit()
    from civicvote.communities.models import Community

    slug = db.session.get(Community, place_id).slug
    public = client.get(f"/c/{slug}/log").get_data(as_text=True)
    assert public.count("need.accept") == 5
    assert "user.create" not in public and "secret-name" not in public
    assert client.get("/admin/audit").status_code == 302
    factories.user("root", is_admin=True)
    factories.login(client, "root")
    page = client.get("/admin/audit?action=user").get_data(as_text=True)
    assert "user.create" in page and "need.accept" not in page
    assert "secret-name" in page
