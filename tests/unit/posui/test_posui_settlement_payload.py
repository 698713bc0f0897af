"""The POS's lab-order receipt builder (static/src/app/optical_sale/settlement_payload.js) run
in Node on the lines the lab order computes (opticslib.fiscal, the code behind
optics.lab.order._get_fiscal_settlement_lines), its payload fed to the till's own FFD builder
and validator (ru54fz.ffd.build_receipt).

What a cashier would notice if this were wrong: a prepayment or hand-over receipt refused by
the till, a hand-over that does not offset the prepayment (1215), or a refund paid back by
another means than the prepayment was paid."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from opticslib import fiscal
from ru54fz import errors, ffd

ROOT = Path(__file__).resolve().parents[3]
APP = ROOT / "addons" / "optics_pos_ru54fz" / "static" / "src" / "app"
NODE = shutil.which("node")
FAKE_T = (
    "const _t = (s, ...a) => (a.length === 1 && typeof a[0] === 'object') ? "
    "s.replace(/%\\((\\w+)\\)s/g, (m, k) => a[0][k]) : a.reduce((acc, v) => acc.replace('%s', v), s);"
)

pytestmark = pytest.mark.skipif(not NODE, reason="node is not installed")


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("posui_settlement")
    base = (APP / "fiscal_payload.js").read_text()
    base = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$', lambda _m: FAKE_T, base, flags=re.M
    )
    (tmp / "fiscal_payload.mjs").write_text(base)
    code = (APP / "optical_sale" / "settlement_payload.js").read_text()
    code = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$', lambda _m: FAKE_T, code, flags=re.M
    )
    code = code.replace('from "../fiscal_payload";', 'from "./fiscal_payload.mjs";')
    assert "@web/" not in code and "@point_of_sale" not in code, (
        "settlement_payload.js must stay free of Odoo imports"
    )
    (tmp / "settlement_payload.mjs").write_text(code)
    return tmp / "settlement_payload.mjs"


def build(module_path, stage, settlement, payments, change=0):
    """buildSettlementPayload on an order paid by ``payments`` [(kind, roubles)]."""
    order = {"uuid": "lab-order-pay-0001", "pos_reference": "Order 00001-001-0001"}
    script = f"""
import * as sp from {json.dumps(str(module_path))};
const order = {json.dumps(order)};
order.payment_ids = {json.dumps(payments)}.map(([kind, amount]) => ({{
    amount, get_amount: () => amount, is_change: false,
    payment_method_id: {{ is_cash_count: kind === "cash", type: "bank" }} }}));
order.get_change = () => {change};
try {{
    console.log(JSON.stringify({{ok: sp.buildSettlementPayload(order, {{stage: {json.dumps(stage)},
        settlement: {json.dumps(settlement)}}}, {{cashierName: "Irina", taxSystem: 1}})}}));
}} catch (e) {{ console.log(JSON.stringify({{error: e.message}})); }}
"""
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return json.loads(out)


KIT = [
    fiscal.KitLine("Frame Ray 52-18", 610000, vat_code=11, barcode="4600000000022"),
    fiscal.KitLine("SV 1.60 lens", 250000, vat_code=6),
    fiscal.KitLine("SV 1.60 lens", 250000, vat_code=6),
    fiscal.KitLine("Lens edging and mounting", 80000, vat_code=6, subject=fiscal.SUBJECT_SERVICE),
]


def test_advance_cash_and_card(module_path):
    lines = fiscal.prepayment_lines(KIT, 300000, "LAB/2026/00001")
    res = build(
        module_path,
        "prepayment",
        {"lines": lines, "total": 300000, "prepaid": 0, "due": 300000},
        [["cash", 1000], ["card", 2000]],
    )["ok"]
    doc = ffd.build_receipt(res)
    assert doc.total == 300000
    assert sorted((it.payment_method, it.subject, it.vat) for it in doc.items) == [(3, 10, 6), (3, 10, 12)]
    assert (doc.payments.cash, doc.payments.electronic, doc.payments.prepayment) == (100000, 200000, 0)


def test_cash_change_is_not_part_of_the_receipt(module_path):
    lines = fiscal.prepayment_lines(KIT, 300000, "LAB/2026/00001")
    res = build(module_path, "prepayment", {"lines": lines, "total": 300000}, [["cash", 5000]], change=2000)[
        "ok"
    ]
    assert ffd.build_receipt(res).payments.cash == 300000


def test_full_prepayment_sells_the_goods_at_calculated_rates(module_path):
    lines = fiscal.prepayment_lines(KIT, 1190000, "LAB/2026/00001")
    res = build(module_path, "prepayment", {"lines": lines, "total": 1190000}, [["card", 11900]])["ok"]
    doc = ffd.build_receipt(res)
    assert sorted((it.payment_method, it.vat, it.amount) for it in doc.items) == [
        (1, 6, 80000),
        (1, 6, 250000),
        (1, 6, 250000),
        (1, 12, 610000),
    ]


def test_handover_offsets_the_prepayment_in_1215(module_path):
    settlement = {"lines": fiscal.handover_lines(KIT), "total": 1190000, "prepaid": 300000, "due": 890000}
    res = build(module_path, "handover", settlement, [["card", 8900]])["ok"]
    doc = ffd.build_receipt(res)
    assert doc.total == 1190000
    assert {it.payment_method for it in doc.items} == {4}
    assert (doc.payments.electronic, doc.payments.prepayment) == (890000, 300000)


def test_underpaid_handover_is_refused_before_the_till(module_path):
    settlement = {"lines": fiscal.handover_lines(KIT), "total": 1190000, "prepaid": 300000, "due": 890000}
    res = build(module_path, "handover", settlement, [["cash", 8000]])
    assert "do not match" in res["error"]


def test_refund_only_by_the_means_of_the_prepayment(module_path):
    lines = fiscal.prepayment_lines(KIT, 300000, "LAB/2026/00001")
    refund = {
        "lines": lines,
        "total": 300000,
        "payments": {"cash": 100000, "card": 200000},
        "refund_of": {"uuid": "prepay-uuid-0001", "fiscal_sign": 123456, "fd_number": 7},
    }
    res = build(module_path, "prepayment_refund", refund, [["cash", -3000]])
    assert "refund it the same way" in res["error"]
    res = build(module_path, "prepayment_refund", refund, [["cash", -1000], ["card", -2000]])["ok"]
    assert res["operation"] == "refund" and res["refund_of"]["uuid"] == "prepay-uuid-0001"
    doc = ffd.build_receipt(res, original_payments=ffd.Payments(cash=100000, electronic=200000))
    assert doc.operation == 2 and doc.additional == "123456"
    with pytest.raises(errors.DocumentInvalid):
        ffd.build_receipt(dict(res, lines=res["lines"][:1]))
