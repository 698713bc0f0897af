"""Promised date of a lab order from lead times in working days.

Lead times are configured per lens type (single / bifocal / progressive /
office) and lens source (stock lens in the store, lens held by another store,
lens ordered from the supplier).  The order waits for its slowest lens; the
workshop then needs its own assembly days.  Days are counted on working days
of the lab (Monday..Friday by default) skipping holidays.
"""

from datetime import date, timedelta

STOCK = "stock"
STORE = "store"
SUPPLIER = "supplier"
SOURCES = (STOCK, STORE, SUPPLIER)

# Working-day defaults (anchors: stock SV same day / 1 h, another branch about a day,
# prescription lenses 3-5 days up to 2-3 weeks).  The Odoo side keeps them editable.
DEFAULT_LEAD_DAYS = {
    ("single", STOCK): 0,
    ("single", STORE): 1,
    ("single", SUPPLIER): 5,
    ("bifocal", STOCK): 1,
    ("bifocal", STORE): 2,
    ("bifocal", SUPPLIER): 7,
    ("progressive", STOCK): 2,
    ("progressive", STORE): 3,
    ("progressive", SUPPLIER): 10,
    ("office", STOCK): 1,
    ("office", STORE): 2,
    ("office", SUPPLIER): 7,
}
MONDAY_TO_FRIDAY = frozenset(range(5))


def lead_days(lens_type, source, table=None):
    table = DEFAULT_LEAD_DAYS if table is None else table
    try:
        days = table[(lens_type, source)]
    except KeyError:
        raise KeyError(f"no lead time for {lens_type} lenses from {source}") from None
    if days < 0:
        raise ValueError("a lead time cannot be negative")
    return int(days)


def is_working_day(day, weekdays=MONDAY_TO_FRIDAY, holidays=()):
    return day.weekday() in weekdays and day not in holidays


def add_working_days(start, days, weekdays=MONDAY_TO_FRIDAY, holidays=()):
    """The date ``days`` working days after ``start``.

    With 0 days: ``start`` itself when it is a working day, otherwise the next
    working day (an order taken on Saturday for a stock lens is ready Monday).
    """
    if not weekdays:
        raise ValueError("at least one working weekday is needed")
    if days < 0:
        raise ValueError("days cannot be negative")
    holidays = frozenset(holidays)
    day = start
    while not is_working_day(day, weekdays, holidays):
        day += timedelta(days=1)
    while days:
        day += timedelta(days=1)
        if is_working_day(day, weekdays, holidays):
            days -= 1
    return day


def promised_date(start, lenses, table=None, assembly_days=0, weekdays=MONDAY_TO_FRIDAY, holidays=()):
    """``lenses`` is an iterable of (lens_type, source), one per lens.

    Returns the promised date: slowest lens + assembly days, in working days.
    """
    if not isinstance(start, date):
        raise TypeError("start must be a date")
    lenses = list(lenses)
    slowest = max((lead_days(t, s, table) for t, s in lenses), default=0)
    return add_working_days(start, slowest + int(assembly_days), weekdays, holidays)
