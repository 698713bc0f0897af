"""Money and quantities as integers.

Every sum in this package is an ``int`` number of kopecks; quantities are an
``int`` number of thousandths (the KKT protocols carry quantity with three
decimals).  Floats never enter: the conversion helpers accept ``int``,
``Decimal`` or decimal strings and refuse anything that is not exact.
"""
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

QTY_SCALE = 1000


class MoneyError(ValueError):
    """A value cannot be represented exactly as kopecks / thousandths."""


def _to_decimal(value, what):
    if isinstance(value, bool):
        raise MoneyError(f"{what}: a boolean is not a number")
    if isinstance(value, float):
        # repr() of a float is the shortest exact round-trip text, so 12.3 stays 12.3
        value = repr(value)
    try:
        return Decimal(str(value).strip().replace(",", "."))
    except InvalidOperation:
        raise MoneyError(f"{what}: {value!r} is not a number") from None


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
