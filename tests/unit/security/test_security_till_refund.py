"""Refund of a sale that never existed (issue 12, item 3).

The attack: a pairing-token holder posts a refund naming a made-up original and
brings ``refund_of.payments`` (50,000 RUB cash) and ``refund_of.ofd_confirmed: true``
itself.  The till must take an unknown original's facts from central only (it must
exist there, for this till's company, be OFD-confirmed and not over-refunded) and
refuse (409) otherwise, with nothing on the FN or in the journal.  A store manager's
``refund_override`` grant (with a reason) still lets a refund through, recorded in
the journal for central's audit.  The same holds for a correction with operation
refund.  Real TillService + KKT emulator over TCP + a central stub over HTTP.
"""

import json
import sys
import uuid as uuidlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from ru54fz import errors, grants
from security_central_stub import StubCentral
from till_helpers import order, service_on_shift

MANAGER = "Мария Управляющая"
FIFTY_K_CASH = [{"kind": "cash", "amount": "50000.00"}]


@pytest.fixture(scope="module")
def keys():
    return grants.generate_keypair()


@pytest.fixture
def central():
    with StubCentral().start() as stub:
        yield stub


@pytest.fixture
def svc(tmp_path, emu, keys, central):
    with service_on_shift(
        tmp_path / "journal.sqlite",
        emu,
        manager_grants=True,
        grant_public_key=keys[1],
        central_url=central.url,
        central_token=central.token,
    ) as service:
        yield service


def new_uuid():
    return str(uuidlib.uuid4())


def fifty_thousand_cash_refund(original_uuid, **refund_of):
    """The attacker's refund: 50,000 RUB in cash back for ``original_uuid``."""
    lines = [
        {"name": "Оправа", "quantity": "1.000", "price": "50000.00", "amount": "50000.00", "vat_code": 6}
    ]
    return order(
        operation="refund",
        lines=lines,
        payments=FIFTY_K_CASH,
        refund_of=dict(
            {"uuid": original_uuid, "fiscal_sign": 1, "payments": FIFTY_K_CASH, "ofd_confirmed": True},
            **refund_of,
        ),
    )


def untouched(svc):
    return svc.device.fn_status().last_fd_number, svc.journal.counts()


def test_refund_of_a_made_up_sale_is_refused_and_nothing_fiscalised(svc, central):
    before = untouched(svc)
    made_up = new_uuid()
    with pytest.raises(errors.Conflict) as exc:
        svc.sale(fifty_thousand_cash_refund(made_up))
    assert exc.value.http_status == 409
    assert (
        "cannot be verified" in exc.value.message
        and "central server has no fiscal document" in exc.value.message
    )
    assert central.lookups == [made_up]  # central was asked; the client's word was not taken
    assert untouched(svc) == before


def test_refund_refused_while_central_cannot_vouch(svc, central):
    before = untouched(svc)
    unconfirmed = new_uuid()
    central.add_sale(unconfirmed, {"cash": 5000000}, ofd_confirmed=False)
    with pytest.raises(errors.Conflict, match="OFD has not confirmed"):
        svc.sale(fifty_thousand_cash_refund(unconfirmed))
    central.stop()  # central unreachable: still refused, never trusted
    with pytest.raises(errors.Conflict, match="cannot be reached"):
        svc.sale(fifty_thousand_cash_refund(new_uuid()))
    assert untouched(svc) == before


def test_central_facts_replace_the_clients_and_bound_the_refund(svc, central):
    sold = new_uuid()
    # central: a 50,000 RUB card sale of another till of the company, 20,000 already refunded there
    central.add_sale(sold, {"electronic": 5000000}, refunds=[(new_uuid(), {"electronic": 2000000})])
    before = untouched(svc)
    # the client claims it was paid in cash: central says card, so no cash back
    with pytest.raises(errors.DocumentInvalid, match="not paid by cash"):
        svc.sale(fifty_thousand_cash_refund(sold))
    # 50,000 by card back would exceed what is left (30,000)
    card_50k = fifty_thousand_cash_refund(sold)
    card_50k["payments"] = [{"kind": "card", "amount": "50000.00"}]
    with pytest.raises(errors.DocumentInvalid, match="in total"):
        svc.sale(card_50k)
    assert untouched(svc) == before
    # what is left, by card: fiscalised, with central's fiscal sign in 1192
    lines = [
        {"name": "Оправа", "quantity": "1.000", "price": "30000.00", "amount": "30000.00", "vat_code": 6}
    ]
    ok = order(
        operation="refund",
        lines=lines,
        payments=[{"kind": "card", "amount": "30000.00"}],
        refund_of={"uuid": sold},
    )
    reply = svc.sale(ok)
    doc = svc.device.find_document(reply["fiscal"]["fd_number"])
    assert doc.operation == 2 and doc.total == 3000000
    assert json.loads(svc.journal.get(ok["uuid"])["payload"])["additional"] == "1234567890"


def test_store_manager_override_is_possible_and_recorded(svc, central, keys):
    made_up = new_uuid()
    before = untouched(svc)
    # a cashier's "override": no grant, a forged one, a grant for another action
    for bad in (
        None,
        grants.issue(grants.generate_keypair()[0], "T1", "refund_override", "x")[0],
        grants.issue(keys[0], "T1", "close_shift", MANAGER)[0],
    ):
        with pytest.raises(grants.GrantRefused if bad else errors.Conflict):
            svc.sale(fifty_thousand_cash_refund(made_up, override_reason="покупатель ждёт"), grant=bad)
    assert untouched(svc) == before
    svc.cash_in({"uuid": new_uuid(), "amount": 5000000, "cashier": "Анна"})  # cash to pay back
    grant = grants.issue(keys[0], "T1", "refund_override", MANAGER, uid=7)[0]
    refund = fifty_thousand_cash_refund(made_up)
    with pytest.raises(errors.Conflict, match="may override"):  # no reason: no override asked for
        svc.sale(refund, grant=grant)
    refund["refund_of"]["override_reason"] = "  "
    with pytest.raises(errors.RequestInvalid, match="override_reason"):
        svc.sale(refund, grant=grant)
    # the POS repeats the same refund, now with the manager's reason (a grant serves one operation)
    refund["refund_of"]["override_reason"] = "чек продажи утерян, продажа по бумажному журналу"
    reply = svc.sale(refund, grant=grant)
    assert reply["state"] == "fiscalised"
    manager = json.loads(svc.journal.get(refund["uuid"])["payload"])["manager"]
    assert manager["user"] == MANAGER and manager["action"] == "refund_override"
    assert manager["override_of"] == made_up and "утерян" in manager["reason"]


def test_refund_correction_of_an_unknown_sale_needs_the_same_check(svc, central, keys):
    made_up = new_uuid()
    corr = fifty_thousand_cash_refund(made_up)
    corr["correction"] = {"type": 0, "basis_date": "2026-01-10", "basis_number": ""}
    before = untouched(svc)
    grant = grants.issue(keys[0], "T1", "correction", MANAGER)[0]
    with pytest.raises(grants.GrantRefused):  # a cashier: no grant at all
        svc.correction(dict(corr, uuid=new_uuid()))
    with pytest.raises(errors.Conflict, match="cannot be verified"):  # a manager, but nothing vouches
        svc.correction(corr, grant=grant)
    corr_no_original = dict(corr, uuid=new_uuid(), refund_of=None)
    with pytest.raises(errors.RequestInvalid, match="refund_of"):
        svc.correction(corr_no_original, grant=grants.issue(keys[0], "T1", "correction", MANAGER)[0])
    assert untouched(svc) == before
    # the manager's correction with a reason is the audited override
    svc.cash_in({"uuid": new_uuid(), "amount": 5000000, "cashier": "Анна"})
    corr["refund_of"]["override_reason"] = "возврат по предписанию ФНС"
    reply = svc.correction(corr, grant=grant)
    assert reply["fiscal"]["fd_type"] == 31
    assert json.loads(svc.journal.get(corr["uuid"])["payload"])["manager"]["override_of"] == made_up
