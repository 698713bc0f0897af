"""AtolDriver against the emulated ATOL web server: every operation of the
FiscalDevice interface and every refusal path, checked in the FN the emulator keeps."""

import pytest
from kkt_testing import item, receipt
from ru54fz import errors as E
from ru54fz import ffd
from ru54fz.atol import tables as T


def fn_last(web):
    return web.control.state()["last_fd"]


def test_status_and_fn_status_of_a_fresh_register(dev):
    st = dev.status()
    assert st["shift"] == "closed" and st["paper_present"] and not st["cover_open"]
    assert st["kkt_time"] and st["serial"]
    fn = dev.fn_status()
    assert fn.fn_serial == "9999078900054321" and fn.last_fd_number == 1
    assert not fn.shift_open and fn.unconfirmed_count == 0 and fn.fn_valid_until
    brief = dev.fn_brief()
    assert brief.fn_serial == fn.fn_serial and brief.last_fd_number == 1 and brief.open_document == 0


def test_open_shift_forms_fd2_and_a_second_open_is_refused(web, dev):
    res = dev.open_shift("Смирнова А.", "500100732259")
    assert res.fd_type == 2 and res.fd_number == 2 and res.shift_number == 1 and res.fiscal_sign
    doc = web.control.document(2)
    assert doc["type"] == 2 and doc["fp"] == res.fiscal_sign
    # the cashier (1021) and the cashier's INN (1203) reached the FN
    assert {tag for tag, _ in doc["tlvs"]} == {1021, 1203}
    fn = dev.fn_status()
    assert fn.shift_open and fn.shift_number == 1 and fn.shift_opened_at
    with pytest.raises(E.DeviceError) as info:
        dev.open_shift("Смирнова А.")
    assert info.value.device_code == T.DENIED_IN_OPENED_SHIFT
    assert fn_last(web) == 2


def test_sale_with_vat22_vat122_measure_and_product_code_reaches_the_fn(web, shift):
    items = [
        item("Линза 1.67", price=500000, vat=11),
        item("Раствор 360 мл", price=99950, vat=12, measure=41, qty=2000, product_code="4601234567893"),
        item("Салфетка", price=10000, vat=6),
    ]
    doc = receipt(items, electronic=200000)
    res = shift.fiscalise(doc)
    assert res.fd_type == 3 and res.receipt_number == 1
    assert res.qr.startswith("t=") and f"i={res.fd_number}" in res.qr and "s=7099.00" in res.qr
    stored = web.control.document(res.fd_number)
    assert stored["total"] == 709900 and stored["operation"] == 1
    assert [i["vat"] for i in stored["items"]] == [11, 12, 6]
    assert stored["items"][1]["qty"] == 2_000_000  # millionths in the FN
    tags = {tag for tag, _ in stored["items"][1]["tlvs"]}
    assert tags == {2108, 1163}
    assert stored["payments"] == {"1": 509900, "2": 200000}
    found = shift.find_document(res.fd_number)
    assert (found.fd_type, found.total, found.operation, found.fiscal_sign) == (3, 709900, 1, res.fiscal_sign)


@pytest.mark.parametrize("means", ["prepayment", "credit", "other"])
def test_every_payment_means_is_counted(shift, means):
    doc = receipt([item(price=100000)], cash=40000, payments_extra={means: 60000})
    shift.fiscalise(doc)
    sale = shift.shift_counters()["receipts"]["sale"]
    assert sale["count"] == 1 and sale["cash"] == 40000 and sale[means] == 60000 and sale["total"] == 100000


def test_refund_and_a_cash_refund_beyond_the_drawer(web, shift):
    shift.fiscalise(receipt([item(price=300000)]))
    res = shift.fiscalise(receipt([item(price=100000)], operation=2, additional="123456"))
    assert shift.find_document(res.fd_number).operation == 2
    before = fn_last(web)
    with pytest.raises(E.InsufficientCash):
        shift.fiscalise(receipt([item(price=900000)], operation=2))
    assert fn_last(web) == before and not web.control.state()["doc"]
    counters = shift.shift_counters()
    assert counters["receipts"]["sale_refund"]["count"] == 1 and counters["voided"]["count"] == 1


@pytest.mark.parametrize("operation", [1, 2])
def test_correction_receipts(web, shift, operation):
    if operation == 2:
        shift.cash_in(500000)
    doc = ffd.CorrectionReceipt(
        operation=operation,
        tax_system=1,
        items=[item(price=150000)],
        payments=ffd.Payments(cash=150000),
        total=150000,
        cashier="Смирнова А.",
        correction_type=1,
        basis_date="2026-11-30",
        basis_number="ПР-17",
    )
    res = shift.fiscalise(doc)
    assert res.fd_type == 31 and res.fiscal_sign
    stored = web.control.document(res.fd_number)
    assert stored["type"] == 31 and stored["operation"] == operation and stored["correction_type"] == 1
    assert 1174 in {tag for tag, _ in stored["tlvs"]}


def test_cash_in_out_and_x_report(shift):
    assert shift.cash_in(100000)["cash_in_drawer"] == 100000
    assert shift.cash_out(30000)["cash_in_drawer"] == 70000
    with pytest.raises(E.InsufficientCash):
        shift.cash_out(70001)
    with pytest.raises(E.RequestInvalid):
        shift.cash_in(0)
    counters = shift.x_report()
    assert counters["cash_in"] == {"count": 1, "total": 100000}
    assert counters["cash_out"] == {"count": 1, "total": 30000} and counters["cash_in_drawer"] == 70000


def test_close_shift_gives_fd5_with_counters_and_then_sales_are_refused(web, shift):
    shift.fiscalise(receipt())
    res = shift.close_shift("Смирнова А.")
    assert res.fd_type == 5 and res.extra["receipts"]["sale"]["count"] == 1
    assert not shift.fn_status().shift_open
    before = fn_last(web)
    with pytest.raises(E.ShiftClosed):
        shift.fiscalise(receipt())
    with pytest.raises(E.ShiftClosed):
        shift.close_shift("Смирнова А.")
    assert fn_last(web) == before


def test_find_document_that_does_not_exist(shift):
    assert shift.find_document(999) is None


@pytest.mark.parametrize("fault,error", [("paper_out", E.PaperOut), ("cover_open", E.CoverOpen)])
def test_printer_faults_refuse_and_leave_nothing_open(web, shift, fault, error):
    before = fn_last(web)
    web.control.set(**{fault: True})
    with pytest.raises(error) as info:
        shift.fiscalise(receipt([item(), item(vat=11)]))
    assert info.value.retryable
    assert fn_last(web) == before and not web.control.state()["doc"]
    web.control.set(**{fault: False})
    assert shift.fiscalise(receipt()).fd_number == before + 1


def test_shift_over_24_hours(web, shift):
    web.control.clock(advance=25 * 3600)
    with pytest.raises(E.ShiftExpired):
        shift.fiscalise(receipt())
    assert shift.status()["shift"] == "expired"
    assert shift.close_shift("Смирнова А.").fd_type == 5


def test_ofd_30_days_blocks_the_fn(web, shift):
    shift.fiscalise(receipt())
    web.control.clock(advance=31 * 86400)
    with pytest.raises((E.OfdBacklogBlocked, E.ShiftExpired)):
        shift.fiscalise(receipt())
    fn = shift.fn_status()
    assert fn.unconfirmed_count >= 2 and fn.first_unconfirmed_fd == 2 and fn.oldest_unconfirmed_at


def test_register_clock_behind_the_last_document_is_refused(web, shift):
    shift.fiscalise(receipt())
    web.control.clock(advance=-3600)
    with pytest.raises(E.ClockMismatch):
        shift.fiscalise(receipt())


def test_fn_archive_full(web, shift):
    web.control.set(fn_capacity=fn_last(web))
    try:
        with pytest.raises(E.FiscalDriveFull):
            shift.fiscalise(receipt())
        assert not web.control.state()["doc"]
    finally:
        web.control.set(fn_capacity=250000)  # a reset keeps the capacity


def test_close_refused_after_the_fn_formed_the_receipt_counts_as_fiscalised(web, shift):
    """The register prints the fiscal sign, then reports 'no paper': the receipt exists
    and must be returned as fiscalised, never reported refused (and never cancelled)."""
    before = fn_last(web)
    web.control.call("inject_error", code=T.NO_PAPER, command="sell", after=True)
    doc = receipt()
    res = shift.fiscalise(doc)
    assert res.fd_number == before + 1 == fn_last(web)
    assert res.extra["device_error"]["code"] == "paper_out"
    assert res.qr and f"i={res.fd_number}" in res.qr


def test_refusal_before_anything_ran_is_reported_refused(web, shift):
    before = fn_last(web)
    web.control.call("inject_error", code=T.NO_PAPER, command="sell")
    with pytest.raises(E.PaperOut):
        shift.fiscalise(receipt())
    assert fn_last(web) == before


def test_bad_documents_are_refused_before_the_register(web, shift):
    bad = item()
    bad.vat = 99
    before = web.control.stats()
    with pytest.raises(E.DocumentInvalid):
        shift.fiscalise(receipt([bad]))
    assert web.control.stats() == before  # the register saw nothing


def test_status_reads_through_the_interface_match_the_fn(web, shift):
    shift.fiscalise(receipt())
    fn = shift.fn_status()
    state = web.control.state()
    assert fn.last_fd_number == state["last_fd"] and fn.unconfirmed_count == state["unconfirmed"]
    web.control.ofd_confirm_all()
    assert shift.fn_status().unconfirmed_count == 0
    assert shift.find_document(state["last_fd"]).ofd_confirmed
