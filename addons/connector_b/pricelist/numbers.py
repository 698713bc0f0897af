"""Numbers as suppliers write them: "1 234,50", "1.234,50", "13,75", "20%", "12 р."."""

import re
from decimal import Decimal, InvalidOperation

# Spaces used as thousands separators: plain, NBSP, narrow NBSP, thin space, figure space.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")
_UNIT_SUFFIX = re.compile(r"(?i)\s*(руб\.?|р\.?|₽|rub|eur|€|usd|\$|шт\.?|дн\.?|дней|дня|день|days?|d)$")
_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


class NotANumber(ValueError):
    pass


def parse_number(value, decimal_separator="auto"):
    """Return ``(Decimal, was_text)``; raise :class:`NotANumber` when it is not a number.

    Never guesses silently between 13,75 and 1375: with ``","`` a dot is a thousands
    separator only in groups of exactly three digits, otherwise the value is rejected.
    """
    if isinstance(value, bool):
        raise NotANumber(value)
    if isinstance(value, int):
        return Decimal(value), False
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise NotANumber(value)
        # repr() gives the shortest round-tripping text: 13.75 stays 13.75
        return Decimal(repr(value)), False
    if isinstance(value, Decimal):
        return value, False
    text = _SPACES.sub("", str(value)).replace("\u2212", "-")
    text = _UNIT_SUFFIX.sub("", text)
    if not text:
        raise NotANumber(value)
    text = _normalise_separators(text, decimal_separator, value)
    if not _NUMBER.match(text):
        raise NotANumber(value)
    try:
        return Decimal(text), True
    except InvalidOperation:
        raise NotANumber(value) from None


def _normalise_separators(text, decimal_separator, original):
    has_comma, has_dot = "," in text, "." in text
    if decimal_separator == "auto":
        if has_comma and has_dot:
            decimal_separator = "," if text.rfind(",") > text.rfind(".") else "."
        elif has_comma:
            decimal_separator = "," if text.count(",") == 1 else "."
        else:
            decimal_separator = "."
    thousands = "." if decimal_separator == "," else ","
    if thousands in text:
        int_part = text.split(decimal_separator)[0].lstrip("+-")
        groups = int_part.split(thousands)
        if not groups[0] or len(groups[0]) > 3 or any(len(g) != 3 for g in groups[1:]):
            raise NotANumber(original)
        text = text.replace(thousands, "")
    if text.count(decimal_separator) > 1:
        raise NotANumber(original)
    return text.replace(decimal_separator, ".")


def parse_range(value, decimal_separator="auto"):
    """ "-8.00..+6.00", "-8 / +6", "от -8 до +6", "-8,00 ... 6,00" -> (Decimal, Decimal)."""
    text = str(value).strip().lower().replace("\u2212", "-").replace("\u2013", "..").replace("\u2014", "..")
    text = re.sub(r"^от\s*", "", text)
    parts = re.split(r"\s*(?:\.\.\.?|\bдо\b|/|;|\bto\b|(?<=\d)\s*-\s*(?=[+-]?\d))\s*", text)
    parts = [p for p in parts if p]
    if len(parts) != 2:
        raise NotANumber(value)
    low, _ = parse_number(parts[0], decimal_separator)
    high, _ = parse_number(parts[1], decimal_separator)
    return low, high
