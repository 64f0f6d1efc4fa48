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


def _json_safe(value):
    return None if value is None else json.loads(json.dumps(value, default=str))


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
    # Store exactly what is hashed: JSON-safe copies (dates and decimals become strings).
    before, after = _json_safe(before), _json_safe(after)
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so each reads the true head; released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    head = session.scalar(db.select(AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1))
    prev_hash = head if head is not None else GENESIS
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


class ChainReport:
    """The outcome of a verification: the first broken event (if any) and why."""

    def __init__(self, checked: int, head: str, broken: AuditEvent | None = None, reason: str = ""):
        self.checked, self.head, self.broken, self.reason = checked, head, broken, reason

    @property
    def intact(self) -> bool:
        return self.broken is None and not self.reason


def verify_chain(expected_head: str | None = None) -> ChainReport:
    """Recompute the chain from the first event.

    A changed row no longer matches its hash; a removed or reordered row breaks the link
    (``prev_hash``) of the row after it. Removing rows from the end leaves a valid but shorter
    chain, which only a published head hash reveals: pass it as ``expected_head``.
    """
    prev_hash = GENESIS
    checked = 0
    for event in _all_events():
        if event.prev_hash != prev_hash:
            return ChainReport(checked, prev_hash, event, "link")
        if event.hash != _digest(prev_hash, _fields(event)):
            return ChainReport(checked, prev_hash, event, "content")
        prev_hash = event.hash
        checked += 1
    if expected_head and expected_head != prev_hash:
        found = db.session.scalar(db.select(AuditEvent).filter_by(hash=expected_head))
        return ChainReport(checked, prev_hash, None, "head-moved" if found else "head-missing")
    return ChainReport(checked, prev_hash)


def _all_events(batch: int = 1000):
    """Every event in id order, a batch at a time (keyset paging keeps memory flat)."""
    last_id = None
    while True:
        query = db.select(AuditEvent).order_by(AuditEvent.id).limit(batch)
        if last_id is not None:
            query = query.filter(AuditEvent.id > last_id)
        rows = list(db.session.scalars(query))
        yield from rows
        if len(rows) < batch:
            return
        last_id = rows[-1].id
        db.session.expunge_all()


def search_events(
    *,
    community_id: int | None = None,
    action: str = "",
    actor: str = "",
    object_type: str = "",
    public_only: bool = False,
):
    """A query over the log, newest first, narrowed by the given filters."""
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc())
    if community_id is not None:
        query = query.filter(AuditEvent.community_id == community_id)
    if action:
        query = query.filter(AuditEvent.action.startswith(action))
    if actor:
        query = query.filter(AuditEvent.actor_label == actor)
    if object_type:
        query = query.filter(AuditEvent.object_type == object_type)
    if public_only:
        query = query.filter(AuditEvent.public.is_(True))
    return query
