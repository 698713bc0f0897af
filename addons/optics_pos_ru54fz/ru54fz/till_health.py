"""One rule for a till's health: the facts of a till in, a level and its reasons out.

Used by the till (``TillService.status()``: ``level``, ``reasons``, and the English
``messages`` made from the reasons by :func:`messages`), by central
(``models/optics_fiscal_till.py``: the till's ``health`` and the administrators' alerts)
and, through the reason codes, by the POS badge (``static/src/app/till_health_text.js``
translates each code; its table must cover :data:`CODES`).

``evaluate(facts, overrides=None)`` -> ``{"level": "green"|"yellow"|"red", "reasons":
[{"code", "level", "params"}, ...]}``.  A fact that is absent (or None) is not judged:
the till knows no "minutes silent", central knows no KKT clock.

Thresholds (:data:`THRESHOLDS`, one table; a reason is raised at the value shown):

=====================  ==========================  ==============  ==============
code                   measure                     yellow          red
=====================  ==========================  ==============  ==============
ofd_backlog            days the oldest document    >= 3            >= 25
                       has waited for the OFD
ofd_blocked            same                        --              >= 30
fn_expiry              days left of the FN keys    < 30            < 3
fn_memory              FN memory used, %           >= 90           >= 99
fn_memory_full         same                        --              >= 100
journal_fill           till journal storage, %     >= 80           >= 90
journal_full           same                        --              >= 100
shift_ending/expired   hours the shift is open     >= 21.6         >= 24 (expired)
clock_skew/_blocked    |KKT - till clock|, s       > 120           > 300 (blocked)
till_silent            minutes since last contact  >= 30           --
=====================  ==========================  ==============  ==============

Blocking (the POS stops sales before asking the till, :data:`BLOCKING`): ``ofd_blocked``,
``shift_expired``, ``clock_blocked``, ``journal_full``, ``fn_memory_full``.

Always red: ``device_error`` (the KKT did not answer or refused), ``paper_out``,
``cover_open``, ``set_aside`` (journal entries central refused for good),
``central_dead_letters`` (documents the OFD pipeline gave up on), ``ofd_breaker_open``.
Always yellow: ``shift_closed``, ``failed`` (operations the KKT refused), ``clock_unknown``.

Sources: the FN stops forming fiscal signs when a document has waited 30 days for the
OFD (54-FZ art. 4.1 p. 1; the shared reference 54fz.md §2.2 (/work/shared/reference/, also
../shared/reference/ beside the checkout), which advises alerting well
before day 30; docs/kkt_shtrih_protocol.md, FN errors 0x14/0x15 ``ofd_30_days``); the
FN's own warning bits (FF01 ``warnings``: bit0 keys < 3 days, bit1 < 30 days, bit2
memory 99 %; tags 1050/1051/1052 in 54fz.md §1.5 and §2.2) give the FN thresholds;
a shift lasts at most 24 h and the KKT clock may be off by at most 5 min (54fz.md §2.2).
The early steps (OFD 3 and 25 days, FN memory 90 %, journal 80/90 %, shift 90 % of
24 h, clock 2 min, till silence 30 min) are the project's own, kept from what the till,
central and the POS badge used before they shared this rule.

Overrides: ``evaluate(..., overrides={"ofd_backlog": {"red": 20}})`` replaces single
thresholds.  Central passes the company settings (``ru54fz_unconfirmed_alert_days`` ->
ofd_backlog.red, ``ru54fz_fn_alert_days`` -> fn_expiry.yellow,
``ru54fz_fn_memory_alert_pct`` -> fn_memory.yellow, ``ru54fz_till_silence_minutes`` ->
till_silent.yellow) through :func:`company_overrides`; the till passes its
``clock_warn_seconds``/``clock_block_seconds``/``ofd_limit_days``/``shift_limit_hours``.
"""

import copy

LEVELS = ("green", "yellow", "red")
#: a shift turns yellow when this share of its 24 hours is used (2 h 24 min left)
SHIFT_WARN_SHARE = 0.9
_RANK = {name: i for i, name in enumerate(LEVELS)}

THRESHOLDS = {
    "ofd_backlog": {"yellow": 3, "red": 25},  # days, >=
    "ofd_blocked": {"red": 30},  # days, >= (the FN blocks)
    "fn_expiry": {"yellow": 30, "red": 3},  # days left, <
    "fn_memory": {"yellow": 90, "red": 99, "full": 100},  # percent, >= (full: fn_memory_full)
    "journal_fill": {"yellow": 80, "red": 90, "full": 100},  # percent, >= (full: journal_full)
    "shift_age": {"yellow": 24 * SHIFT_WARN_SHARE, "red": 24},  # hours, >= (red: shift_expired)
    "clock_skew": {"yellow": 120, "red": 300},  # seconds, > (red: clock_blocked; 5 min is still legal)
    "till_silent": {"yellow": 30},  # minutes, >=
}

#: every code the rule can emit, with its level
CODES = {
    "device_error": "red",
    "paper_out": "red",
    "cover_open": "red",
    "shift_closed": "yellow",
    "shift_ending": "yellow",
    "shift_expired": "red",
    "fn_memory": None,  # yellow or red
    "fn_memory_full": "red",
    "fn_expiry": None,
    "clock_unknown": "yellow",
    "clock_skew": "yellow",
    "clock_blocked": "red",
    "journal_fill": None,
    "journal_full": "red",
    "ofd_backlog": None,
    "ofd_blocked": "red",
    "failed": "yellow",
    "set_aside": "red",
    "till_silent": "yellow",
    "central_dead_letters": "red",
    "ofd_breaker_open": "red",
}

#: reasons that stop sales: the POS shows them as blockers
BLOCKING = ("ofd_blocked", "shift_expired", "clock_blocked", "journal_full", "fn_memory_full")


def thresholds(overrides=None):
    """The table with ``overrides`` ({name: {level: value}}; None values ignored) applied."""
    table = copy.deepcopy(THRESHOLDS)
    for name, levels in (overrides or {}).items():
        if name not in table:
            raise KeyError(f"unknown till health threshold {name!r}")
        for level, value in (levels or {}).items():
            if value is not None:
                table[name][level] = value
    return table


def company_overrides(
    unconfirmed_alert_days=None, fn_alert_days=None, fn_memory_alert_pct=None, till_silence_minutes=None
):
    """Central's company settings as overrides (a zero or empty setting keeps the table)."""
    return {
        "ofd_backlog": {"red": unconfirmed_alert_days or None},
        "fn_expiry": {"yellow": fn_alert_days or None},
        "fn_memory": {"yellow": fn_memory_alert_pct or None},
        "till_silent": {"yellow": till_silence_minutes or None},
    }


def _round(value):
    value = round(float(value), 2)
    return int(value) if value == int(value) else value


def evaluate(facts, overrides=None):
    """Judge the facts of one till.  Keys of ``facts`` (all optional):

    device_error: {"code", "message"} when the KKT could not be read;
    paper_present, cover_open: booleans from the KKT's status;
    shift_open (bool), shift_age_hours (float, hours since the shift opened);
    fn_memory_used_pct, fn_days_left (:func:`days_left`: calendar days until the FN keys expire);
    clock_checked (bool) and clock_skew_seconds (None: the KKT clock was not readable);
    journal_fill_pct; ofd_oldest_age_days (days the oldest unconfirmed document waited);
    failed_count, set_aside_count; minutes_silent; central_dead_letters; ofd_breaker_open.
    """
    t = thresholds(overrides)
    reasons = []

    def add(code, level, **params):
        reasons.append({"code": code, "level": level, "params": params})

    for check in _CHECKS:
        check(facts.get, t, add)
    return {"level": worst(r["level"] for r in reasons), "reasons": reasons}


# The checks of :func:`evaluate`, in the order their reasons are listed; each takes the
# facts' getter, the thresholds table and ``add(code, level, **params)``.


def _check_device(get, t, add):
    err = get("device_error")
    if err:
        add(
            "device_error",
            "red",
            error_code=err.get("code") or "device_error",
            message=err.get("message") or "",
        )
    if get("paper_present") is False:
        add("paper_out", "red")
    if get("cover_open"):
        add("cover_open", "red")


def _check_shift(get, t, add):
    if get("shift_open") is False:
        add("shift_closed", "yellow")
    elif get("shift_open") and get("shift_age_hours") is not None:
        hours = float(get("shift_age_hours"))
        limit = t["shift_age"]["red"]
        if hours >= limit:
            add("shift_expired", "red", hours=_round(hours), limit_hours=_round(limit))
        elif hours >= t["shift_age"]["yellow"]:
            add("shift_ending", "yellow", hours_left=_round(limit - hours), limit_hours=_round(limit))


def _check_fn(get, t, add):
    _check_fill(get("fn_memory_used_pct"), t["fn_memory"], "fn_memory_full", "fn_memory", add)
    days = get("fn_days_left")
    if days is not None:
        if days < t["fn_expiry"]["red"]:
            add("fn_expiry", "red", days=days)
        elif days < t["fn_expiry"]["yellow"]:
            add("fn_expiry", "yellow", days=days)


def _check_clock(get, t, add):
    if get("clock_checked"):
        skew = get("clock_skew_seconds")
        if skew is None:
            add("clock_unknown", "yellow")
        elif abs(skew) > t["clock_skew"]["red"]:
            add("clock_blocked", "red", seconds=skew, limit_seconds=t["clock_skew"]["red"])
        elif abs(skew) > t["clock_skew"]["yellow"]:
            add("clock_skew", "yellow", seconds=skew, limit_seconds=t["clock_skew"]["red"])


def _check_journal(get, t, add):
    _check_fill(get("journal_fill_pct"), t["journal_fill"], "journal_full", "journal_fill", add)


def _check_fill(pct, limits, full_code, code, add):
    """A store filling up (the FN archive, the till journal): ``full_code`` at its full limit,
    else ``code`` red or yellow at those limits."""
    if pct is None:
        return
    if pct >= limits["full"]:
        add(full_code, "red", pct=pct)
    elif pct >= limits["red"]:
        add(code, "red", pct=pct)
    elif pct >= limits["yellow"]:
        add(code, "yellow", pct=pct)


def _check_ofd(get, t, add):
    age = get("ofd_oldest_age_days")
    if age is not None:
        block = t["ofd_blocked"]["red"]
        if age >= block:
            add("ofd_blocked", "red", days=_round(age), limit_days=_round(block))
        elif age >= t["ofd_backlog"]["red"]:
            add("ofd_backlog", "red", days=_round(age), limit_days=_round(block))
        elif age >= t["ofd_backlog"]["yellow"]:
            add("ofd_backlog", "yellow", days=_round(age), limit_days=_round(block))


def _check_counters(get, t, add):
    if get("failed_count"):
        add("failed", "yellow", count=get("failed_count"))
    if get("set_aside_count"):
        add("set_aside", "red", count=get("set_aside_count"))
    silent = get("minutes_silent")
    if silent is not None and silent >= t["till_silent"]["yellow"]:
        add("till_silent", "yellow", minutes=silent)
    if get("central_dead_letters"):
        add("central_dead_letters", "red", count=get("central_dead_letters"))
    if get("ofd_breaker_open"):
        add("ofd_breaker_open", "red")


_CHECKS = (_check_device, _check_shift, _check_fn, _check_clock, _check_journal, _check_ofd, _check_counters)


def days_left(valid_until, today):
    """Whole days from ``today`` to the FN's key expiry date (both dates): the
    ``fn_days_left`` fact, counted the same on the till and on central."""
    return (valid_until - today).days


def worst(levels):
    level = "green"
    for new in levels:
        if _RANK[new] > _RANK[level]:
            level = new
    return level


def has(result, codes, level=None):
    """True when ``result`` holds a reason of ``codes`` (one code or several) at ``level``
    (any level when None)."""
    codes = (codes,) if isinstance(codes, str) else tuple(codes)
    return any(r["code"] in codes and (level is None or r["level"] == level) for r in result["reasons"])


def _hours_text(hours):
    mins = int(round(hours * 60))
    return f"{mins // 60} h {mins % 60:02d} min"


_MESSAGES = {
    "device_error": lambda p: f"KKT: {p['message'] or p['error_code']}",
    "paper_out": lambda p: "the KKT is out of paper",
    "cover_open": lambda p: "the KKT's cover is open",
    "shift_closed": lambda p: "no shift is open",
    "shift_ending": lambda p: f"the shift closes in {_hours_text(p['hours_left'])}: close it soon",
    "shift_expired": lambda p: "the shift is over 24 hours: close it (Z report)",
    "fn_memory_full": lambda p: (
        "the fiscal drive's memory is full: sales are impossible until it is replaced"
    ),
    "fn_memory": lambda p: (
        f"the fiscal drive is {p['pct']}% full: order a new one"
        if p["_level"] == "red"
        else f"the fiscal drive is {p['pct']}% full"
    ),
    "fn_expiry": lambda p: (
        f"the fiscal drive's keys expire in {p['days']} days: replace it"
        if p["_level"] == "red"
        else f"the fiscal drive's keys expire in {p['days']} days"
    ),
    "clock_unknown": lambda p: "the KKT clock could not be read",
    "clock_skew": lambda p: f"the KKT clock is {p['seconds']} s off",
    "clock_blocked": lambda p: f"the KKT clock is {p['seconds']} s off: sales are refused",
    "journal_fill": lambda p: f"the journal's storage is {p['pct']}% full",
    "journal_full": lambda p: "the journal's storage is full",
    "ofd_backlog": lambda p: (
        f"a document has waited {p['days']:g} days for the OFD; the FN blocks at {p['limit_days']:g}"
        if p["_level"] == "red"
        else f"a document has waited {p['days']:g} days for the OFD"
    ),
    "ofd_blocked": lambda p: (
        f"a document has waited {p['days']:g} days for the OFD: the FN blocks at "
        f"{p['limit_days']:g}, sales are refused"
    ),
    "failed": lambda p: f"{p['count']} operation(s) failed on the KKT",
    "set_aside": lambda p: (
        f"central refused {p['count']} journal entries for good: they are set aside "
        f"(the others are delivered); call support with the till's journal"
    ),
    "till_silent": lambda p: f"the till has not reported for {p['minutes']} min",
    "central_dead_letters": lambda p: f"the OFD pipeline gave up on {p['count']} document(s)",
    "ofd_breaker_open": lambda p: "the OFD connection breaker is open",
}


def message(reason):
    """English text of one reason (the till API's ``messages``; the POS translates codes)."""
    return _MESSAGES[reason["code"]](dict(reason["params"], _level=reason["level"]))


def messages(result):
    return [message(r) for r in result["reasons"]]


def export():
    """What the JS side needs to check its table against: codes, levels, thresholds."""
    return {
        "codes": sorted(CODES),
        "levels": dict(CODES),
        "blocking": list(BLOCKING),
        "thresholds": copy.deepcopy(THRESHOLDS),
    }


if __name__ == "__main__":  # python3 -m ru54fz.till_health: the codes as JSON
    import json

    # command-line output
    print(json.dumps(export(), indent=1, sort_keys=True))  # pylint: disable=print-used
