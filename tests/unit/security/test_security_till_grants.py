"""Manager-only till actions need a store manager's grant (issue 12, item 4).

Every cashier's browser holds the till's pairing token, so the attacker here is a
token holder: the real TillService (``manager_grants`` on, as the till proxy runs it)
against the KKT emulator over TCP, and the till proxy itself -- a database-less Odoo
over real HTTP.  A close_shift, cash_out or correction without a grant, with a forged,
expired, other-till, other-action or replayed grant is refused (403) and nothing
reaches the FN, the drawer or the journal; a store manager's grant works once.
"""

import json
import sys
import time
import uuid as uuidlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from local_odoo import till_proxy
from ru54fz import grants, tokens
from ru54fz.emulator.harness import start_emulator
from security_central_stub import StubCentral
from till_helpers import close_service, make_service, order, service_on_shift

TILL = "T1"
MANAGER = "Мария Управляющая"


@pytest.fixture(scope="module")
def keys():
    return grants.generate_keypair()


@pytest.fixture
def svc(tmp_path, emu, keys):
    with service_on_shift(
        tmp_path / "journal.sqlite", emu, manager_grants=True, grant_public_key=keys[1]
    ) as service:
        yield service


def grant(keys, action, till=TILL, **kw):
    return grants.issue(keys[0], till, action, MANAGER, uid=7, **kw)[0]


def new_uuid():
    return str(uuidlib.uuid4())


def bad_grants(keys, action):
    """What a cashier could present instead of a manager's grant for ``action``."""
    forged_keys = grants.generate_keypair()
    valid = grant(keys, action)
    version, _body, signature = valid.split(".")
    # the claims of a grant for another till, under this grant's signature
    other_claims = grants._b64e(
        json.dumps(
            {
                "till": "T2",
                "act": action,
                "uid": 7,
                "user": MANAGER,
                "iat": int(time.time()),
                "exp": int(time.time()) + 300,
                "nonce": "0" * 32,
            }
        ).encode()
    )
    return {
        "missing": None,
        "garbage": "let-me-in",
        "forged (another key)": grant(forged_keys, action),
        "tampered claims": f"{version}.{other_claims}.{signature}",
        "expired": grant(keys, action, now=time.time() - 3600),
        "other till": grant(keys, action, till="T2"),
        "other action": grant(keys, "cash_out" if action != "cash_out" else "close_shift"),
    }


def state(svc, emu):
    return (
        svc.device.fn_status().last_fd_number,
        svc.journal.counts(),
        emu.control.state()["cash_in_drawer"],
    )


def test_cashier_close_shift_without_a_valid_grant_is_refused_and_nothing_printed(svc, emu, keys):
    before = state(svc, emu)
    for label, bad in bad_grants(keys, "close_shift").items():
        with pytest.raises(grants.GrantRefused) as exc:
            svc.close_shift({"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}}, grant=bad)
        assert exc.value.http_status == 403 and exc.value.code == "manager_grant_required", label
    assert state(svc, emu) == before
    assert svc.device.fn_status().shift_open


def test_manager_grant_closes_the_shift_once_and_cannot_be_replayed(svc, emu, keys):
    before = svc.device.fn_status().last_fd_number
    g = grant(keys, "close_shift")
    op = {"uuid": new_uuid(), "cashier": {"name": MANAGER}}
    reply = svc.close_shift(op, grant=g)
    assert reply["state"] == "fiscalised" and reply["fiscal"]["fd_type"] == 5
    assert svc.device.fn_status().last_fd_number == before + 1
    # the POS repeating the same operation with the same grant gets the same answer
    assert svc.close_shift(op, grant=g) == reply
    # the journal keeps who authorised it (central audits it from the push)
    entry = svc.journal.get(op["uuid"])
    assert json.loads(entry["payload"])["manager"]["user"] == MANAGER
    # the same grant for another operation: replayed, refused
    svc.open_shift({"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}})
    fd = svc.device.fn_status().last_fd_number
    with pytest.raises(grants.GrantRefused, match="already used"):
        svc.close_shift({"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}}, grant=g)
    assert svc.device.fn_status().last_fd_number == fd and svc.device.fn_status().shift_open


def test_cash_out_needs_a_manager_grant(svc, emu, keys):
    svc.cash_in({"uuid": new_uuid(), "amount": 500000, "cashier": "Анна Кассирова"})  # any cashier
    before = state(svc, emu)
    for bad in bad_grants(keys, "cash_out").values():
        with pytest.raises(grants.GrantRefused):
            svc.cash_out({"uuid": new_uuid(), "amount": 500000, "cashier": "Анна Кассирова"}, grant=bad)
    assert state(svc, emu) == before, "a refused cash out left a trace"
    svc.cash_out({"uuid": new_uuid(), "amount": 200000, "cashier": MANAGER}, grant=grant(keys, "cash_out"))
    assert emu.control.state()["cash_in_drawer"] == before[2] - 200000


def test_correction_needs_a_manager_grant(svc, emu, keys):
    corr = order(correction={"type": 0, "basis_date": "2026-01-10", "basis_number": ""})
    before = state(svc, emu)
    for bad in bad_grants(keys, "correction").values():
        with pytest.raises(grants.GrantRefused):
            svc.correction(dict(corr, uuid=new_uuid()), grant=bad)
    assert state(svc, emu) == before
    reply = svc.correction(corr, grant=grant(keys, "correction"))
    assert reply["fiscal"]["fd_type"] == 31
    assert svc.device.fn_status().last_fd_number == before[0] + 1


def test_a_till_without_a_grant_key_refuses_manager_actions(tmp_path, emu, keys):
    s = make_service(tmp_path / "nokey.sqlite", emu, manager_grants=True, grant_public_key="")
    try:
        s.start()
        s.open_shift({"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}})
        fd = s.device.fn_status().last_fd_number
        with pytest.raises(grants.GrantRefused, match="no manager-grant key"):
            s.close_shift(
                {"uuid": new_uuid(), "cashier": {"name": MANAGER}}, grant=grant(keys, "close_shift")
            )
        assert s.device.fn_status().last_fd_number == fd
    finally:
        close_service(s)


# -- the same attack over the till proxy's HTTP API (database-less Odoo) ------------------

TOKEN = "grants-pairing-token"


@pytest.fixture(scope="module")
def http_till(tmp_path_factory, keys):
    pytest.importorskip("requests")
    work = tmp_path_factory.mktemp("grants_http")
    with start_emulator(work) as emu, StubCentral(till_code=TILL).start() as central:
        till = {
            "till_code": TILL,
            "token_hash": tokens.hash_token(TOKEN),
            "allowed_origin": "http://pos.example.ru",
            "device": emu.config,
            "journal_path": str(work / "journal.sqlite"),
            "grant_public_key": keys[1],
            "central_url": central.url,
            "central_token": central.token,
            "service": {"autopush": False},
        }
        with till_proxy(work, [till]) as url:
            yield url, emu, central


def post(url, action, body, grant_token=None):
    import requests

    headers = {"Content-Type": "application/json", "X-Till-Token": TOKEN}
    if grant_token is not None:
        headers["X-Till-Grant"] = grant_token
    return requests.post(
        f"{url}/hw_proxy/ru54fz/{action}", data=json.dumps(body), headers=headers, timeout=60
    )


def test_over_http_a_token_holder_cannot_close_the_shift_or_take_cash_out(http_till, keys):
    url, emu, _central = http_till
    assert (
        post(url, "open_shift", {"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}}).status_code
        == 200
    )
    assert post(url, "cash_in", {"uuid": new_uuid(), "amount": 300000, "cashier": "Анна"}).status_code == 200
    before = emu.control.state()
    for action, body in (
        ("close_shift", {"uuid": new_uuid(), "cashier": {"name": "Анна Кассирова"}}),
        ("cash_out", {"uuid": new_uuid(), "amount": 300000, "cashier": "Анна"}),
    ):
        for label, bad in bad_grants(keys, action).items():
            r = post(url, action, dict(body, uuid=new_uuid()), grant_token=bad)
            assert r.status_code == 403, (action, label, r.text)
            assert r.json()["error"]["code"] == "manager_grant_required"
    after = emu.control.state()
    assert (after["last_fd"], after["cash_in_drawer"]) == (before["last_fd"], before["cash_in_drawer"])
    # the store manager's grant, passed by the POS in X-Till-Grant
    r = post(
        url,
        "cash_out",
        {"uuid": new_uuid(), "amount": 100000, "cashier": MANAGER},
        grant_token=grant(keys, "cash_out"),
    )
    assert r.status_code == 200, r.text
    r = post(
        url,
        "close_shift",
        {"uuid": new_uuid(), "cashier": {"name": MANAGER}},
        grant_token=grant(keys, "close_shift"),
    )
    assert r.status_code == 200 and r.json()["fiscal"]["fd_type"] == 5
    assert emu.control.state()["last_fd"] == before["last_fd"] + 1


def test_over_http_a_refund_of_a_made_up_sale_is_refused(http_till, keys):
    """Issue 12 item 3 over the till proxy's HTTP API: the 50,000 RUB cash refund of a
    made-up uuid, with the client's own payments and OFD confirmation, is refused (409)
    after asking central; a store manager's override with a reason goes through."""
    url, emu, central = http_till
    assert post(url, "open_shift", {"uuid": new_uuid(), "cashier": {"name": "Анна"}}).status_code in (
        200,
        502,
    )
    assert post(url, "cash_in", {"uuid": new_uuid(), "amount": 5000000, "cashier": "Анна"}).status_code == 200
    made_up = new_uuid()
    lines = [
        {"name": "Оправа", "quantity": "1.000", "price": "50000.00", "amount": "50000.00", "vat_code": 6}
    ]
    cash = [{"kind": "cash", "amount": "50000.00"}]
    refund = order(
        operation="refund",
        lines=lines,
        payments=cash,
        refund_of={"uuid": made_up, "payments": cash, "ofd_confirmed": True, "fiscal_sign": 1},
    )
    before = emu.control.state()
    r = post(url, "receipt", refund)
    assert r.status_code == 409, r.text
    assert r.json()["error"]["reason"] == "original_unverified"
    assert made_up in central.lookups
    after = emu.control.state()
    assert (after["last_fd"], after["cash_in_drawer"]) == (before["last_fd"], before["cash_in_drawer"])
    refund["refund_of"]["override_reason"] = "продажа по бумажному чеку"
    r = post(url, "receipt", refund, grant_token=grant(keys, "refund_override"))
    assert r.status_code == 200, r.text
    assert emu.control.state()["last_fd"] == before["last_fd"] + 1
