"""ShtrihDriver against the emulator process over a real TCP socket: every command."""

import base64
import datetime as dt

import pytest
from kkt_helpers import item_values
from kkt_testing import item, receipt
from ru54fz import errors as E
from ru54fz import ffd
from ru54fz.device import FiscalDevice
from ru54fz.ofd import protocol as ofdp


def test_driver_is_a_fiscal_device(dev):
    assert isinstance(dev, FiscalDevice)


def test_status_reports_mode_paper_cover_clock(dev, emu):
    st = dev.status()
    assert st["mode"] == 4 and st["mode_text"] == "shift closed"
    assert st["paper_present"] is True and st["cover_open"] is False
    kkt_time = dt.datetime.fromisoformat(st["kkt_time"])
    assert abs((kkt_time - dt.datetime.now()).total_seconds()) < 5
    emu.control.clock(offset=-3600)
    kkt_time = dt.datetime.fromisoformat(dev.status()["kkt_time"])
    assert 3590 < (dt.datetime.now() - kkt_time).total_seconds() < 3610


def test_fn_status_of_a_fresh_fiscal_drive(dev):
    fn = dev.fn_status()
    assert fn.fn_serial == "9999078900012345" and fn.last_fd_number == 1
    assert not fn.shift_open and fn.open_document == 0 and fn.unconfirmed_count == 0
    assert fn.oldest_unconfirmed_at is None and fn.fn_valid_until


def test_open_shift_forms_fd_2_with_a_fiscal_sign(dev, emu):
    res = dev.open_shift("Смирнова А.", "500100732259")
    assert (res.fd_type, res.fd_number, res.shift_number) == (2, 2, 1)
    assert 0 < res.fiscal_sign < 2**32
    fn = dev.fn_status()
    assert fn.shift_open and fn.shift_number == 1 and fn.shift_opened_at == res.doc_time
    doc = emu.control.document(2)
    tags = {tag for tag, _ in doc["tlvs"]}
    assert {1021, 1203} <= tags  # cashier name and INN went through FF0C
    with pytest.raises(E.DeviceError) as info:
        dev.open_shift("Смирнова А.")
    assert info.value.device_code == 0x02
    assert dev.fn_status().open_document == 0  # the refused FF41 left nothing open


def test_sale_receipt_end_to_end(shift, emu):
    doc = receipt(
        [
            item("Очки корригирующие", 1500000, 1000, vat=6),
            item("Салфетка из микрофибры", 35000, 3000, vat=11),
        ],
        electronic=1000000,
        buyer_contact="+79990001122",
        cashier_inn="500100732259",
    )
    res = shift.fiscalise(doc)
    assert (res.fd_type, res.fd_number, res.receipt_number, res.shift_number) == (3, 3, 1, 1)
    assert res.qr == ffd.qr_text(res, doc.total, 1)
    assert f"fp={res.fiscal_sign}" in res.qr and "s=16050.00" in res.qr
    stored = emu.control.document(3)
    assert stored["total"] == 1605000 and stored["operation"] == 1
    assert [i["qty"] for i in stored["items"]] == [1_000_000, 3_000_000]
    assert [i["vat"] for i in stored["items"]] == [6, 11]
    assert stored["payments"] == {"1": 605000, "2": 1000000}
    tlvs = dict((tag, bytes.fromhex(v)) for tag, v in stored["tlvs"])
    assert tlvs[1008] == b"+79990001122" and tlvs[1203].strip() == b"500100732259"
    found = shift.find_document(3)
    assert (found.fd_type, found.total, found.operation, found.fiscal_sign) == (
        3,
        1605000,
        1,
        res.fiscal_sign,
    )
    assert found.doc_time == res.doc_time and not found.ofd_confirmed
    again = shift.fiscalise(doc)
    assert again.receipt_number == 2 and again.fd_number == 4 and again.fiscal_sign != res.fiscal_sign


def test_change_is_returned_for_cash_overpayment(shift):
    doc = receipt([item(price=99000)], cash=100000)
    doc.total = 99000
    res = shift.fiscalise(doc)
    assert res.extra["change"] == 1000
    assert shift.shift_counters()["cash_in_drawer"] == 99000


def test_refund_carries_the_original_fiscal_sign_in_1192(shift, emu):
    sale = shift.fiscalise(receipt([item(price=120000)]))
    refund = receipt([item(price=120000)], operation=2, additional=str(sale.fiscal_sign))
    res = shift.fiscalise(refund)
    stored = emu.control.document(res.fd_number)
    assert stored["operation"] == 2
    assert dict(stored["tlvs"])[1192] == str(sale.fiscal_sign).encode("cp866").hex()
    counters = shift.shift_counters()
    assert counters["receipts"]["sale_refund"] == {
        "count": 1,
        "cash": 120000,
        "electronic": 0,
        "prepayment": 0,
        "credit": 0,
        "other": 0,
        "total": 120000,
    }
    assert counters["cash_in_drawer"] == 0


def test_cash_refund_beyond_the_drawer_is_refused_and_cancelled(shift, emu):
    with pytest.raises(E.InsufficientCash):
        shift.fiscalise(receipt([item(price=50000)], operation=2))
    assert emu.control.state()["doc"] is None and shift.fn_status().last_fd_number == 2


def test_measure_and_product_code_go_to_ff4d_for_their_item(shift, emu):
    res = shift.fiscalise(
        receipt(
            [
                item("Раствор для линз", 1000, 500, vat=11, measure=41),
                item("Оправа", 500000, product_code="4607001234567"),
                item("Футляр", 1000),
            ]
        )
    )
    stored = emu.control.document(res.fd_number)
    assert stored["items"][0]["tlvs"] == [[2108, "29"]]
    ((tag, value),) = stored["items"][1]["tlvs"]
    assert (
        tag == 1163
        and bytes.fromhex(value)
        == (1302).to_bytes(2, "little") + (13).to_bytes(2, "little") + b"4607001234567"
    )
    assert "tlvs" not in stored["items"][2]


def test_correction_receipt_fd_31(shift, emu):
    doc = ffd.CorrectionReceipt(
        operation=1,
        tax_system=1,
        items=[item(price=70000)],
        payments=ffd.Payments(electronic=70000),
        total=70000,
        cashier="Смирнова А.",
        correction_type=1,
        basis_date="2026-01-15",
        basis_number="ЕД-12/345",
    )
    res = shift.fiscalise(doc)
    assert res.fd_type == 31 and res.receipt_number == 1
    stored = emu.control.document(res.fd_number)
    assert stored["correction_type"] == 1 and stored["total"] == 70000
    tlvs = dict(stored["tlvs"])
    assert 1174 in tlvs and "ЕД-12/345".encode("cp866").hex() in tlvs[1174]
    assert shift.find_document(res.fd_number).fd_type == 31


def test_cash_in_out_and_counters(shift):
    assert shift.cash_in(500000)["cash_in_drawer"] == 500000
    shift.fiscalise(receipt([item(price=100000)]))
    shift.fiscalise(receipt([item(price=200000)], electronic=200000))
    out = shift.cash_out(150000)
    assert out["cash_in_drawer"] == 450000
    with pytest.raises(E.InsufficientCash) as info:
        shift.cash_out(450001)
    assert "Not enough cash" in info.value.message
    with pytest.raises(E.RequestInvalid):
        shift.cash_in(0)
    c = shift.shift_counters()
    assert c["cash_in"] == {"count": 1, "total": 500000}
    assert c["cash_out"] == {"count": 1, "total": 150000}
    assert c["receipts"]["sale"]["count"] == 2
    assert (c["receipts"]["sale"]["cash"], c["receipts"]["sale"]["electronic"]) == (100000, 200000)
    assert c["receipts"]["sale"]["total"] == 300000
    assert c["cash_in_drawer"] == 450000


def test_x_report_keeps_and_z_report_resets_the_shift_counters(shift, emu):
    shift.cash_in(10000)
    shift.fiscalise(receipt([item(price=40000)]))
    x = shift.x_report()
    assert x["receipts"]["sale"]["total"] == 40000 and x["shift_open"]
    assert shift.shift_counters() == x
    assert emu.control.stats()["40"] == 1
    z = shift.close_shift("Смирнова А.")
    assert z.fd_type == 5 and z.shift_number == 1
    assert z.extra["receipts"]["sale"]["total"] == 40000 and z.extra["cash_in"]["total"] == 10000
    after = shift.shift_counters()
    assert not after["shift_open"] and after["receipts"]["sale"]["total"] == 0
    assert after["cash_in"]["total"] == 0
    assert after["cash_in_drawer"] == 50000  # the drawer survives the Z report
    assert shift.find_document(z.fd_number).fd_type == 5
    with pytest.raises(E.ShiftClosed):
        shift.fiscalise(receipt())
    reopened = shift.open_shift("Смирнова А.")
    assert reopened.shift_number == 2


def test_find_document_of_a_missing_number_is_none(shift):
    assert shift.find_document(999) is None
    assert shift.find_document(1).fd_type == 1


def test_cancel_open_document(shift, emu):
    assert shift.cancel_open_document() is False
    shift._exchange(0xFF46, **item_values())
    assert shift.fn_status().open_document == 0x04
    with pytest.raises(E.DeviceError) as info:
        shift.fiscalise(receipt())
    assert info.value.device_code == 0x4A  # refused before touching the open receipt
    assert shift.cancel_open_document() is True
    assert shift.fn_status().open_document == 0
    assert shift.shift_counters()["voided"]["count"] == 1


def test_ofd_message_out_and_ticket_in(shift, emu):
    sale = shift.fiscalise(receipt())
    fn = shift.fn_status()
    assert fn.unconfirmed_count == 2 and fn.first_unconfirmed_fd == 2
    fd, message = shift.read_ofd_message()
    assert fd == 2
    container = ofdp.Container.unpack(message)
    assert (container.fd_number, container.fd_type, container.fn_number) == (2, 2, fn.fn_serial)
    assert base64.b64decode(emu.control.document(2)["msg"]) == message
    shift.write_ofd_ticket(ofdp.build_ticket(fn.fn_serial, 2))
    assert shift.find_document(2).ofd_confirmed
    fd, message = shift.read_ofd_message()
    assert fd == sale.fd_number and len(message) > 128  # read in several FF31 blocks
    root = ofdp.Container.unpack(message).tlvs[0]
    assert root.find(ofdp.TAG_FISCAL_SIGN).as_int == sale.fiscal_sign
    shift.write_ofd_ticket(ofdp.build_ticket(fn.fn_serial, sale.fd_number))
    assert shift.read_ofd_message() is None
    assert shift.fn_status().unconfirmed_count == 0


def test_bad_or_negative_ofd_tickets_are_rejected(shift):
    fn = shift.fn_status()
    with pytest.raises(E.OfdTicketRejected):
        shift.write_ofd_ticket(b"\x00" * 40)
    with pytest.raises(E.OfdTicketRejected):
        shift.write_ofd_ticket(ofdp.build_ticket(fn.fn_serial, 2, code=14, message="bad sign"))
    with pytest.raises(E.OfdTicketRejected):
        shift.write_ofd_ticket(ofdp.build_ticket("9999078900099999", 2))
    assert not shift.find_document(2).ofd_confirmed


def test_wrong_password_is_a_typed_refusal(emu):
    from ru54fz.devices import make_device

    device = make_device({**emu.config, "password": 29})
    with pytest.raises(E.DeviceError) as info:
        device.status()
    assert info.value.device_code == 0x4F and "password" in info.value.message
    device.close()


def test_invalid_documents_are_refused_before_the_device_is_touched(shift, emu):
    before = emu.control.stats().get("FF46", 0)
    bad_vat = item()
    bad_vat.vat = 99
    with pytest.raises(E.DocumentInvalid) as info:
        shift.fiscalise(receipt([bad_vat]))
    assert info.value.field == "items[0].vat"
    with pytest.raises(E.DocumentInvalid) as info:
        shift.fiscalise(receipt([item(name="x" * 129)]))
    assert "128" in info.value.message
    with pytest.raises(E.DocumentInvalid):
        shift.fiscalise(receipt([item(name="Оправа ☺")]))  # not representable in CP1251
    with pytest.raises(E.DocumentInvalid):
        shift.fiscalise(ffd.Receipt(1, 1, [], ffd.Payments(), 0, "A"))
    assert emu.control.stats().get("FF46", 0) == before


def test_fn_brief_is_one_ff01_exchange(shift, emu):
    before = emu.control.stats()
    brief = shift.fn_brief()
    after = emu.control.stats()
    assert after["FF01"] == before.get("FF01", 0) + 1
    assert sum(after.values()) == sum(before.values()) + 1
    full = shift.fn_status()
    assert (brief.fn_serial, brief.last_fd_number, brief.shift_open, brief.open_document) == (
        full.fn_serial,
        full.last_fd_number,
        full.shift_open,
        full.open_document,
    )
