"""FFD 1.2 builder / validator (FFD documents)."""

import copy
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ru54fz import errors, ffd
from ru54fz.device import FiscalResult


def order(**kw):
    d = {
        "uuid": "0b7f6a8e-1111-4222-8333-444455556666",
        "pos_reference": "Order 00001-001-0001",
        "operation": "sale",
        "cashier": {"name": "Кассир Иванова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": [
            {
                "name": "Линза очковая 1.6",
                "quantity": "2.000",
                "price": "1500.00",
                "amount": "3000.00",
                "vat_code": 6,
                "payment_method": 4,
                "subject": 1,
                "measure": 0,
                "barcode": "4601234567893",
            },
            {
                "name": "Солнцезащитные очки",
                "quantity": "1",
                "price": "1234.50",
                "amount": "1234.50",
                "vat_code": 11,
            },
        ],
        "payments": [{"kind": "cash", "amount": "1000.00"}, {"kind": "card", "amount": "3234.50"}],
        "refund_of": None,
    }
    d.update(kw)
    return d


def test_build_sale_converts_to_kopecks_and_computes_vat():
    r = ffd.build_receipt(order())
    assert r.operation == 1 and r.total == 423450
    assert r.payments == ffd.Payments(cash=100000, electronic=323450)
    assert [it.quantity for it in r.items] == [2000, 1000]
    assert r.items[0].product_code == "4601234567893"
    # 22 % contained in 1234.50: 1234.50 * 22 / 122 = 222.61
    assert r.items[1].vat_amount == 22261
    assert r.vat_totals == {6: 0, 11: 22261}


def test_vat_22_122_and_2026_codes():
    for code, expected in ((12, 22261), (11, 22261), (1, 20575), (2, 11223), (6, 0), (5, 0)):
        assert ffd.item_vat(123450, code) == expected, code


def test_round_trip_json():
    r = ffd.build_receipt(order())
    d = json.loads(json.dumps(ffd.to_dict(r)))
    assert ffd.from_dict(d) == r
    c = ffd.build_correction(
        order(
            correction={
                "type": 1,
                "basis_date": "2026-01-10",
                "basis_number": "12-34",
                "fiscal_sign": 3849322,
            }
        )
    )
    assert isinstance(c, ffd.CorrectionReceipt) and c.additional == "3849322"
    assert ffd.from_dict(json.loads(json.dumps(ffd.to_dict(c)))) == c


@pytest.mark.parametrize(
    "mutate, field, text",
    [
        (
            lambda o: o["payments"].__setitem__(1, {"kind": "card", "amount": "3000.00"}),
            "payments",
            "do not equal",
        ),
        (lambda o: o["lines"][0].__setitem__("quantity", "0"), "lines[0].quantity", "positive"),
        (lambda o: o["lines"][0].__setitem__("quantity", "-1"), "lines[0].quantity", "positive"),
        (lambda o: o["lines"][1].__setitem__("vat_code", 13), "lines[1].vat_code", "1199"),
        (lambda o: o["lines"][0].__setitem__("name", "x" * 129), "items[0].name", "limit is 128"),
        (lambda o: o["lines"][0].__setitem__("name", " "), "items[0].name", "mandatory"),
        (lambda o: o["lines"][0].__setitem__("name", "Очки 😎"), "items[0].name", "CP866"),
        (lambda o: o["lines"][0].__setitem__("amount", "3000.01"), "items[0].amount", "price × quantity"),
        (lambda o: o["lines"][0].__setitem__("subject", 28), "items[0].subject", "1212"),
        (lambda o: o["lines"][0].__setitem__("payment_method", 8), "items[0].payment_method", "1214"),
        (lambda o: o["lines"][0].__setitem__("measure", 13), "items[0].measure", "2108"),
        (lambda o: o.__setitem__("tax_system", 3), "tax_system", "1055"),
        (lambda o: o.__setitem__("buyer_contact", "not-an-address"), "buyer_contact", "e-mail"),
        (lambda o: o.__setitem__("buyer_contact", "a" * 60 + "@b.ru"), "buyer_contact", "limit is 64"),
        (lambda o: o.__setitem__("cashier", {"name": "К" * 65}), "cashier", "limit is 64"),
        (lambda o: o.__setitem__("cashier", {"name": "Иванова", "inn": "12345"}), "cashier_inn", "digits"),
        (lambda o: o.__setitem__("operation", "refund"), "refund_of", "refund_of"),
        (lambda o: o.__setitem__("uuid", ""), "uuid", "mandatory"),
        (lambda o: o.__setitem__("lines", []), "lines", "non-empty"),
        (lambda o: o["lines"][0].__setitem__("price", "15.001"), "lines[0].price", "two decimals"),
    ],
)
def test_bad_input_is_rejected_precisely(mutate, field, text):
    o = order()
    mutate(o)
    with pytest.raises((errors.DocumentInvalid, errors.RequestInvalid)) as exc:
        ffd.build_receipt(o)
    assert exc.value.http_status == 400
    assert exc.value.details.get("field") == field
    assert text in exc.value.message


def test_phone_and_email_contacts_accepted():
    assert ffd.build_receipt(order(buyer_contact="+79161234567")).buyer_contact == "+79161234567"
    assert ffd.build_receipt(order(buyer_contact="ivan@example.ru")).buyer_contact == "ivan@example.ru"


def test_validator_rejects_tampered_documents():
    r = ffd.build_receipt(order())
    bad = copy.deepcopy(r)
    bad.items[1].vat_amount += 1
    with pytest.raises(errors.DocumentInvalid, match="does not follow"):
        ffd.validate(bad)
    bad = copy.deepcopy(r)
    bad.vat_totals = {11: 1}
    with pytest.raises(errors.DocumentInvalid, match="vat_totals"):
        ffd.validate(bad)
    bad = copy.deepcopy(r)
    bad.operation = 5
    with pytest.raises(errors.DocumentInvalid, match="1054"):
        ffd.validate(bad)
    bad = copy.deepcopy(r)
    bad.total += 100
    with pytest.raises(errors.DocumentInvalid, match="1020"):
        ffd.validate(bad)
    bad = copy.deepcopy(r)
    bad.additional = "1" * 17
    with pytest.raises(errors.DocumentInvalid, match="limit is 16"):
        ffd.validate(bad)


def refund(pays, **kw):
    return order(
        uuid="refund-1",
        operation="refund",
        payments=pays,
        refund_of={"uuid": "0b7f6a8e-1111-4222-8333-444455556666", "fiscal_sign": 1234567890, "fd_number": 7},
        **kw,
    )


def test_refund_means_must_match_the_original():
    original = ffd.Payments(electronic=423450)
    # card sale, cash back: refused
    with pytest.raises(errors.DocumentInvalid, match="not paid by cash") as exc:
        ffd.build_receipt(refund([{"kind": "cash", "amount": "4234.50"}]), original_payments=original)
    assert exc.value.field == "payments.cash"
    r = ffd.build_receipt(refund([{"kind": "card", "amount": "4234.50"}]), original_payments=original)
    assert r.operation == 2 and r.additional == "1234567890" and r.original_uuid.startswith("0b7f")
    # a split sale: cash back only up to the cash paid, including earlier refunds
    split = ffd.Payments(cash=100000, electronic=323450)
    ffd.build_receipt(
        refund([{"kind": "cash", "amount": "1000.00"}, {"kind": "card", "amount": "3234.50"}]),
        original_payments=split,
    )
    with pytest.raises(errors.DocumentInvalid, match="in total"):
        ffd.build_receipt(
            refund([{"kind": "cash", "amount": "1000.00"}, {"kind": "card", "amount": "3234.50"}]),
            original_payments=split,
            already_refunded=ffd.Payments(cash=50000),
        )


def test_correction_rules():
    with pytest.raises(errors.DocumentInvalid, match="1179"):
        ffd.build_correction(order(correction={"type": 1, "basis_date": "2026-01-10"}))
    with pytest.raises(errors.DocumentInvalid, match="1178"):
        ffd.build_correction(order(correction={"type": 0, "basis_date": "10.01.2026"}))


def test_qr_text():
    res = FiscalResult(
        fd_number=45,
        fiscal_sign=3849322814,
        fn_serial="9999078900012345",
        shift_number=3,
        doc_time="2026-03-01T14:05:33",
    )
    assert (
        ffd.qr_text(res, 423450, 1) == "t=20260301T1405&s=4234.50&fn=9999078900012345&i=45&fp=3849322814&n=1"
    )


def test_other_documents():
    assert (
        ffd.build_shift(
            {"uuid": "shift-0001", "cashier": {"name": "Иванова", "inn": "500100732259"}}
        ).cashier_inn
        == "500100732259"
    )
    c = ffd.build_cash({"uuid": "cash-0001", "amount": 500000, "cashier": "Иванова"}, "cash_in")
    assert ffd.from_dict(ffd.to_dict(c)) == c
    with pytest.raises(errors.DocumentInvalid):
        ffd.build_cash({"uuid": "cash-0001", "amount": 0}, "cash_out")
    with pytest.raises(errors.RequestInvalid):
        ffd.build_cash({"uuid": "cash-0001", "amount": "5000.00"}, "cash_out")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=300),
    lambda ch: st.lists(ch, max_size=5) | st.dictionaries(st.text(max_size=12), ch, max_size=6),
    max_leaves=20,
)


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.sampled_from(list(order().keys()) + ["correction", "x"]), json_values))
def test_fuzz_builder_only_raises_typed_errors(payload):
    for build in (ffd.build_receipt, ffd.build_correction):
        try:
            doc = build(payload)
        except errors.FiscalError as exc:
            assert exc.http_status == 400
        else:
            ffd.validate(doc)


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 50), st.data())
def test_fuzz_mutated_orders(nlines_unused, data):
    o = order()
    line = data.draw(st.sampled_from([0, 1]))
    key = data.draw(st.sampled_from(["quantity", "price", "amount", "vat_code", "name", "subject"]))
    o["lines"][line][key] = data.draw(json_values)
    try:
        ffd.build_receipt(o)
    except errors.FiscalError as exc:
        assert exc.http_status == 400


# -- FFD 1.2 VAT rules, 1203, 1055, 1212 (issue 13 §4-§5) -------------------------------------
def _line(**kw):
    base = {
        "name": "Предоплата за очки",
        "quantity": "1",
        "price": "1220.00",
        "amount": "1220.00",
        "vat_code": 12,
        "payment_method": 2,
        "subject": 10,
    }
    base.update(kw)
    return base


@pytest.mark.parametrize("method", [1, 2, 3])
@pytest.mark.parametrize("plain, calculated", [(11, 12), (1, 3), (2, 4), (7, 9), (8, 10)])
def test_advance_items_carry_the_calculated_rate(method, plain, calculated):
    """Prepayment / advance (1214 = 1, 2, 3) are taxed at the calculated rate: 22/122, not 22 %."""
    pays = [{"kind": "card", "amount": "1220.00"}]
    with pytest.raises(errors.DocumentInvalid) as info:
        ffd.build_receipt(order(lines=[_line(vat_code=plain, payment_method=method)], payments=pays))
    assert info.value.field == "items[0].vat" and ffd.VAT_LABELS[calculated] in info.value.message
    ok = ffd.build_receipt(order(lines=[_line(vat_code=calculated, payment_method=method)], payments=pays))
    assert ok.items[0].vat == calculated
    # the full settlement (1214 = 4) of the same goods takes the plain rate
    assert ffd.build_receipt(order(lines=[_line(vat_code=plain, payment_method=4)], payments=pays))


def test_a_refund_keeps_the_vat_rate_of_the_original_sale():
    """A 2026 refund of a 2025 sale at 20 % stays at 20 % (FNS letter АБ-4-20/11248@)."""
    sale_2025 = ffd.build_receipt(
        order(
            lines=[_line(name="Оправа", vat_code=1, payment_method=4, subject=1)],
            payments=[{"kind": "card", "amount": "1220.00"}],
        )
    )
    refund_of = {"uuid": "0b7f6a8e-1111-4222-8333-000000000001", "fiscal_sign": 1}
    at_22 = order(
        uuid="0b7f6a8e-1111-4222-8333-000000000002",
        operation="refund",
        refund_of=refund_of,
        lines=[_line(name="Оправа", vat_code=11, payment_method=4, subject=1)],
        payments=[{"kind": "card", "amount": "1220.00"}],
    )
    with pytest.raises(errors.DocumentInvalid) as info:
        ffd.build_receipt(at_22, original_payments=sale_2025.payments, original_items=sale_2025.items)
    assert info.value.field == "items[0].vat" and "НДС 20%" in info.value.message
    at_20 = dict(at_22, lines=[_line(name="Оправа", vat_code=1, payment_method=4, subject=1)])
    assert (
        ffd.build_receipt(at_20, original_payments=sale_2025.payments, original_items=sale_2025.items)
        .items[0]
        .vat
        == 1
    )
    # a refund correction is held to the same rule
    corr = dict(at_22, operation="refund", refund_of=None, correction={"type": 0, "basis_date": "2025-12-20"})
    with pytest.raises(errors.DocumentInvalid):
        ffd.build_correction(corr, original_items=sale_2025.items)


@pytest.mark.parametrize(
    "inn, text", [("7707083893", "12 digits"), ("500100732258", "check digits"), ("50010073225", "12 digits")]
)
def test_cashier_inn_1203_is_a_personal_12_digit_inn(inn, text):
    with pytest.raises(errors.DocumentInvalid) as info:
        ffd.build_receipt(order(cashier={"name": "Иванова", "inn": inn}))
    assert info.value.field == "cashier_inn" and text in info.value.message
    assert ffd.build_receipt(order(cashier={"name": "Иванова", "inn": "500100732259"})).cashier_inn


@pytest.mark.parametrize(
    "vat, inn",
    [
        ("500100732259", "500100732259"),
        (" 500100732259 ", "500100732259"),
        ("7707083893", ""),
        ("500100732258", ""),
        ("RU500100732259", ""),
        (False, ""),
        (None, ""),
        ("", ""),
    ],
)
def test_the_cashier_inn_rule_shared_by_the_pos_and_the_z_report(vat, inn):
    """The contact's tax number goes out as 1203 only when it is a valid personal INN:
    a company's 10-digit INN or a typo leaves the tag out instead of refusing the Z report."""
    assert ffd.cashier_inn(vat) == inn


def test_envd_tax_system_no_longer_exists():
    with pytest.raises(errors.DocumentInvalid) as info:
        ffd.build_receipt(order(tax_system=8))
    assert info.value.field == "tax_system" and "ЕНВД" in info.value.message


def test_marked_goods_subject_needs_its_marking_code():
    o = order()
    o["lines"][0]["subject"] = 33
    with pytest.raises(errors.DocumentInvalid) as info:
        ffd.build_receipt(o)
    assert info.value.field == "items[0].marking_code" and "marking code" in info.value.message


# -- the till's exactly-once path with correction receipts, per device profile ----------------
from ru54fz.emulator.harness import start_emulator  # noqa: E402
from ru54fz.emulator.model import DEVICE_PROFILES  # noqa: E402


@pytest.fixture(params=DEVICE_PROFILES)
def till(request, tmp_path):
    import till_helpers as H

    with (
        start_emulator(tmp_path / "kkt", profile=request.param) as emu,
        H.service_on_shift(tmp_path / "journal.sqlite", emu) as svc,
    ):
        yield svc, emu


def _correction_payload(uid):
    import till_helpers as H

    return H.order(uid, correction={"type": 0, "basis_date": "2026-11-30", "fiscal_sign": 12345})


@pytest.mark.parametrize("when", ["before", "after"])
def test_lost_reply_to_a_correction_is_settled_from_the_fn_never_rerun(till, when):
    """The link drops on the correction's close (FF45): the retry of the same uuid finds FD 31
    through FF0A (when it was formed) and never forms a second correction."""
    svc, emu = till
    before = svc.device.fn_status().last_fd_number
    emu.control.power_loss(when=when, command="FF45")
    payload = _correction_payload("corr-0001-lost")
    try:
        answer = svc.correction(payload)
    except errors.TransportError:
        answer = svc.correction(payload)
    assert answer["state"] == "fiscalised" and answer["fiscal"]["fd_type"] == 31
    assert svc.device.fn_status().last_fd_number == before + 1
    found = svc.device.find_document(before + 1)
    assert (found.fd_type, found.operation, found.total) == (31, 1, 200000)
    assert emu.control.stats()["FF45"] == 1  # executed once, whichever side the link dropped


def test_an_fn_document_left_open_is_cancelled_with_ff08_before_a_sale(till):
    """Something else left a begun shift-close report in the FN: 0x88 does not reach it; the
    till's sale path cancels it (FF08) and the sale goes through."""
    import till_helpers as H

    svc, emu = till
    other = H.make_device(emu.config)
    try:
        other._exchange(0xFF42)
    finally:
        other.close()
    answer = svc.sale(H.order())
    assert answer["state"] == "fiscalised" and answer["fiscal"]["fd_type"] == 3
    assert emu.control.stats()["FF08"] == 1 and svc.device.fn_status().open_document == 0


def test_a_refund_at_another_vat_rate_than_its_sale_is_refused_with_nothing_sent(till):
    """The till knows the sale (its journal): the refund must keep each item's VAT rate."""
    import till_helpers as H

    svc, emu = till
    svc.set_refund_requires_ofd(False)
    sale = H.order()  # lines at 0 % exempt (6) and 22 % (11)
    sold = svc.sale(sale)
    refund = H.order(operation="refund", refund_of={"uuid": sale["uuid"]})
    refund["lines"][1]["vat_code"] = 1  # 20 % instead of the sale's 22 %
    last = svc.device.fn_status().last_fd_number
    with pytest.raises(errors.DocumentInvalid) as info:
        svc.refund(refund)
    assert info.value.field == "items[1].vat" and "НДС 22%" in info.value.message
    assert svc.device.fn_status().last_fd_number == last and svc.journal.get(refund["uuid"]) is None
    refund["lines"][1]["vat_code"] = 11
    done = svc.refund(refund)
    assert done["state"] == "fiscalised" and done["fiscal"]["fd_number"] == sold["fiscal"]["fd_number"] + 1


class _Crash(BaseException):
    """Stands for the till process dying at a fault point."""


@pytest.mark.parametrize("profile", DEVICE_PROFILES)
def test_settle_on_start_cancels_a_begun_correction_with_ff08(tmp_path, profile):
    """The till died while a correction was begun on the KKT (FF35 sent, no item yet): the FN
    holds a correction document that 0x88 does not reach.  A fresh till settles the entry on
    start: FF08 cancels the document, the FN has no FD for it, the correction runs once."""
    import till_helpers as H

    (tmp_path / "kkt").mkdir()
    emu = start_emulator(tmp_path / "kkt", profile=profile)
    armed = []

    def hook(name):
        if armed and name == "after_sent":
            raise _Crash(name)

    first = H.make_service(tmp_path / "j.sqlite", emu, fault_hook=hook)
    try:
        first.start()
        first.open_shift({"uuid": "shift-0003", "cashier": {"name": "Анна Кассирова"}})
        before = first.device.fn_status().last_fd_number
        payload = _correction_payload("corr-0003-crash")
        armed.append(True)
        with pytest.raises(_Crash):
            first.correction(payload)
        first.device._exchange(0xFF35)  # what the dead process had begun
        H.close_service(first)
        second = H.make_service(tmp_path / "j.sqlite", emu)
        try:
            second.start()
            entry = second.journal.get(payload["uuid"])
            assert entry["state"] == "fiscalised" and entry["fd_number"] == before + 1
            assert second.device.find_document(before + 1).fd_type == 31
            assert second.device.fn_status().open_document == 0
            assert emu.control.stats()["FF08"] == 1
        finally:
            H.close_service(second)
    finally:
        emu.stop()
