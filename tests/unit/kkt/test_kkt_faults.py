"""Faults and refusals: typed errors, the right message, nothing left open,
exactly one fiscal document whatever the link does."""

import threading
import time

import pytest
from kkt_helpers import FAST, close_values, item_values
from kkt_testing import item, receipt
from ru54fz import errors as E
from ru54fz.devices import make_device
from ru54fz.emulator.harness import start_emulator
from ru54fz.ofd import protocol as ofdp

DAY = 86400


def nothing_open(dev, emu, last_fd):
    state = emu.control.state()
    assert state["doc"] is None
    fn = dev.fn_status()
    assert fn.open_document == 0 and fn.last_fd_number == last_fd


def test_paper_out_refuses_the_close_and_cancels(shift, emu):
    emu.control.set(paper_out=True)
    st = shift.status()
    assert st["paper_present"] is False
    with pytest.raises(E.PaperOut) as info:
        shift.fiscalise(receipt())
    assert info.value.retryable and "out of paper" in info.value.message
    assert info.value.device_code == 0x6B
    nothing_open(shift, emu, 2)
    assert emu.control.stats()["88"] == 1
    emu.control.set(paper_out=False)
    assert shift.fiscalise(receipt()).fd_number == 3


def test_cover_open_is_told_apart_from_paper_by_the_printer_flags(shift, emu):
    emu.control.set(cover_open=True)
    assert shift.status()["cover_open"] is True
    with pytest.raises(E.CoverOpen) as info:
        shift.fiscalise(receipt())
    assert "cover is open" in info.value.message
    nothing_open(shift, emu, 2)
    with pytest.raises(E.CoverOpen):
        shift.cash_in(1000)
    with pytest.raises(E.CoverOpen):
        shift.close_shift("Смирнова А.")
    assert shift.fn_status().shift_open and emu.control.state()["doc"] is None


def test_slow_printing_within_the_timeout(shift, emu):
    emu.control.set(print_delay=0.4)
    start = time.monotonic()
    res = shift.fiscalise(receipt())
    assert time.monotonic() - start >= 0.4 and res.fd_number == 3


def test_reply_lost_to_slow_printing_is_settled_by_find_document(emu):
    dev = make_device({**emu.config, "timeouts": {**FAST, "print": 0.4}})
    dev.open_shift("Смирнова А.")
    emu.control.set(print_delay=1.0)
    doc = receipt([item(price=123400)])
    with pytest.raises(E.TransportError) as info:
        dev.fiscalise(doc)
    details = info.value.details
    assert details["stage"] == "close" and details["expected_fd"] == 3
    assert details["fn_serial"] == "9999078900012345"
    time.sleep(0.8)
    emu.control.set(print_delay=0)
    found = dev.find_document(details["expected_fd"])
    assert found.fd_type == 3 and found.total == 123400
    assert emu.control.stats()["FF45"] == 1  # never resent blindly
    assert dev.fn_status().open_document == 0
    dev.close()


def test_power_loss_before_close_leaves_an_open_receipt_to_cancel(shift, emu):
    emu.control.power_loss(when="before", command="FF45")
    with pytest.raises(E.TransportError) as info:
        shift.fiscalise(receipt([item(price=5000)]))
    assert info.value.details["expected_fd"] == 3
    assert shift.find_document(3) is None
    assert shift.fn_status().open_document == 0x04
    assert shift.cancel_open_document() is True
    res = shift.fiscalise(receipt([item(price=5000)]))
    assert res.fd_number == 3 and shift.find_document(4) is None


def test_power_loss_after_commit_then_find_document_shows_the_receipt(shift, emu):
    emu.control.power_loss(when="after", command="FF45")
    with pytest.raises(E.TransportError):
        shift.fiscalise(receipt([item(price=7700)]))
    found = shift.find_document(3)
    assert found and found.total == 7700 and found.operation == 1
    assert emu.control.stats()["FF45"] == 1
    assert shift.fn_status().open_document == 0
    assert shift.shift_counters()["receipts"]["sale"]["count"] == 1


@pytest.mark.parametrize("when", ["before", "after"])
def test_power_loss_on_an_item_cancels_the_receipt(shift, emu, when):
    emu.control.power_loss(when=when, command="FF46", count=1)
    doc = receipt([item("Оправа", 300000), item("Линза", 200000)])
    with pytest.raises(E.TransportError):
        shift.fiscalise(doc)
    # the driver reconnected and cancelled whatever the first item opened
    nothing_open(shift, emu, 2)
    assert shift.fiscalise(doc).fd_number == 3


@pytest.mark.parametrize("mode", ["lrc", "random", "truncate"])
def test_garbled_close_reply_is_fetched_again_not_re_executed(shift, emu, mode):
    emu.control.garble(count=2, mode=mode, command="FF45")
    res = shift.fiscalise(receipt([item(price=4200)]))
    assert res.fd_number == 3 and shift.find_document(3).total == 4200
    assert emu.control.stats()["FF45"] == 1 and shift.find_document(4) is None


def test_garbled_replies_to_any_command_are_recovered(shift, emu):
    emu.control.garble(count=3, mode="random")
    assert shift.fiscalise(receipt()).fd_number == 3
    assert shift.status()["mode"] == 2


def test_permanently_garbled_link_gives_up_with_a_transport_error(dev, emu):
    emu.control.garble(count=50, mode="lrc")
    with pytest.raises(E.TransportError) as info:
        dev.status()
    assert "garbled" in info.value.message
    emu.control.reset_faults()
    assert dev.status()["mode"] == 4


def test_device_gone_is_a_transport_error(own_dev, own_emu):
    dev, emu = own_dev, own_emu
    emu.kill()
    start = time.monotonic()
    with pytest.raises(E.TransportError) as info:
        dev.status()
    assert info.value.retryable and time.monotonic() - start < 5


def test_shift_over_24_hours(shift, emu):
    emu.control.clock(advance=DAY + 60)
    assert shift.status()["mode"] == 3
    with pytest.raises(E.ShiftExpired) as info:
        shift.fiscalise(receipt())
    assert info.value.device_code == 0x4E and "over 24 hours" in info.value.message
    with pytest.raises(E.ShiftExpired):
        shift.cash_in(100)
    nothing_open(shift, emu, 2)
    z = shift.close_shift("Смирнова А.")
    assert z.fd_type == 5
    shift.open_shift("Смирнова А.")
    assert shift.fiscalise(receipt()).fd_type == 3


def test_fn_refuses_to_close_a_receipt_opened_before_the_24_hour_mark(shift, emu):
    shift._exchange(0xFF46, **item_values())
    emu.control.clock(advance=DAY + 60)
    with pytest.raises(E.ShiftExpired) as info:
        shift._exchange(0xFF45, **close_values(100))
    assert info.value.device_code == 0x16 and info.value.source == "fn"
    assert shift.cancel_open_document() is True


def _deliver_all(dev):
    fn = dev.fn_status()
    while (msg := dev.read_ofd_message()) is not None:
        dev.write_ofd_ticket(ofdp.build_ticket(fn.fn_serial, msg[0]))


def test_30_day_ofd_backlog_blocks_fiscal_documents(shift, emu):
    shift.fiscalise(receipt())
    shift.close_shift("Смирнова А.")
    emu.control.clock(advance=30 * DAY - 3600)
    opened = shift.open_shift("Смирнова А.")  # day 29 h 23: still allowed
    fn = shift.fn_status()
    assert fn.unconfirmed_count == 4 and fn.first_unconfirmed_fd == 2
    emu.control.clock(advance=2 * 3600)
    with pytest.raises(E.OfdBacklogBlocked) as info:
        shift.fiscalise(receipt())
    assert info.value.device_code == 0x15 and "30 days" in info.value.message
    nothing_open(shift, emu, opened.fd_number)
    _deliver_all(shift)
    assert shift.fn_status().unconfirmed_count == 0
    assert shift.fiscalise(receipt()).fd_number == opened.fd_number + 1


def test_clock_going_backwards_is_refused(shift, emu):
    shift.fiscalise(receipt())
    emu.control.clock(offset=-7200)
    with pytest.raises(E.ClockMismatch) as info:
        shift.fiscalise(receipt())
    assert info.value.device_code == 0x17
    nothing_open(shift, emu, 3)


def test_restart_keeps_the_fn_archive_and_the_shift(own_dev, own_emu):
    shift, emu = own_dev, own_emu
    shift.open_shift("Смирнова А.")
    res = shift.fiscalise(receipt([item(price=31400)]))
    shift.cash_in(10000)
    emu.restart()
    fn = shift.fn_status()  # the driver reconnects by itself
    assert fn.last_fd_number == 3 and fn.shift_open and fn.unconfirmed_count == 2
    assert shift.find_document(3).fiscal_sign == res.fiscal_sign
    assert shift.shift_counters()["cash_in_drawer"] == 41400
    emu.kill()  # power cut: no clean save
    emu.start(port=emu.port)
    assert shift.find_document(3).fiscal_sign == res.fiscal_sign
    assert shift.fiscalise(receipt()).fd_number == 4


def test_one_driver_shared_by_threads_serialises_documents(shift):
    results, failures = [], []

    def sell():
        try:
            results.append(shift.fiscalise(receipt()).fd_number)
        except Exception as exc:  # pragma: no cover - reported below
            failures.append(exc)

    threads = [threading.Thread(target=sell) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not failures and sorted(results) == [3, 4, 5, 6]


# ------------------------------------------------------------------ every error code
CODES = [
    (0x01, E.DeviceError, "unknown command"),
    (0x02, E.DeviceError, "current state"),
    (0x03, E.DeviceError, "call service"),
    (0x04, E.DeviceError, "crypto"),
    (0x05, E.FiscalDriveFull, "lifetime is over"),
    (0x06, E.FiscalDriveFull, "archive is full"),
    (0x07, E.ClockMismatch, "date/time"),
    (0x09, E.DeviceError, "invalid command parameters"),
    (0x10, E.DeviceError, "too large"),
    (0x11, E.DeviceError, "transport connection"),
    (0x12, E.FiscalDriveFull, "crypto resource"),
    (0x14, E.OfdBacklogBlocked, "30 days"),
    (0x15, E.OfdBacklogBlocked, "30 days"),
    (0x16, E.ShiftExpired, "over 24 hours"),
    (0x17, E.ClockMismatch, "time difference"),
    (0x20, E.OfdTicketRejected, "OFD confirmation"),
    (0x2A, E.DeviceError, "Fiscal drive error 0x2a"),
    (0x33, E.DeviceError, "invalid command"),
    (0x37, E.DeviceError, "not supported"),
    (0x3D, E.ShiftClosed, "open a shift"),
    (0x45, E.DeviceError, "less than the receipt total"),
    (0x46, E.InsufficientCash, "Not enough cash"),
    (0x4A, E.DeviceError, "receipt is open"),
    (0x4E, E.ShiftExpired, "over 24 hours"),
    (0x4F, E.DeviceError, "wrong password"),
    (0x50, E.DeviceBusy, "printing the previous"),
    (0x55, E.DeviceError, "receipt is closed"),
    (0x58, E.DeviceBusy, "continue-printing"),
    (0x6B, E.PaperOut, "out of paper"),
    (0x6C, E.PaperOut, "journal paper"),
    (0x71, E.DeviceError, "mechanism"),
    (0x73, E.DeviceError, "in this mode"),
    (0x7E, E.DeviceError, "length field"),
    (0x8E, E.DeviceError, "total is zero"),
    (0x99, E.DeviceError, "KKT error 0x99"),
]


@pytest.fixture(scope="module")
def shared(tmp_path_factory, profile):
    proc = start_emulator(tmp_path_factory.mktemp("kkt_codes"), profile=profile)
    device = make_device({**proc.config, "timeouts": FAST})
    device.open_shift("Смирнова А.")
    yield proc, device
    device.close()
    proc.kill()


@pytest.mark.parametrize("code,cls,text", CODES, ids=[f"{c[0]:#04x}" for c in CODES])
@pytest.mark.parametrize("where", ["FF45", "FF46"])
def test_every_error_code_is_typed_and_leaves_nothing_open(shared, code, cls, text, where):
    emu, dev = shared
    last = dev.fn_status().last_fd_number
    # FF46 count=2: the second item fails, after the receipt has been opened by the first
    emu.control.inject_error(code, command=where, count=1)
    doc = receipt([item("Оправа", 100000), item("Линза", 50000)])
    if where == "FF46":
        dev._exchange(0x10)  # keeps the link warm; the injection hits the first FF46
    with pytest.raises(cls) as info:
        dev.fiscalise(doc)
    exc = info.value
    assert type(exc) is cls or (cls is E.DeviceError and type(exc) is E.DeviceError)
    assert exc.device_code == code and text in exc.message
    assert exc.source == ("fn" if code < 0x30 else "kkt")
    assert exc.to_dict()["code"] == cls.code
    state = emu.control.state()
    assert state["doc"] is None and state["last_fd"] == last
    assert dev.fn_status().open_document == 0


def test_errors_after_the_first_item_cancel_the_open_receipt(shared):
    emu, dev = shared
    voided = dev.shift_counters()["voided"]["count"]
    last = dev.fn_status().last_fd_number
    emu.control.inject_error(0x03, command="FF4D")  # measure TLV of the first item
    doc = receipt([item("Раствор", 1000, 1000, measure=41), item("Линза", 50000)])
    with pytest.raises(E.DeviceError) as info:
        dev.fiscalise(doc)
    assert info.value.device_code == 0x03 and "cancel_failed" not in info.value.details
    emu.control.inject_error(0x10, command="FF0C")  # document TLVs after the items
    with pytest.raises(E.DeviceError) as info:
        dev.fiscalise(receipt(buyer_contact="a@b.ru"))
    assert info.value.device_code == 0x10
    state = emu.control.state()
    assert state["doc"] is None and state["last_fd"] == last
    # a tags-first model gets the first item's FF4D before FF46: no receipt was open yet
    opened_first = 0 if dev.capabilities().model.tags_first else 1
    assert dev.shift_counters()["voided"]["count"] == voided + 1 + opened_first
    assert emu.control.stats()["FF46"] >= 3


@pytest.mark.parametrize("code,cls", [(0x6B, E.PaperOut), (0x03, E.DeviceError)])
def test_error_reported_after_the_fn_formed_the_receipt_is_not_a_refusal(shift, emu, code, cls):
    """A KKT that signs the document and then fails to print says 'error' although the
    sale is fiscalised: the driver checks the FN before cancelling, never reports it refused."""
    emu.control.inject_error(code, command="FF45", after=True)
    doc = receipt([item(price=64000)])
    res = shift.fiscalise(doc)
    assert res.fd_number == 3 and res.fd_type == 3 and res.receipt_number == 1
    assert res.extra["device_error"]["device_code"] == code
    assert res.fiscal_sign == shift.find_document(3).fiscal_sign and "i=3" in res.qr
    assert emu.control.stats().get("88", 0) == 0  # nothing was cancelled
    assert shift.fiscalise(doc).fd_number == 4


def test_correction_formed_despite_an_error_reply(shift, emu):
    from ru54fz import ffd

    emu.control.inject_error(0x6B, command="FF4A", after=True)
    doc = ffd.CorrectionReceipt(
        operation=1,
        tax_system=1,
        items=[item(price=1000)],
        payments=ffd.Payments(cash=1000),
        total=1000,
        cashier="А",
        correction_type=0,
        basis_date="2026-01-15",
    )
    res = shift.fiscalise(doc)
    assert res.fd_type == 31 and res.fd_number == 3 and res.receipt_number == 1


def test_shift_documents_formed_despite_an_error_reply(dev, emu):
    emu.control.inject_error(0x6B, command="E0", after=True)
    opened = dev.open_shift("Смирнова А.")
    assert opened.fd_type == 2 and opened.extra["device_error"]["device_code"] == 0x6B
    assert dev.fn_status().shift_open
    emu.control.inject_error(0x6B, command="41", after=True)
    closed = dev.close_shift("Смирнова А.")
    assert closed.fd_type == 5 and closed.extra["device_error"]["code"] == "paper_out"
    assert "receipts" in closed.extra and not dev.fn_status().shift_open
    emu.control.inject_error(0x6B, command="E0")  # a real refusal: nothing formed
    with pytest.raises(E.PaperOut):
        dev.open_shift("Смирнова А.")
    assert not dev.fn_status().shift_open and emu.control.state()["doc"] is None


def test_fn_archive_full(shift, emu):
    assert shift.fn_status().fn_memory_used_pct == 0
    emu.control.set(fn_capacity=4)
    shift.fiscalise(receipt())  # FD 3
    assert shift.fn_status().fn_memory_used_pct == 75
    shift.fiscalise(receipt())  # FD 4: the last one
    assert shift.fn_status().fn_memory_used_pct == 100
    with pytest.raises(E.FiscalDriveFull) as info:
        shift.fiscalise(receipt())
    assert info.value.device_code == 0x06 and "replace the fiscal drive" in info.value.message
    nothing_open(shift, emu, 4)
