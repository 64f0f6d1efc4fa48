"""Geometry for the board's server-rendered SVG bar charts (the markup is a Jinja macro)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    display: str
    width: float  # fraction of the full bar length, 0..1
    marked: bool  # passed the ballot's threshold
    funded: bool = False  # funded by the published result: a separate mark


def bars(rows: list[tuple], *, scale_to: int | None = None) -> list[Bar]:
    """Scale ``(label, value, display, passed[, funded])`` rows against the largest value (or
    ``scale_to``).

    Bars keep the given order; a zero value still gets a hairline so the row reads as a bar.
    """
    top = max([scale_to or 0, *(row[1] for row in rows)], default=0)
    result = []
    for label, value, display, marked, *funded in rows:
        width = value / top if top else 0.0
        result.append(
            Bar(label, value, display, max(width, 0.004), marked, bool(funded and funded[0]))
        )
    return result
