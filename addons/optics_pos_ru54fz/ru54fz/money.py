"""Money and quantities as integers.

Every sum in this package is an ``int`` number of kopecks; quantities are an
``int`` number of thousandths (the KKT protocols carry quantity with three
decimals).  Floats never enter: the conversion helpers accept ``int``,
``Decimal`` or decimal strings and refuse anything that is not exact.
"""

import math
import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

QTY_SCALE = 1000

#: The only text accepted as a number: plain decimal notation, at most 18 digits
#: before the point and 9 after.  Checked *before* any Decimal work: Decimal accepts
#: "1e999990" (whose conversion to an int burns seconds of CPU holding the GIL),
#: "Infinity", "NaN" and "sNaN" (which raise outside MoneyError).
MAX_TEXT = 40
_DECIMAL_TEXT = re.compile(r"[+-]?(?:[0-9]{1,18}(?:\.[0-9]{0,9})?|\.[0-9]{1,9})")
#: bound of integers given as int (JSON numbers): 10**18, far above any sum of the FFD
MAX_INT = 10**18


class MoneyError(ValueError):
    """A value cannot be represented exactly as kopecks / thousandths."""


def _to_decimal(value, what):
    if isinstance(value, bool):
        raise MoneyError(f"{what}: a boolean is not a number")
    if isinstance(value, int):
        if not -MAX_INT <= value <= MAX_INT:
            raise MoneyError(f"{what}: {value} is out of range")
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise MoneyError(f"{what}: {value!r} is not a number")
        # repr() of a float is the shortest exact round-trip text, so 12.3 stays 12.3;
        # a float's exponent is at most 308, so the Decimal work stays bounded
        try:
            return Decimal(repr(value))
        except InvalidOperation:
            raise MoneyError(f"{what}: {value!r} is not a number") from None
    if isinstance(value, Decimal):
        if not value.is_finite() or abs(value.adjusted()) > 18:
            raise MoneyError(f"{what}: {value} is not a number in range")
        return value
    if not isinstance(value, str):
        raise MoneyError(f"{what}: {type(value).__name__} is not a number")
    text = value.strip().replace(",", ".")
    if len(text) > MAX_TEXT or not _DECIMAL_TEXT.fullmatch(text):
        shown = value if len(value) <= MAX_TEXT else value[:MAX_TEXT] + "…"
        raise MoneyError(f"{what}: {shown!r} is not a decimal number such as 1234.50")
    return Decimal(text)


def to_kopecks(value, what="amount"):
    """Roubles (``Decimal``/str/int/float from JSON) to integer kopecks, exactly.

    >>> to_kopecks("123.45")
    12345
    >>> to_kopecks(10)
    1000
    """
    dec = _to_decimal(value, what) * 100
    if dec != dec.to_integral_value():
        raise MoneyError(f"{what}: {value!r} has more than two decimals")
    return int(dec)


def round_kopecks(value):
    """Round a Decimal number of roubles half-up to kopecks (for computed sums)."""
    return int((Decimal(value) * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def to_milli(value, what="quantity"):
    """Quantity to integer thousandths, exactly.

    >>> to_milli("1.5")
    1500
    """
    dec = _to_decimal(value, what) * QTY_SCALE
    if dec != dec.to_integral_value():
        raise MoneyError(f"{what}: {value!r} has more than three decimals")
    return int(dec)


def line_sum(price_kop, qty_milli):
    """Item sum (tag 1043) for a price in kopecks and a quantity in thousandths,
    rounded half-up to the kopeck as the KKT does."""
    num = price_kop * qty_milli
    q, r = divmod(num, QTY_SCALE)
    return q + (1 if r * 2 >= QTY_SCALE else 0)


def format_rub(kop):
    """12345 -> '123.45' (for receipts and messages)."""
    sign = "-" if kop < 0 else ""
    kop = abs(kop)
    return f"{sign}{kop // 100}.{kop % 100:02d}"
