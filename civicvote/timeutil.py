"""Time helpers. Timestamps are stored as naive UTC so SQLite and PostgreSQL agree."""

from datetime import UTC, datetime

# The one time format of the API and the exports: ISO 8601 in UTC, to the second, with a Z.
ISO_UTC_EXAMPLE = "2026-05-01T09:00:00Z"
ISO_UTC_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$"


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (the storage convention)."""
    return datetime.now(UTC).replace(tzinfo=None)


def iso_utc(value: datetime | None) -> str | None:
    """A time as ISO 8601 in UTC with a Z (``2026-05-01T09:00:00Z``); None stays None.

    Naive datetimes are UTC (the storage convention); aware ones are converted.
    """
    if value is None:
        return None
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value.isoformat(timespec="seconds") + "Z"
