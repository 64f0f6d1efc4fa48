"""The sealed ballot box: what keeps a ballot's contents apart from its voter (docs/secrecy.md).

While a ballot is open, each vote's contents and receipt are written to ``ballot_box`` sealed
with AES-GCM under a key derived (HKDF) from the instance's ``SECRET_KEY`` and the ballot's id:
a random nonce, no voter key, no time. The database, its WAL, its backups and its dumps never
hold that key, so a copy of them taken while the ballot is open shows who voted and, for each
vote, a sealed box entry written in the same transaction, but not what it says.

The close (:func:`seal_ballot_box`, in the close's transaction) opens every entry, shuffles them
with the operating system's random source, writes them to ``cast_ballots`` in one statement with
ids drawn now (so the rows' order, transaction id and ids carry nothing from the voting), and
deletes the entries and the ballot's vote replays. After the commit, :func:`scrub` rewrites the
tables so that no dead row version or free page keeps what was deleted: ``VACUUM FULL`` on
PostgreSQL; on SQLite (``secure_delete`` on every connection) ``VACUUM`` and a truncating WAL
checkpoint.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
import time
from functools import lru_cache

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, insert, select, text

from ..allocation.buildings import coarsen
from ..audit.services import record
from ..ballots.models import BallotBoxEntry, CastBallot, VoteReplay
from ..errors import Conflict, NotFound
from ..extensions import db

log = logging.getLogger(__name__)

NONCE_BYTES = 12
SCRUB_WAIT_SECONDS = 60
# Rewritten after a close: those that held sealed contents, retries' receipts, cast ballots,
# who voted, and the paper entries whose choices were blanked.
SCRUBBED_TABLES = (
    "ballot_box",
    "vote_replays",
    "cast_ballots",
    "participations",
    "paper_ballot_entries",
)


def server_secret() -> bytes:
    """The instance's SECRET_KEY as bytes: the root of every key here, never stored in the DB."""
    secret = current_app.config["SECRET_KEY"]
    return secret if isinstance(secret, bytes) else str(secret).encode()


@lru_cache(maxsize=256)
def derive(root: bytes, info: bytes, salt: bytes | None = None) -> bytes:
    """A 256-bit key for one purpose (``info``) from ``root`` (HKDF-SHA256)."""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=salt, info=info).derive(root)


def _box_cipher(ballot_id: int) -> AESGCM:
    return _cipher(derive(server_secret(), b"civicvote ballot box %d" % ballot_id))


@lru_cache(maxsize=256)
def _cipher(key: bytes) -> AESGCM:
    return AESGCM(key)


def seal_contents(
    ballot_id: int, contents: dict, receipt: str, building: str | None = None
) -> bytes:
    """Nonce + AES-GCM of the contents, receipt and voter's building (if any), bound to the
    ballot. The building is coarsened at the close (allocation/buildings.py)."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    entry = {"c": contents, "r": receipt}
    if building:
        entry["b"] = building
    data = json.dumps(entry, separators=(",", ":")).encode()
    aad = b"ballot %d" % ballot_id
    return nonce + _box_cipher(ballot_id).encrypt(nonce, data, aad)


def _open_entry(ballot_id: int, sealed: bytes) -> dict:
    sealed = bytes(sealed)
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    return json.loads(_box_cipher(ballot_id).decrypt(nonce, body, b"ballot %d" % ballot_id))


def open_contents(ballot_id: int, sealed: bytes) -> tuple[dict, str]:
    """The (contents, receipt) sealed by :func:`seal_contents`."""
    data = _open_entry(ballot_id, sealed)
    return data["c"], data["r"]


def receipt_tag(receipt: str, root: bytes | None = None) -> str:
    """Keyed hash of a receipt code: finds an open ballot's entry for "counted" lookups.
    ``root``: the secret key as bytes (default: the app's)."""
    key = derive(root or server_secret(), b"civicvote receipt lookup")
    return hmac.new(key, receipt.encode(), hashlib.sha256).hexdigest()


# --------------------------------------------------------------------------- the close


def seal_ballot_box(ballot) -> None:
    """At the close, in its transaction: move the ballot's contents to ``cast_ballots``.

    The sealed entries (and any cast ballots written before this design, by an older version)
    are opened, their buildings coarsened into groups of at least the round's
    ``building_min_ballots`` (or dropped), shuffled, given ids drawn now and inserted in the
    order of those ids by one statement; the entries, the old rows and the ballot's vote
    replays are deleted."""
    opened = [
        (data["c"], data["r"], data.get("b"))
        for data in (
            _open_entry(ballot.id, sealed)
            for sealed in db.session.scalars(
                select(BallotBoxEntry.sealed).filter_by(ballot_id=ballot.id)
            )
        )
    ]
    opened += db.session.execute(
        select(CastBallot.contents, CastBallot.receipt_code, CastBallot.neighbourhood).filter_by(
            ballot_id=ballot.id
        )
    ).all()
    # Buildings become groups of at least the round's minimum, or none (allocation/buildings.py).
    groups = coarsen([b for _, _, b in opened], ballot.round.building_min_ballots)
    opened = [(c, r, g) for (c, r, _), g in zip(opened, groups, strict=True)]
    secrets.SystemRandom().shuffle(opened)
    rows = sorted(
        (
            {
                "id": secrets.token_hex(16),
                "ballot_id": ballot.id,
                "contents": c,
                "receipt_code": r,
                "neighbourhood": g,
            }
            for c, r, g in opened
        ),
        key=lambda row: row["id"],
    )
    for model in (CastBallot, BallotBoxEntry, VoteReplay):
        db.session.execute(delete(model).filter_by(ballot_id=ballot.id))
    if rows:
        db.session.execute(insert(CastBallot), rows)


def scrub(engine, close_xid: int | None = None) -> bool:
    """After the close's commit, outside any transaction: leave no trace of deleted rows.

    PostgreSQL: ``VACUUM FULL`` rewrites the tables into new files (no dead row versions, new
    physical order). It can drop a deleted row version only once no transaction that might
    still see it runs, so it first waits (up to SCRUB_WAIT_SECONDS) until every transaction
    older than the close (``close_xid``) has ended, on any database of the server. SQLite:
    ``VACUUM`` rebuilds the file (secure_delete zeroes what it frees), then a truncating
    checkpoint empties the -wal. Returns whether it completed; a failure (a lock held too long)
    is logged and the close stands; docs/secrecy.md says what to run."""
    try:
        with engine.connect() as connection:
            connection = connection.execution_options(isolation_level="AUTOCOMMIT")
            if engine.dialect.name == "postgresql":
                return _vacuum_postgresql(connection, close_xid)
            return _vacuum_sqlite(connection)
    except Exception:  # the ballot is closed whatever happens here; the scrub can run again
        log.exception("Scrubbing the ballot tables after a close failed")
        return False


def _vacuum_postgresql(connection, close_xid: int | None) -> bool:
    waited = _wait_for_older_transactions(connection, close_xid)
    present = [
        name
        for name in SCRUBBED_TABLES
        if connection.exec_driver_sql(f"SELECT to_regclass('{name}')").scalar() is not None
    ]
    # Votes of other ballots wait behind VACUUM FULL's lock; do not let them wait for long.
    connection.exec_driver_sql("SET lock_timeout = '20s'")
    connection.exec_driver_sql("VACUUM FULL " + ", ".join(present))
    connection.exec_driver_sql("RESET lock_timeout")
    return waited


def _wait_for_older_transactions(connection, close_xid: int | None) -> bool:
    """Wait until the oldest transaction still running began after the close's."""
    if close_xid is None:
        return True
    deadline = time.monotonic() + SCRUB_WAIT_SECONDS
    while time.monotonic() < deadline:
        oldest = connection.exec_driver_sql(
            "SELECT txid_snapshot_xmin(txid_current_snapshot())"
        ).scalar()
        if oldest > close_xid:
            return True
        time.sleep(0.1)
    log.warning(
        "A transaction older than a ballot's close kept running: VACUUM FULL may have kept "
        "deleted row versions; run VACUUM FULL %s again",
        ", ".join(SCRUBBED_TABLES),
    )
    return False


CHECKPOINT_WAIT_MS = 100  # per truncating checkpoint while a reader holds the -wal


def _vacuum_sqlite(connection) -> bool:
    connection.exec_driver_sql("PRAGMA secure_delete=ON")
    connection.exec_driver_sql("VACUUM")
    # Each checkpoint would otherwise wait the connection's whole busy timeout (15 s) for a
    # reader, and 50 attempts would hold the close for minutes instead of about 10 s.
    waited = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
    connection.exec_driver_sql(f"PRAGMA busy_timeout = {CHECKPOINT_WAIT_MS}")
    try:
        for _attempt in range(50):
            checkpoint = connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").one()
            if not checkpoint[0]:
                return True
            time.sleep(0.1)  # a reader still holds an older snapshot
    finally:
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(waited)}")
    log.warning("The -wal could not be truncated after a close: readers kept it busy")
    return False


def close_step(ballot):
    """A close step (stage "seal", ballots/lifecycle.py): seal the box in the close's
    transaction; returns the scrub, to run after its commit."""
    seal_ballot_box(ballot)
    engine = db.engine
    close_xid = None
    if engine.dialect.name == "postgresql":
        close_xid = db.session.execute(text("SELECT txid_current()")).scalar()
    return lambda: scrub(engine, close_xid)


def complete_close(ballot_id: int) -> tuple[int, bool]:
    """Run a closed ballot's close steps for the votes again: ``civicvote ballots reseal ID``.

    For a close that did not finish: a scrub that failed or never ran (the server stopped after
    the close's commit), or entries left in the ballot box by a close that did not seal them.
    Under the ballot's exclusive lock it seals what the box still holds together with the cast
    ballots (shuffled, given new ids, written by this one transaction, as the close does),
    commits, then scrubs. Running it again changes no count. Returns (entries that were still
    sealed, whether the scrub completed)."""
    from ..ballots.lifecycle import lock_ballot

    ballot = lock_ballot(ballot_id, exclusive=True)
    if ballot is None:
        db.session.rollback()
        raise NotFound(_l("No such ballot."), code="not_found")
    if ballot.status != "closed":
        db.session.rollback()
        raise Conflict(_l("Only a closed ballot can be sealed again."), code="not_closed")
    left = db.session.scalar(
        select(func.count()).select_from(BallotBoxEntry).filter_by(ballot_id=ballot_id)
    )
    community_id = ballot.round.community_id
    scrub_after_commit = close_step(ballot)
    db.session.commit()
    scrubbed = scrub_after_commit()
    # In public, like the close it finishes: the system (the command line) sealed what the box
    # still held and whether the scrub finished. After the scrub, which runs outside any
    # transaction, so that the entry can say how it went.
    record(
        "ballot.reseal",
        "ballot",
        ballot_id,
        actor=None,
        community_id=community_id,
        after={"sealed": left, "scrubbed": scrubbed},
        public=True,
    )
    db.session.commit()
    return left, scrubbed
