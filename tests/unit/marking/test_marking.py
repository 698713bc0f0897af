"""Marking codes: parsing what a 2D scanner types, the permissive-mode check against
mocks of the ЧЗ online API and the local module on real sockets (valid, sold,
expired, blocked, unknown, timeout, down -> the offline rule)."""

import pytest
from marking_helpers import GS, cis, code
from ru54fz import errors as E
from ru54fz import marking as M
from ru54fz.marking_mock import MockChecker


@pytest.fixture
def online(checker):
    """The ЧЗ online API (the suite's ``checker``)."""
    return checker


@pytest.fixture
def local():
    """The local module, on a server of its own (a test may use both)."""
    with MockChecker() as mock:
        yield mock


# ------------------------------------------------------------------ parsing
def test_parse_a_scanned_code_with_gs_separators():
    raw = code(serial="ABC123def4567")
    parsed = M.parse(raw)
    assert parsed.gtin == raw[2:16] and parsed.serial == "ABC123def4567"
    assert parsed.fields["93"] == "dGVz" and parsed.raw == raw
    assert parsed.cis == f"01{parsed.gtin}21ABC123def4567"
    # a scanner prefix (symbology identifier / leading FNC1) is dropped, the identity is the same
    assert M.parse("]d2" + raw).cis == parsed.cis == M.parse(GS + raw).cis


def test_parse_a_long_code_with_91_92():
    parsed = M.parse(code(tail="92"))
    assert parsed.fields["91"] == "EE10" and len(parsed.fields["92"]) == 44


@pytest.mark.parametrize(
    "raw,words",
    [
        ("", "no marking code"),
        ("4601234567893", "unknown field"),  # an EAN-13 scanned instead
        (code().replace(GS, ""), "crypto tail"),  # GS lost: 93 swallowed by the serial
        (code().split(GS)[0], "crypto tail"),  # the printed part only
        ("01046012345678902" + "1" + "ABC" + GS + "93dGVz", "check digit"),
        ("0104601234567893" + GS + "93dGVz", "serial"),
        (code() + "\x07", "control characters"),
        ("01" + "1" * 300, "longer than 256"),
    ],
)
def test_bad_scans_are_refused_with_a_clear_reason(raw, words):
    with pytest.raises(E.DocumentInvalid) as info:
        M.parse(raw)
    assert words in info.value.message and info.value.field == "marking_code"


# ------------------------------------------------------------------ checkers
@pytest.mark.parametrize(
    "state,status",
    [
        ("valid", "valid"),
        ("sold", "sold"),
        ("expired", "expired"),
        ("blocked", "blocked"),
        ("not_found", "not_found"),
    ],
)
def test_online_check_outcomes(online, state, status):
    raw = code()
    online.set(cis(raw), state)
    result = M.OnlineChecker(online.url).check(M.parse(raw), "9999078900054321")
    assert result.status == status and result.allowed == (status == "valid") and result.source == "online"
    assert result.request_id and result.request_time
    assert result.industry_value() == f"UUID={result.request_id}&Time={result.request_time}"
    assert online.calls[-1] == ("online", [raw])


def test_local_module_check_gets_the_code_with_its_gs(local):
    raw = code()
    local.set(cis(raw), "sold")
    result = M.LocalModuleChecker(local.url, basic_auth="admin:admin").check(M.parse(raw))
    assert result.status == "sold" and result.source == "local" and not result.allowed
    assert local.calls[-1] == ("local", [raw])  # GS survived the query string


def test_online_timeout_falls_back_to_the_local_module(online, local):
    raw = code()
    online.set(cis(raw), "valid")
    online.delay = 1.0
    local.set(cis(raw), "sold")
    check = M.PermissiveCheck([M.OnlineChecker(online.url, timeout=0.2), M.LocalModuleChecker(local.url)])
    result = check.check(M.parse(raw))
    assert result.source == "local" and result.status == "sold" and not result.allowed


def test_no_checker_answering_is_the_legal_offline_sale(online, local):
    raw = code()
    online.delay = 1.0
    local.down = True
    check = M.make_checker(
        {
            "online": {"url": online.url, "timeout": 0.2, "token": "t"},
            "local": {"url": local.url, "user": "admin", "password": "x"},
        }
    )
    result = check.check(M.parse(raw))
    assert result.status == "offline" and result.allowed and result.source == "none"
    assert result.industry_value() == ""  # no check id: no 1265
    assert "HTTP 500" in result.detail and "timed out" in result.detail


def test_a_refused_checker_is_unavailable_not_a_verdict(online):
    online.down = True
    with pytest.raises(M.CheckerUnavailable):
        M.OnlineChecker(online.url).check(M.parse(code()))


def test_checker_urls_are_checked():
    with pytest.raises(E.RequestInvalid):
        M.OnlineChecker("ftp://x")


def test_decide_rules():
    ok = {"found": True, "valid": True, "verified": True, "utilised": True, "realizable": True}
    assert M.decide(ok) == "valid"
    assert M.decide({**ok, "realizable": False}) == "invalid"
    assert M.decide({**ok, "expireDate": "2000-01-01T00:00:00Z"}) == "expired"
    assert M.decide({**ok, "isBlocked": True, "sold": True}) == "blocked"
    assert M.decide(None) == "not_found"
