"""Appending to the hash-chained audit log, publishing signed heads, and verifying the chain.

Entries are numbered 1, 2, 3... without gaps: ``record()`` gives each the number after the
head's, in the same transaction, so a rolled-back change leaves no hole and any hole means a
removed entry. A head is the claim "the first ``count`` entries end in ``hash``", signed with
the instance key (see signing.py) and published at every milestone (actions.MILESTONES).
"""

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import text

from ..errors import NotFound
from ..extensions import db
from ..timeutil import iso_utc, utcnow
from . import signing
from .actions import MILESTONES, SENTENCES
from .models import AuditEvent, AuditHead

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

    The caller commits; the event lands with the change it describes or not at all. ``action``
    must have a sentence in actions.SENTENCES (ValueError otherwise): the log has to read. A
    milestone action also publishes a signed head of the chain, in the same transaction.
    """
    if action not in SENTENCES:
        raise ValueError(
            f"The audit action {action!r} has no sentence: add one to civicvote/audit/actions.py."
        )
    session = db.session
    # Store exactly what is hashed: JSON-safe copies (dates and decimals become strings).
    before, after = _json_safe(before), _json_safe(after)
    if session.get_bind().dialect.name == "postgresql":
        # Serialise appenders so each reads the true head; released at commit.
        session.execute(text("SELECT pg_advisory_xact_lock(7243001)"))
    head = session.execute(
        db.select(AuditEvent.id, AuditEvent.hash).order_by(AuditEvent.id.desc()).limit(1)
    ).first()
    last_id, prev_hash = head if head is not None else (0, GENESIS)
    event = AuditEvent(
        id=last_id + 1,  # gapless, not the database's sequence (which skips on a rollback)
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
    event.hash = _digest(prev_hash, _fields(event))
    session.add(event)
    if action in MILESTONES:
        publish_head(event)
    session.flush()
    return event


def publish_head(event: AuditEvent) -> AuditHead:
    """Sign the chain's head as it stands with ``event`` as its newest entry."""
    created_at = utcnow().replace(microsecond=0)
    key = signing.public_key()
    head = AuditHead(
        count=event.id,
        hash=event.hash,
        created_at=created_at,
        community_id=event.community_id,
        action=event.action,
        object_type=event.object_type,
        object_id=event.object_id,
        key_fingerprint=signing.fingerprint(key),
        signature=signing.sign(signing.head_text(event.id, event.hash, created_at)),
    )
    db.session.add(head)
    return head


def heads_query(community_id: int | None = None):
    """Published heads, newest first; those of one community's milestones if given."""
    query = db.select(AuditHead).order_by(AuditHead.count.desc())
    if community_id is not None:
        query = query.filter(AuditHead.community_id == community_id)
    return query


def latest_head(community_id: int | None = None) -> AuditHead | None:
    return db.session.scalar(heads_query(community_id).limit(1))


def head_json(head: AuditHead) -> dict:
    """A head as published (API, ``civicvote audit verify --head``): enough to check it alone."""
    return {
        "count": head.count,
        "hash": head.hash,
        "created_at": iso_utc(head.created_at),
        "signature": head.signature,
        "key_fingerprint": head.key_fingerprint,
        "signed_text": signing.head_text(head.count, head.hash, head.created_at),
        "milestone": {
            "action": head.action,
            "community_id": head.community_id,
            "object_type": head.object_type,
            "object_id": head.object_id,
        },
    }


def public_key_json() -> dict:
    key = signing.public_key()
    return {
        "algorithm": "Ed25519",
        "public_key": base64.b64encode(signing.raw_public_key(key)).decode(),
        "public_key_pem": signing.public_key_pem(key),
        "fingerprint": signing.fingerprint(key),
    }


# --------------------------------------------------------------------------- verification


@dataclass
class SavedHead:
    """A head someone kept: at least its hash; its count, time and signature when known."""

    hash: str
    count: int | None = None
    created_at: datetime | None = None
    signature: str = ""
    key_fingerprint: str = ""
    source: str = "saved"

    @classmethod
    def from_json(cls, data: dict, source: str = "saved") -> "SavedHead":
        """Read a head as the API publishes it (see :func:`head_json`); ValueError if it is not."""
        if not isinstance(data, dict) or not isinstance(data.get("hash"), str):
            raise ValueError("a head is a JSON object with at least a hash")
        count = data.get("count")
        if count is not None and (type(count) is not int or count < 1):
            raise ValueError("a head's count is a positive whole number")
        texts = {key: data.get(key) or "" for key in ("created_at", "signature", "key_fingerprint")}
        if not all(isinstance(value, str) for value in texts.values()):
            raise ValueError("a head's time, signature and key fingerprint are text")
        created = texts["created_at"]
        return cls(
            hash=data["hash"].strip().lower(),
            count=count,
            created_at=datetime.fromisoformat(created.removesuffix("Z")) if created else None,
            signature=texts["signature"],
            key_fingerprint=texts["key_fingerprint"],
            source=source,
        )

    @classmethod
    def from_row(cls, head: AuditHead) -> "SavedHead":
        return cls(
            hash=head.hash,
            count=head.count,
            created_at=head.created_at,
            signature=head.signature,
            key_fingerprint=head.key_fingerprint,
            source="published",
        )

    def describe(self) -> str:
        when = f" of {self.created_at.isoformat()}Z" if self.created_at else ""
        count = f" ({self.count} entries)" if self.count else ""
        return f"the {self.source} head {self.hash[:16]}…{when}{count}"


@dataclass
class Problem:
    """One thing verification found wrong; ``kind`` is content, link, gap, head or signature."""

    kind: str
    message: str
    entry_id: int | None = None


@dataclass
class ChainReport:
    """The outcome of a verification: entries checked, the chain's last hash, what is wrong."""

    checked: int = 0
    head: str = GENESIS
    last_id: int = 0
    heads_checked: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.problems


MAX_PROBLEMS = 50  # a rewritten log could fail at every entry; the first ones say enough


def verify_chain(
    expected_heads: list[str] = (),
    saved_heads: list[SavedHead] = (),
    public_keys: list = (),
    *,
    published: bool = True,
) -> ChainReport:
    """Recompute the chain from the first entry and hold it to every head given.

    Always found: a changed entry (its hash no longer matches), a removed or reordered one (the
    next entry's link breaks), a gap in the numbering. Found only against a head kept from
    earlier: entries removed from the end, and a log rewritten with every hash recomputed.
    Heads are the ``expected_heads`` (hashes), the ``saved_heads`` (with count and signature,
    checked with this instance's public key or one of ``public_keys``) and, if ``published``,
    the heads this instance published (its own table; signatures make them hard to forge).
    """
    report = ChainReport()
    heads = list(saved_heads)
    if published:
        heads += [SavedHead.from_row(h) for h in db.session.scalars(heads_query())]
    if any(h.signature for h in heads):
        keys = {signing.fingerprint(k): k for k in [signing.public_key(), *public_keys]}
        for head in heads:
            _check_signature(head, keys, report)
    wanted_counts = {h.count for h in heads if h.count}
    wanted_hashes = {h.lower() for h in expected_heads} | {h.hash for h in heads if not h.count}
    at_count: dict[int, str] = {}
    seen_hashes: set[str] = set()

    prev_hash = GENESIS
    for event in _all_events():
        _check_entry(event, prev_hash, report)
        prev_hash = event.hash
        report.last_id = event.id
        report.checked += 1
        if event.id in wanted_counts:
            at_count[event.id] = event.hash
        if event.hash in wanted_hashes:
            seen_hashes.add(event.hash)
    report.head = prev_hash

    _check_heads(heads, at_count, wanted_hashes - seen_hashes, report)
    return report


def _check_entry(event: AuditEvent, prev_hash: str, report: ChainReport) -> None:
    """One entry against the one before it: numbering, link, and its own hash."""
    if event.id != report.last_id + 1:
        _problem(
            report,
            "gap",
            f"audit entry {event.id} ({event.action}) follows entry {report.last_id}: "
            f"entries {report.last_id + 1} to {event.id - 1} were removed.",
            event.id,
        )
    if event.prev_hash != prev_hash:
        _problem(
            report,
            "link",
            f"audit entry {event.id} ({event.action}) does not link to the entry before it "
            "(an entry was removed or moved).",
            event.id,
        )
    if event.hash != _digest(event.prev_hash, _fields(event)):
        _problem(
            report,
            "content",
            f"audit entry {event.id} ({event.action}) was changed after it was written.",
            event.id,
        )


def _check_heads(
    heads: list[SavedHead], at_count: dict, missing_hashes: set, report: ChainReport
) -> None:
    """Every head against the recomputed chain: ``at_count`` holds its hash at each head's
    count; ``missing_hashes`` are the expected hashes the chain never passed through."""
    for head in heads:
        report.heads_checked += 1
        if not head.count:
            continue
        if head.count > report.last_id:
            _problem(
                report,
                "head",
                f"{head.describe()} counts {head.count} entries, but the log ends at entry "
                f"{report.last_id}: entries were removed from the end.",
            )
        elif at_count.get(head.count) != head.hash:
            _problem(
                report,
                "head",
                f"{head.describe()} no longer matches: entry {head.count} now ends the chain in "
                f"{at_count.get(head.count, 'nothing')[:16]}…, so the log was rewritten after "
                "that head was published.",
                head.count,
            )
    for expected in missing_hashes:
        _problem(
            report,
            "head",
            f"the expected head {expected} is not in the chain (which ends at {report.head}): "
            "entries were removed from the end, or the log was rewritten.",
        )


def _check_signature(head: SavedHead, keys: dict, report: ChainReport) -> None:
    if not head.signature:
        return
    key = keys.get(head.key_fingerprint) if head.key_fingerprint else None
    candidates = [key] if key is not None else list(keys.values())
    if head.count and head.created_at:
        message = signing.head_text(head.count, head.hash, head.created_at)
        if any(signing.signature_holds(k, message, head.signature) for k in candidates):
            return
    named = f"key {head.key_fingerprint[:16]}…" if head.key_fingerprint else "no key named"
    _problem(
        report,
        "signature",
        f"{head.describe()} has no valid signature ({named}): it was altered, or it was not "
        "signed with this instance's key or a key given.",
    )


def _problem(report: ChainReport, kind: str, message: str, entry_id: int | None = None) -> None:
    if len(report.problems) < MAX_PROBLEMS:
        report.problems.append(Problem(kind, message, entry_id))


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


# --------------------------------------------------------------------------- reading the log


def search_events(
    *,
    community_id: int | None = None,
    actor: str = "",
    object_type: str = "",
    public_only: bool = False,
):
    """A query over the log, newest first, narrowed by the given filters."""
    query = db.select(AuditEvent).order_by(AuditEvent.id.desc())
    if community_id is not None:
        query = query.filter(AuditEvent.community_id == community_id)
    if actor:
        query = query.filter(AuditEvent.actor_label == actor)
    if object_type:
        query = query.filter(AuditEvent.object_type == object_type)
    if public_only:
        query = query.filter(AuditEvent.public.is_(True))
    return query


@dataclass
class LogPage:
    events: list
    page: int
    pages: int
    total: int


def page_of(query, page: int, per_page: int) -> LogPage:
    """One page of ``query`` (page 1 is the newest); NotFound past the last page.

    An empty log still has its page 1 (saying there is nothing yet).
    """
    total = db.session.scalar(db.select(db.func.count()).select_from(query.subquery()))
    pages = max(1, -(-total // per_page))
    if not 1 <= page <= pages:
        raise NotFound(_l("This page of the log does not exist."), code="page")
    events = list(db.session.scalars(query.limit(per_page).offset((page - 1) * per_page)))
    return LogPage(events, page, pages, total)
