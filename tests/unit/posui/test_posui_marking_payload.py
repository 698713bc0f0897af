"""Marked goods in the POS -> till receipt payload (static/src/app/fiscal_payload.js,
run in Node), fed to the till's own builder (ru54fz.ffd.build_receipt): the scanned
code reaches the till as tag 2000 with its GS separators, the item as 1212 = 33; a
marked line without its code, or with more than one unit, never leaves the POS; and a
payload that lies about it (1212 = 33 without a code) is refused by the till too."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marking"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from marking_helpers import GS, code
from ru54fz import errors
from test_posui_fiscal_payload import NODE, build, item, till_accepts

pytestmark = pytest.mark.skipif(not NODE, reason="node is not installed")


def marked(name, amount_kop, raw, qty=1):
    return {**item(name, qty, amount_kop, 11), "marked": True, "markingCode": raw}


def test_marked_item_carries_its_code_to_the_till(module_path):
    raw = code()
    res = build(
        module_path,
        [item("Frame", 1, 100000), marked("Vitamins for the eyes", 89000, raw)],
        [{"kind": "card", "amountKop": 189000}],
    )["ok"]
    line = res["lines"][1]
    assert line["subject"] == 33 and line["marking_code"] == raw and GS in line["marking_code"]
    assert "marking_code" not in res["lines"][0] and res["lines"][0]["subject"] == 1
    doc = till_accepts(res)
    assert doc.items[1].marking_code == raw and doc.items[1].subject == 33
    assert doc.items[0].marking_code == ""


def test_marked_item_without_a_code_is_refused_before_the_till(module_path):
    res = build(
        module_path, [marked("Vitamins for the eyes", 89000, "")], [{"kind": "cash", "amountKop": 89000}]
    )
    assert "ok" not in res
    assert "Vitamins for the eyes" in res["error"] and "marking code" in res["error"]


def test_two_units_on_one_marked_line_are_refused(module_path):
    res = build(
        module_path,
        [marked("Vitamins for the eyes", 178000, code(), qty=2)],
        [{"kind": "cash", "amountKop": 178000}],
    )
    assert "ok" not in res and "one unit per line" in res["error"]


def test_discount_on_a_marked_line_keeps_the_code(module_path):
    raw = code(serial="Zz9!abcDEF123")
    res = build(
        module_path,
        [marked("Eye drops", 50000, raw)],
        [{"kind": "cash", "amountKop": 45000}],
        discounts=[{"vatCode": 11, "amountKop": -5000}],
    )["ok"]
    assert [(ln["amount"], ln["marking_code"]) for ln in res["lines"]] == [("450.00", raw)]
    till_accepts(res)


def test_till_refuses_a_marked_item_without_its_code():
    """Server side: a POS (or anything else) sending 1212 = 33 without the code."""
    built = {
        "lines": [
            {
                "name": "Vitamins",
                "quantity": "1.000",
                "price": "890.00",
                "amount": "890.00",
                "vat_code": 11,
                "payment_method": 4,
                "subject": 33,
                "measure": 0,
                "barcode": "",
            }
        ],
        "payments": [{"kind": "cash", "amount": "890.00"}],
    }
    with pytest.raises(errors.DocumentInvalid) as exc:
        till_accepts(built)
    assert exc.value.field == "items[0].marking_code"
