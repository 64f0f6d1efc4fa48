"""Where checked files are kept: ``instance/uploads/`` with random names, outside the web root."""

import secrets
from pathlib import Path

from ..extensions import db
from .checks import clean_file
from .models import Upload


def upload_folder(instance_path: str) -> Path:
    """The folder of stored files (created on first use)."""
    folder = Path(instance_path) / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def store_upload(
    data: bytes, original_name: str, *, instance_path: str, uploaded_by_id: int | None = None
) -> Upload:
    """Check, clean and store one file; returns the (flushed, uncommitted) Upload row."""
    cleaned = clean_file(data)
    folder = upload_folder(instance_path)
    stem = secrets.token_hex(16)
    thumbnail_name = None
    if cleaned.thumbnail is not None:
        thumbnail_name = f"{stem}-thumb.jpg"
        (folder / thumbnail_name).write_bytes(cleaned.thumbnail)
    stored_name = f"{stem}.{cleaned.extension}"
    (folder / stored_name).write_bytes(cleaned.data)
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
