"""Reading money typed by people: yuan with at most two decimals, into integer fen."""

from decimal import Decimal, InvalidOperation

MAX_FEN = 10_000_000_000  # ¥100,000,000: more than any community project


def parse_yuan(text: str) -> int | None:
    """``"1,234.5"`` → 123450 fen; None when it is not a plain amount with at most 2 decimals.

    Accepts a leading ¥ or ￥ and thousands separators; refuses exponents, NaN and infinity.
    """
    cleaned = (text or "").strip().lstrip("¥￥").replace(",", "").replace("，", "").strip()
    if not cleaned or len(cleaned) > 20 or any(ch not in "0123456789.-" for ch in cleaned):
        return None
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        return None
    if not value.is_finite() or value.as_tuple().exponent < -2:
        return None
    return int(value * 100)
