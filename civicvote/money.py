"""Parsing money and quantities typed by people: Decimal only, never floats."""

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from .errors import DomainError

# ¥100,000,000: no community project comes near it; anything above is a typing mistake.
MAX_FEN = 100_000_000 * 100
MAX_QUANTITY = Decimal("1000000")


def _decimal(text: str) -> Decimal | None:
    cleaned = (text or "").strip().replace(",", "").replace("，", "").replace("¥", "")
    cleaned = cleaned.replace("￥", "").strip()
    # Plain digits only: no exponents ("1e5"), no "NaN", no "Infinity".
    if not cleaned or len(cleaned) > 20 or any(ch not in "0123456789.-" for ch in cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite():
        return None
    return value


def parse_yuan(text: str, *, allow_zero: bool = False) -> int:
    """Parse an amount in yuan (``1234.5``, ``¥1,234.50``) into integer fen.

    Refuses non-numbers, negatives, zero (unless ``allow_zero``), more than two decimals and
    amounts above ¥100,000,000.
    """
    value = _decimal(text)
    if value is None:
        raise DomainError(_l("Enter an amount in yuan, such as 1200 or 35.50."), code="money")
    if value < 0 or (value == 0 and not allow_zero):
        raise DomainError(_l("The amount must be more than zero."), code="money")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_l("Amounts have at most two decimals (fen)."), code="money")
    fen = int(value * 100)
    if fen > MAX_FEN:
        raise DomainError(_l("The amount cannot exceed ¥100,000,000."), code="money")
    return fen


def parse_quantity(text: str) -> Decimal:
    """Parse a positive quantity with at most two decimals, at most 1,000,000."""
    value = _decimal(text)
    if value is None:
        raise DomainError(_l("Enter a number, such as 3 or 2.5."), code="quantity")
    if value <= 0:
        raise DomainError(_l("The quantity must be more than zero."), code="quantity")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_l("Quantities have at most two decimals."), code="quantity")
    if value > MAX_QUANTITY:
        raise DomainError(_l("The quantity cannot exceed 1,000,000."), code="quantity")
    return value.quantize(Decimal("0.01"))


def line_total(quantity: Decimal, unit_cost_fen: int) -> int:
    """Quantity times unit cost, rounded half up to whole fen."""
    return int((quantity * unit_cost_fen).quantize(Decimal("1"), rounding=ROUND_HALF_UP))


def fen_to_yuan_text(fen: int | None) -> str:
    """Fen as a plain yuan string for form fields (``1234.50``)."""
    if fen is None:
        return ""
    return f"{Decimal(fen) / 100:.2f}"
