"""Cylinder transposition: exact, involutive, axis kept in 1..180."""

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opticslib import transpose as tp

quarters = st.integers(min_value=-120, max_value=120).map(lambda n: Decimal(n) * Decimal("0.25"))
cyls = st.integers(min_value=-40, max_value=40).filter(bool).map(lambda n: Decimal(n) * Decimal("0.25"))
axes = st.integers(min_value=1, max_value=180)


def test_anchor_example():
    # sph -2.0 cyl -1.0 ax 20 is ordered as sph -3.0 cyl +1.0 ax 110
    assert tp.transpose("-2.00", "-1.00", 20) == (Decimal("-3.00"), Decimal("1.00"), 110)


@pytest.mark.parametrize("axis,expected", [(1, 91), (90, 180), (91, 1), (179, 89), (180, 90), (0, 90)])
def test_axis_rotation_stays_in_range(axis, expected):
    assert tp.rotate_axis(axis) == expected


def test_axis_above_90_is_minus_90_not_180_minus_axis():
    # the wrong public rule would give 180 - 135 = 45
    assert tp.transpose("+1.00", "+0.50", 135)[2] == 45


def test_zero_cylinder_has_no_axis():
    assert tp.transpose("-1.50", "0", None) == (Decimal("-1.50"), Decimal("0"), None)
    assert tp.to_convention("-1.50", "0.00", 90) == (Decimal("-1.50"), Decimal("0"), None)


def test_cylinder_without_axis_is_an_error():
    with pytest.raises(ValueError):
        tp.transpose("-1", "-1", None)


def test_floats_are_converted_without_binary_noise():
    assert tp.transpose(-2.25, 0.75, 45) == (Decimal("-1.50"), Decimal("-0.75"), 135)


@given(quarters, cyls, axes)
def test_round_trip(sph, cyl, axis):
    once = tp.transpose(sph, cyl, axis)
    assert tp.transpose(*once) == (sph, cyl, axis)
    assert 1 <= once[2] <= 180
    assert once[1] == -cyl and once[0] == sph + cyl


@given(quarters, cyls, axes)
def test_conventions_agree_on_meridians(sph, cyl, axis):
    m = tp.to_convention(sph, cyl, axis, tp.MINUS)
    p = tp.to_convention(sph, cyl, axis, tp.PLUS)
    assert m[1] < 0 < p[1]
    assert sorted(tp.principal_meridians(m[0], m[1])) == sorted(tp.principal_meridians(p[0], p[1]))
    assert tp.to_convention(*m, tp.PLUS) == p and tp.to_convention(*p, tp.MINUS) == m
    # the minus form has the more plus sphere
    assert m[0] == max(tp.principal_meridians(sph, cyl))


def test_unknown_convention():
    with pytest.raises(ValueError):
        tp.to_convention("1", "1", 1, "sideways")
