"""A marked item through the whole till, on both drivers: the POS payload with the
scanned code, the permissive-mode check (mocked ЧЗ API on a real socket), the receipt,
and the check result kept in the journal with the sale; a sold code refused (409) with
no receipt, then the same order with another unit's code fiscalised."""

import json
import sys
import uuid as uuidlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))

from marking_helpers import cis, code, online_marking
from ru54fz.atol.harness import start_atol_emulator
from ru54fz.emulator.harness import start_emulator
from ru54fz.marking import MarkingRefused
from till_helpers import service_on_shift


@pytest.fixture(scope="module", params=["shtrih", "atol"])
def register(request, tmp_path_factory):
    work = tmp_path_factory.mktemp(f"till-marking-{request.param}")
    proc = start_atol_emulator(work) if request.param == "atol" else start_emulator(work)
    yield proc
    proc.kill()


@pytest.fixture
def svc(register, checker, tmp_path):
    register.control.reset()
    marking = {"marking": online_marking(checker, timeout=0.5)}
    with service_on_shift(tmp_path / "till.sqlite", register, device=marking) as service:
        yield service


def marked_order(raw, uid=None):
    lines = [
        {
            "name": "Витамины для глаз, БАД",
            "quantity": "1.000",
            "price": "890.00",
            "amount": "890.00",
            "vat_code": 11,
            "payment_method": 4,
            "subject": 33,
            "measure": 0,
            "barcode": "",
            "marking_code": raw,
        },
        {
            "name": "Салфетка для очков",
            "quantity": "1.000",
            "price": "150.00",
            "amount": "150.00",
            "vat_code": 11,
            "payment_method": 4,
            "subject": 1,
            "measure": 0,
            "barcode": "",
        },
    ]
    return {
        "uuid": uid or str(uuidlib.uuid4()),
        "pos_reference": "Order 00001-001-0007",
        "operation": "sale",
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": lines,
        "payments": [{"kind": "card", "amount": "1040.00"}],
        "refund_of": None,
    }


def test_a_marked_sale_keeps_its_check_with_the_receipt(register, checker, svc):
    raw = code()
    checker.set(cis(raw), "valid")
    result = svc.sale(marked_order(raw))
    assert result["state"] == "fiscalised"
    check = result["fiscal"]["extra"]["marking"]["0"]
    assert check["status"] == "valid" and check["source"] == "online" and check["industry_value"]
    stored = json.loads(svc.journal.get(result["uuid"])["fiscal"])
    assert stored["extra"]["marking"]["0"]["request_id"] == check["request_id"]
    doc = register.control.document(result["fiscal"]["fd_number"])
    tags = {int(t): bytes.fromhex(v) for t, v in doc["items"][0]["tlvs"]}
    assert tags[2000] == raw.encode() and check["industry_value"].encode() in tags[1260]


def test_a_sold_code_is_refused_then_another_unit_sells(register, checker, svc):
    sold, fresh = code(serial="SOLDSOLDSOLD1"), code(serial="FRESHFRESHFR1")
    checker.set(cis(sold), "sold")
    checker.set(cis(fresh), "valid")
    before = register.control.state()["last_fd"]
    payload = marked_order(sold)
    with pytest.raises(MarkingRefused) as info:
        svc.sale(payload)
    assert info.value.http_status == 409 and "sold already" in info.value.message
    entry = svc.journal.get(payload["uuid"])
    assert entry["state"] == "failed" and json.loads(entry["error"])["code"] == "marking_refused"
    assert register.control.state()["last_fd"] == before
    # the cashier scans another unit: the same order (uuid) goes through once
    result = svc.sale(marked_order(fresh, uid=payload["uuid"]))
    assert result["state"] == "fiscalised" and register.control.state()["last_fd"] == before + 1
