"""Promised dates from lead times, in working days."""

from datetime import date

import pytest
from opticslib import leadtime as lt

FRI = date(2026, 11, 20)
SAT = date(2026, 11, 21)
MON = date(2026, 11, 23)


def test_zero_days_is_same_working_day_or_next():
    assert lt.add_working_days(FRI, 0) == FRI
    assert lt.add_working_days(SAT, 0) == MON


def test_weekends_are_skipped():
    assert lt.add_working_days(FRI, 1) == MON
    assert lt.add_working_days(FRI, 5) == date(2026, 11, 27)
    assert lt.add_working_days(SAT, 1) == date(2026, 11, 24)


def test_holidays_are_skipped():
    assert lt.add_working_days(FRI, 1, holidays={MON}) == date(2026, 11, 24)
    # New-year holidays
    hol = {date(2027, 1, d) for d in range(1, 9)}
    assert lt.add_working_days(date(2026, 12, 31), 1, holidays=hol) == date(2027, 1, 11)


def test_six_day_lab():
    assert lt.add_working_days(FRI, 1, weekdays=frozenset(range(6))) == SAT


def test_slowest_lens_wins_plus_assembly():
    lenses = [("single", "stock"), ("progressive", "supplier")]
    assert lt.promised_date(MON, lenses) == lt.add_working_days(MON, 10)
    assert lt.promised_date(MON, lenses, assembly_days=1) == lt.add_working_days(MON, 11)
    table = {("single", "stock"): 0, ("progressive", "supplier"): 2}
    assert lt.promised_date(MON, lenses, table) == date(2026, 11, 25)


def test_no_lenses_means_assembly_only():
    assert lt.promised_date(MON, [], assembly_days=0) == MON


def test_bad_input():
    with pytest.raises(KeyError):
        lt.lead_days("monocle", "stock")
    with pytest.raises(ValueError):
        lt.add_working_days(MON, -1)
    with pytest.raises(ValueError):
        lt.add_working_days(MON, 1, weekdays=frozenset())
    with pytest.raises(ValueError):
        lt.lead_days("single", "stock", {("single", "stock"): -1})
