"""The one parser of the till's times.

The till and its KKT write ISO 8601 times (``FiscalResult.doc_time``,
``FNStatus.shift_opened_at``/``oldest_unconfirmed_at``/``fn_valid_until``, the KKT
clock ``kkt_time``).  Without an offset such a time is the till's local time, which
is the store's time zone: central passes the store's zone (``tz_name``; see
``optics.fiscal.till._till_tz``: store, then company, then Europe/Moscow); on the till
itself no zone is passed and the machine's local zone is the store's.
"""

import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DEFAULT_TZ = "Europe/Moscow"


def parse(value, tz_name=None):
    """ISO text (or a date/datetime) -> an aware datetime, or None when empty or unreadable.
    A time without offset is in ``tz_name`` (an invalid name falls back to Moscow), or in
    this machine's local zone when ``tz_name`` is None."""
    if value is None or value == "" or value is False:
        return None
    if isinstance(value, datetime.datetime):
        stamp = value
    elif isinstance(value, datetime.date):
        stamp = datetime.datetime(value.year, value.month, value.day)
    elif isinstance(value, str):
        try:
            stamp = datetime.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
    else:
        return None
    if stamp.tzinfo is None:
        if tz_name is None:
            return stamp.astimezone()  # a naive time is local time
        try:
            zone = ZoneInfo(tz_name)
        except (ZoneInfoNotFoundError, ValueError):
            zone = ZoneInfo(DEFAULT_TZ)
        stamp = stamp.replace(tzinfo=zone)
    return stamp


def local_naive(value):
    """The till's view: a naive datetime in this machine's local time, or None."""
    stamp = parse(value)
    return stamp.astimezone().replace(tzinfo=None) if stamp else None


def utc_naive(value, tz_name=DEFAULT_TZ):
    """Central's view: a naive UTC datetime (what Odoo stores), or None."""
    stamp = parse(value, tz_name or DEFAULT_TZ)
    return stamp.astimezone(datetime.timezone.utc).replace(tzinfo=None) if stamp else None


def local_date(value, tz_name=None):
    """The calendar date of a till time in ``tz_name`` (None: this machine's local zone);
    a bare ISO date (``fn_valid_until``) is that date."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return datetime.date.fromisoformat(value.strip())
        except ValueError:
            return None
    stamp = parse(value, tz_name)
    if not stamp:
        return None
    if tz_name is None:
        return stamp.astimezone().date()
    try:
        zone = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo(DEFAULT_TZ)
    return stamp.astimezone(zone).date()
