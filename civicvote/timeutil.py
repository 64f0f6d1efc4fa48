"""Time helpers. Timestamps are stored as naive UTC so SQLite and PostgreSQL agree."""

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (the storage convention)."""
    return datetime.now(UTC).replace(tzinfo=None)
