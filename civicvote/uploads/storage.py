"""Where checked files are kept: ``instance/uploads/`` with random names, outside the web root.

A file is written before its row is committed; until the commit it is the session's pending
file, and a transaction that ends without committing (a refused request rolls back) deletes
it: nothing of a refused request stays on disk.
"""

import secrets
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.orm import Session

from ..extensions import db
from .checks import DOCUMENT, clean_file
from .models import Upload

PENDING = "civicvote.pending_upload_files"  # key in Session.info: paths written, not committed


@event.listens_for(Session, "after_commit")
def _keep_committed_files(session) -> None:
    session.info.pop(PENDING, None)


@event.listens_for(Session, "after_transaction_end")
def _delete_uncommitted_files(session, transaction) -> None:
    # After a commit the list is already gone; this is a rollback or a close without one.
    if transaction.parent is None:
        for path in session.info.pop(PENDING, ()):
            path.unlink(missing_ok=True)


def _write(path: Path, data: bytes) -> None:
    db.session.info.setdefault(PENDING, []).append(path)
    path.write_bytes(data)


def upload_folder(instance_path: str) -> Path:
    """The folder of stored files (created on first use)."""
    folder = Path(instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(
    data: bytes,
    original_name: str,
    *,
    instance_path: str,
    uploaded_by_id: int | None = None,
    accept: frozenset = DOCUMENT,
) -> Upload:
    """Check, clean and store one file as one of the kinds ``accept`` names (checks.PHOTO or
    checks.DOCUMENT); returns the (flushed, uncommitted) Upload row. Its files are deleted
    again if the transaction ends without a commit."""
    cleaned = clean_file(data, accept)
    folder = upload_folder(instance_path)
    stem = secrets.token_hex(16)
    thumbnail_name = None
    if cleaned.thumbnail is not None:
        thumbnail_name = f"{stem}-thumb.jpg"
        _write(folder / thumbnail_name, cleaned.thumbnail)
    stored_name = f"{stem}.{cleaned.extension}"
    _write(folder / stored_name, cleaned.data)
    upload = Upload(
        stored_name=stored_name,
        thumbnail_name=thumbnail_name,
        content_type=cleaned.content_type,
        size=len(cleaned.data),
        original_name=(original_name or "")[:200],
        uploaded_by_id=uploaded_by_id,
    )
    db.session.add(upload)
    db.session.flush()
    return upload


def find_upload(name: str) -> Upload | None:
    """The stored file whose file name (or thumbnail's) is ``name``."""
    return db.session.scalar(
        db.select(Upload).filter((Upload.stored_name == name) | (Upload.thumbnail_name == name))
    )
