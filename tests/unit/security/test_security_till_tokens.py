"""Issue 12, item 10 (plain Python): till codes, journal paths, the KKT address allow-list
and per-session till tokens, attacked directly."""

import time

import pytest
from ru54fz import till_policy, tokens
from ru54fz.errors import RequestInvalid

ALLOW = till_policy.parse_allowlist("tcp://127.0.0.1:7781, tcp://10.0.5.20:7700-7799\nserial:///dev/ttyACM*")


@pytest.mark.parametrize("code", ["MSK1-01", "a", "SPB_2", "X" * 32])
def test_valid_till_codes(code):
    assert till_policy.check_till_code(code) == code


@pytest.mark.parametrize(
    "code", ["", "../x", "a/b", "..", "-rf", "_x", "MSK 1", "X" * 33, "a\x00b", "тест", None, 5]
)
def test_till_codes_that_could_name_another_file_are_refused(code):
    with pytest.raises(RequestInvalid):
        till_policy.check_till_code(code)


def test_journal_stays_in_the_data_dir(tmp_path):
    assert till_policy.journal_path(tmp_path, "MSK1-01") == (tmp_path / "MSK1-01.sqlite").resolve()
    with pytest.raises(RequestInvalid):
        till_policy.journal_path(tmp_path, "../../etc/cron.d/x")
    assert not list(tmp_path.parent.glob("*.sqlite"))


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:7781",
        "tcp://10.0.5.20:7700",
        "tcp://10.0.5.20:7799",
        "serial:///dev/ttyACM0",
        "serial:///dev/ttyACM0?baudrate=115200",
    ],
)
def test_allowed_addresses(address):
    assert till_policy.address_allowed(address, ALLOW)


@pytest.mark.parametrize(
    "address",
    [
        "tcp://127.0.0.1:5432",
        "tcp://127.0.0.1:77810",
        "tcp://10.0.5.20:7800",
        "tcp://10.0.5.21:7700",
        "tcp://localhost:7781",
        "tcp://user@127.0.0.1:7781",
        "tcp://127.0.0.1",
        "tcp://127.0.0.1:x",
        "http://127.0.0.1:7781",
        "serial:///dev/../etc/passwd",
        "serial:///etc/passwd",
        "usb://1fc9:8080",
        "tcp://127.0.0.1:7781 ",
        "",
        None,
        "127.0.0.1:7781",
    ],
)
def test_everything_else_is_refused(address):
    assert not till_policy.address_allowed(address, ALLOW)


def test_default_allowlist_has_no_network_address():
    default = till_policy.parse_allowlist(None)
    assert till_policy.address_allowed("serial:///dev/ttyUSB0", default)
    assert not till_policy.address_allowed("tcp://127.0.0.1:7781", default)
    assert not till_policy.address_allowed("http://127.0.0.1:16732", default)


def test_wildcard_hosts_are_never_allowed():
    assert not till_policy.address_allowed("tcp://10.0.0.1:7781", ["tcp://*:7781"])
    assert till_policy.address_allowed("tcp://127.0.0.1:9", ["tcp://127.0.0.1:*"])


KEY = tokens.derive_session_key("central-secret", "MSK1-01", tokens.hash_token("pairing", salt="s"))


def test_session_token_round_trip_and_refusals():
    token = tokens.issue_session_token(KEY, "MSK1-01", "pos42", time.time() + 60)
    assert tokens.check_session_token(token, KEY, "MSK1-01") == "pos42"
    assert "pairing" not in token
    other_key = tokens.derive_session_key("central-secret", "MSK1-01", tokens.hash_token("pairing", salt="t"))
    assert tokens.check_session_token(token, other_key, "MSK1-01") is None, "a new pairing revokes it"
    assert tokens.check_session_token(token, KEY, "SPB1-01") is None, "bound to its till"
    prefix, subject, expires, mac = token.split(".")
    # one character of the MAC changed (never to the character it already was)
    flipped_mac = mac[:-1] + ("1" if mac[-1] == "0" else "0")
    for forged in (
        f"{prefix}.pos43.{expires}.{mac}",
        f"{prefix}.{subject}.{int(expires) + 1}.{mac}",
        f"{prefix}.{subject}.{expires}.{flipped_mac}",
        f"st2.{subject}.{expires}.{mac}",
        token + ".x",
        "",
        None,
        "st1...",
        "st1.pos42.-1." + mac,
        "x" * 500,
    ):
        assert tokens.check_session_token(forged, KEY, "MSK1-01") is None, forged
    expired = tokens.issue_session_token(KEY, "MSK1-01", "pos42", time.time() - 1)
    assert tokens.check_session_token(expired, KEY, "MSK1-01") is None


def test_no_key_no_token():
    assert tokens.derive_session_key("central-secret", "MSK1-01", "") == ""
    with pytest.raises(ValueError):
        tokens.issue_session_token("", "MSK1-01", "bo", time.time() + 60)
    with pytest.raises(ValueError):
        tokens.issue_session_token(KEY, "MSK1-01", "bad.subject", time.time() + 60)
    assert tokens.check_session_token("st1.bo.9999999999.00", "", "MSK1-01") is None


def test_an_atol_address_without_port_is_checked_at_the_port_the_driver_uses():
    """``http://host`` is where the ATOL driver connects on 16732: allowed when that port is,
    refused when only another port is (the check and the connection see the same port)."""
    from ru54fz.atol.driver import AtolDriver

    assert AtolDriver("http://10.0.5.30").port == 16732
    assert till_policy.address_allowed("http://10.0.5.30", ["http://10.0.5.30:16732"])
    assert till_policy.address_allowed("http://10.0.5.30/", ["http://10.0.5.30:16000-17000"])
    assert not till_policy.address_allowed("http://10.0.5.30", ["http://10.0.5.30:80"])
    # a Shtrih TCP address has no default port: it must name one
    assert not till_policy.address_allowed("tcp://10.0.5.30", ["tcp://10.0.5.30:*"])
