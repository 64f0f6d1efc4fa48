"""Parsing money and quantities typed by people: Decimal only, never floats.

Amounts are typed the way people say them: ``1200``, ``35.50``, ``¥100,000``, ``100000元``,
``10万``, ``1.5万``, ``10 万``, full-width ``１０万``. ``parse_yuan`` is the one parser every
money field uses (the form field is ``forms.YuanField``).
"""

import unicodedata
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from flask_babel import lazy_gettext as _l

from .errors import DomainError
from .i18n import money as format_money

# ¥100,000,000: no community project comes near it; anything above is a typing mistake.
MAX_FEN = 100_000_000 * 100
MAX_QUANTITY = Decimal("1000000")
# Units people write after a number: 万 (ten thousand) and 亿 (a hundred million).
UNITS = {"万": Decimal(10_000), "亿": Decimal(100_000_000)}
# Signs and words around an amount that say "yuan" and nothing more. NFKC has already turned
# the full-width ￥ into ¥; "CN¥" is what Babel's English writes.
_YUAN_MARKS = ("CN¥", "RMB", "人民币", "¥", "元")


def _normalized(text: str) -> str:
    """Full-width digits and signs as ASCII (NFKC), without spaces or group separators."""
    cleaned = unicodedata.normalize("NFKC", text or "")
    cleaned = "".join(ch for ch in cleaned if not ch.isspace())
    for mark in _YUAN_MARKS:
        cleaned = cleaned.replace(mark, "")
    return cleaned.replace(",", "").replace("、", "")


def _decimal(text: str) -> Decimal | None:
    cleaned = _normalized(text)
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


def _yuan(text: str) -> Decimal | None:
    """The amount in yuan, with a trailing 万 or 亿 multiplied out; None when not a number."""
    cleaned = _normalized(text)
    unit = UNITS.get(cleaned[-1:]) if cleaned else None
    if unit is None:
        return _decimal(cleaned)
    value = _decimal(cleaned[:-1])
    return value * unit if value is not None else None


def parse_yuan(
    text: str, *, allow_zero: bool = False, minimum_fen: int = 1, maximum_fen: int = MAX_FEN
) -> int:
    """Parse an amount in yuan (``1234.5``, ``¥1,234.50``, ``10万``, ``１．５万``) into fen.

    Refuses non-numbers, negatives, zero (unless ``allow_zero``), amounts below
    ``minimum_fen``, fractions of a fen and amounts above ``maximum_fen`` (¥100,000,000 at most).
    """
    value = _yuan(text)
    if value is None:
        raise DomainError(_l("Enter an amount in yuan, such as 1200, 35.50 or 10万."), code="money")
    if value < 0 or (value == 0 and not allow_zero):
        raise DomainError(_l("The amount must be more than zero."), code="money")
    if value != value.quantize(Decimal("0.01")):
        raise DomainError(_l("Amounts have at most two decimals (fen)."), code="money")
    fen = int(value * 100)
    maximum = min(maximum_fen, MAX_FEN)
    if fen > maximum:
        raise DomainError(
            _l("The amount cannot exceed %(amount)s.", amount=_format(maximum)), code="money"
        )
    if fen and fen < minimum_fen:
        raise DomainError(
            _l("The amount must be at least %(amount)s.", amount=_format(minimum_fen)),
            code="money",
        )
    return fen


def _format(fen: int) -> str:
    return format_money(fen)


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
