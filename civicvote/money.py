"""Parsing money and quantities typed by people: Decimal only, never floats.

Amounts are typed the way people say them: ``1200``, ``35.50``, ``¥100,000``, ``100000元``,
``10万``, ``1.5万``, ``10 万``, full-width ``１０万``, and in Chinese numerals: ``二十万``,
``一百二十万元``, ``一点五万``, and the financial capitals of invoices, ``贰拾万元整``.
``parse_yuan`` is the one parser every money field uses (the form field is ``forms.YuanField``).
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


# Chinese numerals, everyday and financial (大写). 两 is "two" before a unit.
_CN_DIGITS = {
    **dict.fromkeys("零〇", 0),
    **dict.fromkeys("一壹", 1),
    **dict.fromkeys("二贰两", 2),
    **dict.fromkeys("三叁", 3),
    **dict.fromkeys("四肆", 4),
    **dict.fromkeys("五伍", 5),
    **dict.fromkeys("六陆", 6),
    **dict.fromkeys("七柒", 7),
    **dict.fromkeys("八捌", 8),
    **dict.fromkeys("九玖", 9),
}
_CN_SMALL = {
    **dict.fromkeys("十拾", 10),
    **dict.fromkeys("百佰", 100),
    **dict.fromkeys("千仟", 1000),
}
_CN_LARGE = {**dict.fromkeys("万萬", 10_000), **dict.fromkeys("亿億", 100_000_000)}


def _chinese_whole(text: str) -> int | None:
    """A whole number in Chinese numerals (一百二十万, 贰拾万, 一亿零五百万); None otherwise.

    Refuses the spoken shorthand where a digit ends a number straight after 百, 千, 万 or 亿
    (一万二 for 12,000, 三千五 for 3,500): read literally it is another amount, so people are
    asked to type it out.
    """
    total = section = 0
    digit: int | None = None
    loose = False  # the pending digit came straight after a unit above ten
    unit: int | None = None  # the last unit read; None at the start and after 零
    small = large = None  # the last 十/百/千 in this section, the last 万/亿: each must fall
    for ch in text:
        if ch in "零〇":
            if digit is not None:
                return None
            unit = None
        elif ch in _CN_DIGITS:
            if digit is not None:
                return None  # two digits in a row (一二) are not a number
            digit, loose = _CN_DIGITS[ch], unit is not None and unit > 10
        elif ch in _CN_SMALL:
            if small is not None and _CN_SMALL[ch] >= small:
                return None  # 十十, 百千
            section += (1 if digit is None else digit) * _CN_SMALL[ch]
            digit, loose, unit = None, False, _CN_SMALL[ch]
            small = unit
        elif ch in _CN_LARGE:
            section += digit or 0
            if loose or not section or (large is not None and _CN_LARGE[ch] >= large):
                return None  # 一千二万 (1,002 or 1,200 万?), 万 alone, 一万二万
            if _CN_LARGE[ch] == 100_000_000:
                total, section = (total + section) * 100_000_000, 0
            else:
                total, section = total + section * 10_000, 0
            digit, loose, unit = None, False, _CN_LARGE[ch]
            small, large = None, unit
        else:
            return None
    if loose:
        return None
    return total + section + (digit or 0)


def _chinese(text: str) -> Decimal | None:
    """An amount in Chinese numerals, with 点 for the decimal point (一点五万); None if not."""
    if not text or not any(ch in _CN_DIGITS or ch in _CN_SMALL for ch in text):
        return None
    text = text.removesuffix("整")  # 元整, "and no fen", on invoices
    unit = 1
    if "点" in text and text[-1:] in _CN_LARGE:
        unit, text = _CN_LARGE[text[-1]], text[:-1]
    whole, _, fraction = text.partition("点")
    number = _chinese_whole(whole) if whole else None
    if number is None or any(ch not in _CN_DIGITS for ch in fraction):
        return None
    if "点" in text and not fraction:
        return None
    decimals = "".join(str(_CN_DIGITS[ch]) for ch in fraction)
    return Decimal(f"{number}.{decimals or 0}") * unit


def _yuan(text: str) -> Decimal | None:
    """The amount in yuan, with a trailing 万 or 亿 multiplied out; None when not a number."""
    cleaned = _normalized(text)
    spelled = _chinese(cleaned)
    if spelled is not None:
        return spelled
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
