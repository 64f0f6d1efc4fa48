"""Appending to the hash-chained audit log and verifying the chain."""

import hashlib
import json
from datetime import datetime

from sqlalchemy import text

from ..extensions import db
from ..timeutil import utcnow
from .models import AuditEvent

GENESIS = "0" * 64


def _digest(prev_hash: str, fields: dict) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _fields(event: AuditEvent) -> dict:
    created: datetime = event.created_at
    return {
        "id": event.id,
        "created_at": created.isoformat(timespec="microseconds"),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "community_id": event.community_id,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "public": bool(event.public),
        "before": event.before,
        "after": event.after,
    }


def record(
    action: str,
    obj_type: str,
    obj_id: int | None = None,
    *,
    actor=None,
    community_id: int | None = None,
    before: dict | None = None,
    after: dict | None = None,
    public: bool = False,
) -> AuditEvent:
    """Append one event in the caller's transaction, chained to the current head.

    The caller commits; the event lands with the change it describes or not at all.
    """
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so each reads the true head; released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    head = session.scalar(db.select(AuditEvent).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = head.hash if head else GENESIS
    event = AuditEvent(
        created_at=utcnow(),
        actor_id=getattr(actor, "id", None),
        actor_label=getattr(actor, "username", "") or ("system" if actor is None else ""),
        community_id=community_id,
        action=action,
        object_type=obj_type,
        object_id=obj_id,
        public=public,
        before=before,
        after=after,
        prev_hash=prev_hash,
        hash="",
    )
    session.add(event)
    session.flush()  # assigns the id, which is part of the hashed fields
    event.hash = _digest(prev_hash, _fields(event))
    return event


def verify_chain() -> AuditEvent | None:
    """Recompute the chain; return the first event that does not match, or None if intact."""
    prev_hash = GENESIS
    for event in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.id)):
        if event.prev_hash != prev_hash or event.hash != _digest(prev_hash, _fields(event)):
            return event
        prev_hash = event.hash
    return None
