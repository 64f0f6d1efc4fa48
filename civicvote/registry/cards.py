"""Printable voter cards: an A4 sheet of cards, each with an SVG QR code of the personal link.

The QR codes come from :func:`civicvote.qr.qr_svg` (no image library, no inline styles, sized
by the stylesheet).
"""

from itertools import groupby

from .credentials import IssuedCard


def group_by_building(cards: list[IssuedCard]) -> list[tuple[str, list[IssuedCard]]]:
    """Cards in print batches: one group (and page run) per building, in the order given."""
    return [
        (building, list(group)) for building, group in groupby(cards, lambda c: c.voter.building)
    ]
