import doctest

import pytest
from ru54fz import money


def test_doctests():
    assert doctest.testmod(money).failed == 0


@pytest.mark.parametrize(
    "value, kop", [("0.01", 1), (0.1, 10), ("1 000,50".replace(" ", ""), 100050), (12.3, 1230)]
)
def test_to_kopecks_exact(value, kop):
    assert money.to_kopecks(value) == kop


@pytest.mark.parametrize("value", ["1.001", "abc", True, 0.105])
def test_to_kopecks_refuses_inexact(value):
    with pytest.raises(money.MoneyError):
        money.to_kopecks(value)


def test_line_sum_rounds_half_up():
    assert money.line_sum(333, 1500) == 500  # 4.995 -> 5.00
    assert money.line_sum(100, 3) == 0
    assert money.line_sum(100, 5) == 1
