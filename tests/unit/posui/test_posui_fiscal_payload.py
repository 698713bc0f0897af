"""The POS's receipt-line builder (static/src/app/fiscal_payload.js) run in Node, its
output fed to the till's own FFD builder and validator (ru54fz.ffd.build_receipt).

What a cashier would notice if this were wrong: a receipt refused by the till (item
sums that do not add up to the payments, a price that is not price x quantity), or a
1079 price that is not the price after discount."""

import json
import shutil
import subprocess
from decimal import Decimal

import pytest
from ru54fz import errors, ffd

NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(not NODE, reason="node is not installed")


def run_js(module_path, expr):
    script = (
        f"import * as fp from {json.dumps(str(module_path))};\n"
        f"try {{ console.log(JSON.stringify({{ok: {expr}}})); }}\n"
        f"catch (e) {{ console.log(JSON.stringify({{error: e.message}})); }}\n"
    )
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return json.loads(out)


def build(module_path, lines, payments, discounts=()):
    data = json.dumps({"lines": lines, "payments": payments, "discounts": list(discounts)})
    return run_js(module_path, f"fp.buildFiscalLines({data})")


def till_accepts(built, operation="sale"):
    """The till's builder + validator on the payload the POS would send."""
    payload = {
        "uuid": "posui-test-0001",
        "operation": operation,
        "cashier": {"name": "Irina"},
        "tax_system": 1,
        "lines": built["lines"],
        "payments": built["payments"],
        "refund_of": None,
    }
    return ffd.build_receipt(payload)


def item(name, qty, amount_kop, vat=11):
    return {"name": name, "qtyMilli": qty * 1000, "amountKop": amount_kop, "vatCode": vat}


def test_plain_sale_two_vat_rates(module_path):
    res = build(
        module_path,
        [item("Frame", 1, 100000, 11), item("Cleaner", 2, 50000, 2)],
        [{"kind": "cash", "amountKop": 150000}],
    )["ok"]
    doc = till_accepts(res)
    assert doc.total == 150000
    assert {it.vat for it in doc.items} == {11, 2}
    assert [(it.price, it.quantity) for it in doc.items] == [(100000, 1000), (25000, 2000)]


def test_order_discount_spread_per_vat_and_prices_after_discount(module_path):
    # 10 % order discount as Odoo keeps it: one negative line per tax
    res = build(
        module_path,
        [item("Frame", 1, 100000, 11), item("Lens", 2, 60000, 6)],
        [{"kind": "card", "amountKop": 144000}],
        discounts=[{"vatCode": 11, "amountKop": -10000}, {"vatCode": 6, "amountKop": -6000}],
    )["ok"]
    doc = till_accepts(res)
    assert doc.total == 144000
    by_name = {}
    for it in doc.items:
        by_name.setdefault(it.name, []).append(it)
    assert by_name["Frame"][0].price == 90000  # 1079 after the discount
    assert sum(it.amount for it in by_name["Lens"]) == 54000
    assert all(it.price * it.quantity // 1000 == it.amount for it in doc.items)


def test_indivisible_discount_splits_the_line_exactly(module_path):
    # 3 units for 1000.00 with 0.01 off: 999.99 / 3 is not a kopeck price
    res = build(
        module_path,
        [item("Case", 3, 100000, 11)],
        [{"kind": "cash", "amountKop": 99999}],
        discounts=[{"vatCode": 11, "amountKop": -1}],
    )["ok"]
    doc = till_accepts(res)
    assert doc.total == 99999
    assert sorted((it.price, it.quantity) for it in doc.items) == [(33333, 3000)]
    res = build(
        module_path,
        [item("Case", 3, 100000, 11)],
        [{"kind": "cash", "amountKop": 99998}],
        discounts=[{"vatCode": 11, "amountKop": -2}],
    )["ok"]
    doc = till_accepts(res)
    assert doc.total == 99998
    assert sorted((it.price, it.quantity) for it in doc.items) == [(33332, 1000), (33333, 2000)]


def test_loyalty_reward_larger_than_one_rate_goes_to_the_others(module_path):
    # a reward line whose tax no item carries is spread over every item
    res = build(
        module_path,
        [item("Frame", 1, 50000, 11), item("Lens", 1, 50000, 6)],
        [{"kind": "cash", "amountKop": 90000}],
        discounts=[{"vatCode": 2, "amountKop": -10000}],
    )["ok"]
    doc = till_accepts(res)
    assert sorted(it.amount for it in doc.items) == [45000, 45000]


def test_cash_rounding_folds_into_the_items(module_path):
    # total 1234.56, paid 1234.50 in cash (rounding to 0.10 down): tag 1020 = what was paid
    res = build(
        module_path,
        [item("Frame", 1, 100000, 11), item("Cleaner", 1, 23456, 2)],
        [{"kind": "cash", "amountKop": 123450}],
    )["ok"]
    doc = till_accepts(res)
    assert doc.total == 123450 == doc.payments.cash
    assert sum(it.amount for it in doc.items) == 123450


def test_split_payment_cash_and_card(module_path):
    res = build(
        module_path,
        [item("Frame", 1, 150000, 11)],
        [{"kind": "cash", "amountKop": 50000}, {"kind": "card", "amountKop": 100000}],
    )["ok"]
    doc = till_accepts(res)
    assert (doc.payments.cash, doc.payments.electronic) == (50000, 100000)


def test_weighed_item_residue_is_absorbed_by_a_whole_unit_line(module_path):
    lines = [
        {"name": "Solution", "qtyMilli": 333, "amountKop": 10000, "vatCode": 2},
        item("Frame", 1, 100000),
    ]
    res = build(module_path, lines, [{"kind": "cash", "amountKop": 110000}])["ok"]
    doc = till_accepts(res)
    assert doc.total == 110000


def test_discount_above_the_price_is_refused_with_a_message(module_path):
    res = build(
        module_path,
        [item("Frame", 1, 1000, 11)],
        [{"kind": "cash", "amountKop": 0}],
        discounts=[{"vatCode": 11, "amountKop": -2000}],
    )
    assert "error" in res and "exceed" in res["error"]


def test_money_helpers(module_path):
    res = run_js(
        module_path,
        "[fp.toKop(1.005), fp.toKop(1234.5), fp.kopToStr(-105), "
        "fp.milliToStr(2500), fp.lineSum(33333, 3000), fp.spread(100, [1, 1, 1])]",
    )["ok"]
    assert res[:5] == [101, 123450, "-1.05", "2.500", 99999]
    assert sorted(res[5]) == [33, 33, 34] and sum(res[5]) == 100
    assert Decimal("0.01") * res[4] == Decimal("999.99")


def test_vat_code_defaults_from_the_rate(module_path):
    res = run_js(
        module_path,
        "[fp.vatCodeOfTax({amount: 22}), fp.vatCodeOfTax({amount: 10}), "
        "fp.vatCodeOfTax({amount: 0}), fp.vatCodeOfTax({ffd_vat_code: '12', amount: 22}), "
        "fp.vatCodeOfTax(null)]",
    )["ok"]
    assert res == [11, 2, 6, 12, 6]
    assert "no 54-FZ VAT rate" in run_js(module_path, "fp.vatCodeOfTax({name: 'Odd', amount: 13})")["error"]


def test_till_refuses_a_payload_that_does_not_add_up():
    # the guard the POS builder exists for: the validator rejects mismatching sums
    with pytest.raises(errors.DocumentInvalid):
        ffd.build_receipt(
            {
                "uuid": "posui-test-0002",
                "operation": "sale",
                "cashier": {"name": "I"},
                "lines": [
                    {
                        "name": "Frame",
                        "quantity": "3.000",
                        "price": "333.33",
                        "amount": "1000.00",
                        "vat_code": 11,
                    }
                ],
                "payments": [{"kind": "cash", "amount": "1000.00"}],
            }
        )
