"""The one till-health rule (ru54fz/till_health.py): each reason at its boundary,
the overrides central and the till pass, the English messages, and the one parser of
the till's times (ru54fz/till_time.py)."""

import datetime
import json
import subprocess
import sys
from pathlib import Path

import pytest
from ru54fz import till_health, till_time
from ru54fz.till_health import evaluate


def codes(result, level=None):
    return [r["code"] for r in result["reasons"] if level is None or r["level"] == level]


def one(facts, overrides=None):
    result = evaluate(facts, overrides)
    assert len(result["reasons"]) <= 1, result
    return (result["reasons"][0]["code"], result["reasons"][0]["level"]) if result["reasons"] else None


def test_nothing_known_is_green():
    assert evaluate({}) == {"level": "green", "reasons": []}


@pytest.mark.parametrize(
    "days, expected",
    [
        (0, None),
        (2.99, None),
        (3, ("ofd_backlog", "yellow")),
        (24.99, ("ofd_backlog", "yellow")),
        (25, ("ofd_backlog", "red")),
        (29.99, ("ofd_backlog", "red")),
        (30, ("ofd_blocked", "red")),
        (45, ("ofd_blocked", "red")),
    ],
)
def test_ofd_backlog_boundaries(days, expected):
    assert one({"ofd_oldest_age_days": days}) == expected


def test_ofd_backlog_params():
    reason = evaluate({"ofd_oldest_age_days": 26.5})["reasons"][0]
    assert reason == {"code": "ofd_backlog", "level": "red", "params": {"days": 26.5, "limit_days": 30}}


@pytest.mark.parametrize(
    "days_left, expected",
    [
        (400, None),
        (30, None),
        (29, ("fn_expiry", "yellow")),
        (3, ("fn_expiry", "yellow")),
        (2, ("fn_expiry", "red")),
        (0, ("fn_expiry", "red")),
        (-5, ("fn_expiry", "red")),
    ],
)
def test_fn_expiry_boundaries(days_left, expected):
    # FN warning bits: keys < 30 days (bit1), < 3 days (bit0)
    assert one({"fn_days_left": days_left}) == expected


@pytest.mark.parametrize(
    "pct, expected",
    [
        (0, None),
        (89, None),
        (90, ("fn_memory", "yellow")),
        (98, ("fn_memory", "yellow")),
        (99, ("fn_memory", "red")),
        (99.9, ("fn_memory", "red")),
        (100, ("fn_memory_full", "red")),
    ],
)
def test_fn_memory_boundaries(pct, expected):
    assert one({"fn_memory_used_pct": pct}) == expected


@pytest.mark.parametrize(
    "pct, expected",
    [
        (79.9, None),
        (80, ("journal_fill", "yellow")),
        (89.9, ("journal_fill", "yellow")),
        (90, ("journal_fill", "red")),
        (99.9, ("journal_fill", "red")),
        (100, ("journal_full", "red")),
    ],
)
def test_journal_fill_boundaries(pct, expected):
    assert one({"journal_fill_pct": pct}) == expected


@pytest.mark.parametrize(
    "hours, expected",
    [
        (0, None),
        (21.5, None),
        (21.6, ("shift_ending", "yellow")),
        (23.99, ("shift_ending", "yellow")),
        (24, ("shift_expired", "red")),
        (30, ("shift_expired", "red")),
    ],
)
def test_shift_age_boundaries(hours, expected):
    assert one({"shift_open": True, "shift_age_hours": hours}) == expected


def test_shift_closed_and_open_without_a_known_start():
    assert one({"shift_open": False}) == ("shift_closed", "yellow")
    assert one({"shift_open": True}) is None
    assert evaluate({"shift_open": True, "shift_age_hours": 22.8})["reasons"][0]["params"] == {
        "hours_left": 1.2,
        "limit_hours": 24,
    }


@pytest.mark.parametrize(
    "skew, expected",
    [
        (0, None),
        (120, None),
        (-120, None),
        (121, ("clock_skew", "yellow")),
        (-121, ("clock_skew", "yellow")),
        (300, ("clock_skew", "yellow")),
        (301, ("clock_blocked", "red")),
        (-301, ("clock_blocked", "red")),
        (None, ("clock_unknown", "yellow")),
    ],
)
def test_clock_boundaries(skew, expected):
    # the legal 5 minutes: exactly 300 s is still allowed
    assert one({"clock_checked": True, "clock_skew_seconds": skew}) == expected


def test_clock_not_checked_is_not_judged():
    assert one({"clock_skew_seconds": None}) is None


@pytest.mark.parametrize("minutes, expected", [(29, None), (30, ("till_silent", "yellow"))])
def test_till_silence_boundaries(minutes, expected):
    assert one({"minutes_silent": minutes}) == expected


@pytest.mark.parametrize(
    "facts, expected",
    [
        ({"device_error": {"code": "device_unreachable", "message": "no answer"}}, ("device_error", "red")),
        ({"paper_present": False}, ("paper_out", "red")),
        ({"paper_present": True}, None),
        ({"cover_open": True}, ("cover_open", "red")),
        ({"failed_count": 0}, None),
        ({"failed_count": 2}, ("failed", "yellow")),
        ({"set_aside_count": 0}, None),
        ({"set_aside_count": 1}, ("set_aside", "red")),
        ({"central_dead_letters": 1}, ("central_dead_letters", "red")),
        ({"ofd_breaker_open": True}, ("ofd_breaker_open", "red")),
    ],
)
def test_flag_reasons(facts, expected):
    assert one(facts) == expected


def test_level_is_the_worst_reason():
    result = evaluate({"shift_open": False, "journal_fill_pct": 95, "failed_count": 1})
    assert result["level"] == "red"
    assert codes(result) == ["shift_closed", "journal_fill", "failed"]
    assert codes(result, "red") == ["journal_fill"]
    assert evaluate({"shift_open": False})["level"] == "yellow"
    assert till_health.has(result, "journal_fill") and till_health.has(result, ("x", "failed"), "yellow")
    assert not till_health.has(result, "failed", "red")


def test_overrides_replace_single_thresholds():
    assert one({"ofd_oldest_age_days": 20}, {"ofd_backlog": {"red": 20}}) == ("ofd_backlog", "red")
    assert one({"ofd_oldest_age_days": 19.9}, {"ofd_backlog": {"red": 20}}) == ("ofd_backlog", "yellow")
    assert one({"fn_days_left": 40}, {"fn_expiry": {"yellow": 45}}) == ("fn_expiry", "yellow")
    assert one(
        {"clock_checked": True, "clock_skew_seconds": 61}, {"clock_skew": {"yellow": 60, "red": None}}
    ) == ("clock_skew", "yellow")
    assert till_health.THRESHOLDS["ofd_backlog"] == {"yellow": 3, "red": 25}, "the table itself is untouched"
    with pytest.raises(KeyError):
        evaluate({}, {"no_such_threshold": {"red": 1}})


def test_company_overrides():
    # central's company settings; zero or empty keeps the table
    assert till_health.company_overrides() == {
        "ofd_backlog": {"red": None},
        "fn_expiry": {"yellow": None},
        "fn_memory": {"yellow": None},
        "till_silent": {"yellow": None},
    }
    over = till_health.company_overrides(
        unconfirmed_alert_days=20, fn_alert_days=60, fn_memory_alert_pct=80, till_silence_minutes=10
    )
    assert one({"ofd_oldest_age_days": 21}, over) == ("ofd_backlog", "red")
    assert one({"fn_days_left": 59}, over) == ("fn_expiry", "yellow")
    assert one({"fn_memory_used_pct": 80}, over) == ("fn_memory", "yellow")
    assert one({"minutes_silent": 10}, over) == ("till_silent", "yellow")


def test_every_code_has_an_english_message_and_a_known_level():
    facts = {
        "device_error": {"code": "x", "message": "m"},
        "paper_present": False,
        "cover_open": True,
        "fn_memory_used_pct": 100,
        "fn_days_left": 1,
        "clock_checked": True,
        "clock_skew_seconds": 400,
        "journal_fill_pct": 100,
        "ofd_oldest_age_days": 31,
        "failed_count": 1,
        "set_aside_count": 1,
        "minutes_silent": 99,
        "central_dead_letters": 1,
        "ofd_breaker_open": True,
    }
    seen = evaluate(facts)["reasons"]
    seen += evaluate(
        {"shift_open": False, "clock_checked": True, "clock_skew_seconds": None, "ofd_oldest_age_days": 26}
    )["reasons"]
    seen += evaluate({"shift_open": True, "shift_age_hours": 22})["reasons"]
    seen += evaluate(
        {
            "shift_open": True,
            "shift_age_hours": 25,
            "fn_memory_used_pct": 90,
            "fn_days_left": 10,
            "clock_checked": True,
            "clock_skew_seconds": 200,
            "journal_fill_pct": 85,
            "ofd_oldest_age_days": 4,
        }
    )["reasons"]
    seen += evaluate({"fn_memory_used_pct": 99, "journal_fill_pct": 95})["reasons"]
    assert {r["code"] for r in seen} == set(till_health.CODES)
    for reason in seen:
        assert till_health.CODES[reason["code"]] in (None, reason["level"])
        assert till_health.message(reason)
        json.dumps(reason)  # the till sends them as they are


def test_messages_keep_the_till_api_wording():
    result = evaluate(
        {
            "shift_open": True,
            "shift_age_hours": 23,
            "fn_days_left": 2,
            "ofd_oldest_age_days": 27.5,
            "set_aside_count": 2,
        }
    )
    assert till_health.messages(result) == [
        "the shift closes in 1 h 00 min: close it soon",
        "the fiscal drive's keys expire in 2 days: replace it",
        "a document has waited 27.5 days for the OFD; the FN blocks at 30",
        "central refused 2 journal entries for good: they are set aside (the others are delivered); "
        "call support with the till's journal",
    ]


def test_export_runs_as_a_module():
    root = Path(till_health.__file__).resolve().parents[1]
    out = subprocess.run(
        [sys.executable, "-m", "ru54fz.till_health"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    data = json.loads(out)
    assert data["codes"] == sorted(till_health.CODES)
    assert set(data["blocking"]) <= set(data["codes"])


# -- the one parser of the till's times ---------------------------------------------------
def test_till_time_naive_is_the_store_zone_on_central():
    assert till_time.utc_naive("2026-03-01T12:00:00", "Europe/Moscow") == datetime.datetime(2026, 3, 1, 9, 0)
    assert till_time.utc_naive("2026-03-01T12:00:00", "Asia/Vladivostok") == datetime.datetime(
        2026, 3, 1, 2, 0
    )
    assert till_time.utc_naive("2026-03-01T12:00:00+05:00", "Europe/Moscow") == datetime.datetime(
        2026, 3, 1, 7, 0
    )
    assert till_time.utc_naive("2026-03-01T12:00:00Z", "Europe/Moscow") == datetime.datetime(
        2026, 3, 1, 12, 0
    )
    assert till_time.utc_naive("2026-03-01T12:00:00", "No/Such_Zone") == datetime.datetime(2026, 3, 1, 9, 0)
    for bad in (None, "", False, "yesterday", 12):
        assert till_time.utc_naive(bad) is None


def test_till_time_on_the_till_is_local():
    assert till_time.local_naive("2026-03-01T12:00:00") == datetime.datetime(2026, 3, 1, 12, 0)
    aware = datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
    assert till_time.local_naive("2026-03-01T09:00:00+00:00") == aware.astimezone().replace(tzinfo=None)
    assert till_time.local_naive("2027-06-30") == datetime.datetime(2027, 6, 30)
    assert till_time.local_naive("garbage") is None


def test_till_time_dates():
    assert till_time.local_date("2027-06-30") == datetime.date(2027, 6, 30)
    assert till_time.local_date("2027-06-29T22:30:00+00:00", "Europe/Moscow") == datetime.date(2027, 6, 30)
    assert till_time.local_date("2027-06-29T12:00:00") == datetime.date(2027, 6, 29)
    assert till_health.days_left(datetime.date(2027, 6, 30), datetime.date(2027, 6, 28)) == 2
    assert till_time.local_date("nope") is None
