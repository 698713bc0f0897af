"""Cylinder transposition and principal meridians, exact in Decimal.

Plus <-> minus cylinder: new SPH = SPH + CYL, new CYL = -CYL, AXIS + 90 when
AXIS <= 90 else AXIS - 90 (never ``180 - axis``: that public-calculator rule is
wrong).  Axis 0 is the same meridian as 180 and is returned as 180.
"""

from decimal import Decimal, InvalidOperation

MINUS = "minus"
PLUS = "plus"
CONVENTIONS = (MINUS, PLUS)


def to_decimal(value):
    """Decimal from int/str/Decimal/float without binary noise; None stays None.

    Floats go through ``repr`` (shortest round-trip form), so -2.25 becomes
    Decimal('-2.25') and not the 50-digit binary expansion.
    """
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise TypeError("a boolean is not a dioptre value")
    if isinstance(value, float):
        value = repr(value)
    if isinstance(value, str):
        value = value.strip().replace(",", ".").replace("\u2212", "-")
    try:
        return Decimal(value)
    except (InvalidOperation, ValueError, TypeError) as exc:
        raise ValueError(f"not a number: {value!r}") from exc


def normalise_axis(axis):
    """Axis as an int in 1..180 (0 and 180 are the same meridian)."""
    if axis is None:
        return None
    axis = int(axis)
    if not 0 <= axis <= 180:
        raise ValueError(f"axis {axis} outside 0..180")
    return 180 if axis == 0 else axis


def rotate_axis(axis):
    """The perpendicular meridian, kept in 1..180."""
    axis = normalise_axis(axis)
    return axis + 90 if axis <= 90 else axis - 90


def transpose(sph, cyl, axis):
    """Switch cylinder notation; returns (sph, cyl, axis) with Decimal powers.

    A zero (or missing) cylinder has no axis: the sphere comes back unchanged
    with cylinder 0 and axis None.
    """
    sph = to_decimal(sph) if sph is not None else Decimal("0")
    cyl = to_decimal(cyl) if cyl is not None else Decimal("0")
    if cyl == 0:
        return sph, Decimal("0"), None
    if axis is None:
        raise ValueError("a cylinder needs an axis to be transposed")
    return sph + cyl, -cyl, rotate_axis(axis)


def notation_of(cyl):
    """'minus', 'plus' or None (no cylinder)."""
    cyl = to_decimal(cyl)
    if cyl is None or cyl == 0:
        return None
    return MINUS if cyl < 0 else PLUS


def to_convention(sph, cyl, axis, convention=MINUS):
    """The prescription in the requested cylinder convention (Decimal powers)."""
    if convention not in CONVENTIONS:
        raise ValueError(f"unknown cylinder convention {convention!r}")
    written = notation_of(cyl)
    if written is None or written == convention:
        sph = to_decimal(sph) if sph is not None else Decimal("0")
        cyl = to_decimal(cyl) if cyl is not None else Decimal("0")
        if cyl == 0:
            return sph, Decimal("0"), None
        return sph, cyl, normalise_axis(axis)
    return transpose(sph, cyl, axis)


def principal_meridians(sph, cyl):
    """(M1, M2) = (SPH, SPH + CYL); identical in both notations up to order."""
    sph = to_decimal(sph) if sph is not None else Decimal("0")
    cyl = to_decimal(cyl) if cyl is not None else Decimal("0")
    return sph, sph + cyl
