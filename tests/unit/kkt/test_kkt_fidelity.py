"""What a real Shtrih-M with an FFD 1.2 fiscal drive refuses or records, per model (issue 13).

Every test runs against each device profile of the strict emulator (conftest ``profile``):
Shtrih-M-PTK, Shtrih-Nano (its own 22 % bytes, tax mode 'on the total' out of the box) and a
cash-core model (item tags before the operation).  Facts and sources:
docs/kkt_shtrih_protocol.md §3.3 and §5.1."""

import datetime as dt
import functools

import pytest
from kkt_helpers import FAST, close_values, item_values
from kkt_testing import item, receipt
from ru54fz import errors as E
from ru54fz import ffd
from ru54fz.devices import make_device
from ru54fz.emulator.model import PROFILES
from ru54fz.shtrih import codec
from ru54fz.shtrih import models as M

DAY = 24 * 3600
CASHIER = "Смирнова А."


def correction(operation=2, items=None, correction_type=0, basis_date="2025-12-20", basis_number="", **pays):
    items = items or [item("Очки корригирующие", 1230000, vat=1), item("Футляр", 105000, vat=11)]
    total = sum(i.amount for i in items)
    doc = ffd.CorrectionReceipt(
        operation=operation,
        tax_system=1,
        items=items,
        payments=ffd.Payments(**(pays or {"electronic": total})),
        total=total,
        cashier=CASHIER,
        correction_type=correction_type,
        basis_date=basis_date,
        basis_number=basis_number,
    )
    doc.vat_totals = ffd.compute_vat_totals(items)
    return ffd.validate(doc)


def refused(call, code):
    with pytest.raises(E.DeviceError) as info:
        call()
    assert info.value.device_code == code, f"{info.value.device_code:#x} != {code:#x}"
    return info.value


# ---------------------------------------------------------------- 3. model and capabilities
def test_the_model_is_read_at_connect(dev, emu, profile):
    caps = dev.capabilities()
    assert caps.model.model == PROFILES[profile]["model"]
    assert (
        caps.model.family
        == {"shtrih-m-ptk": "desktop", "shtrih-nano": "nano", "cashcore": "cashcore"}[profile]
    )
    assert caps.ffd12 and caps.tax_mode == M.TAX_PER_ITEM
    status = dev.status()
    assert status["model"] == caps.model.model and status["ffd_version"] == "1.2"
    assert emu.control.stats()["FC"] == 1  # read once, not per command


def test_22_percent_goes_out_with_the_models_own_byte(shift, emu):
    """The Nano's 22 % / 22/122 bytes differ (0x90 / 0xA0): the standard 0xCB / 0xCC would be
    refused there, and the Nano's bytes everywhere else."""
    res = shift.fiscalise(
        receipt(
            [item("Салфетка", 35000, vat=11), item("Предоплата за линзы", 500000, vat=12, payment_method=2)]
        )
    )
    stored = emu.control.document(res.fd_number)
    assert [it["vat"] for it in stored["items"]] == [11, 12]
    standard, nano = M.VAT_BYTES_STANDARD[11], M.VAT_BYTES_NANO[11]
    wrong = standard if shift.capabilities().model.family == "nano" else nano
    refused(
        lambda: shift._exchange(0xFF46, **item_values(tax_amount=codec.NOT_GIVEN_5, tax=wrong)),
        0x33,
    )
    assert emu.control.state()["doc"] is None


def test_item_tags_reach_their_own_item_in_the_models_order(shift, emu):
    """Cash-core models bind FF4D to the *next* FF46: tags sent after the item land on the
    following item, and the last item's on nothing (the close is refused)."""
    res = shift.fiscalise(
        receipt(
            [
                item("Раствор", 45000, measure=41, product_code="4607001234567"),
                item("Линза", 250000, product_code="46012345"),
                item("Футляр", 30000),
            ]
        )
    )
    stored = emu.control.document(res.fd_number)
    first, second, third = (dict(it.get("tlvs", [])) for it in stored["items"])
    assert first[2108] == "29" and b"4607001234567".hex() in first[1163]
    assert 2108 not in second and b"46012345".hex() in second[1163]
    assert third == {}


def test_tags_on_the_wrong_side_of_the_operation_are_refused(shift, emu):
    tags_first = shift.capabilities().model.tags_first
    measure = codec.tlv_u8(2108, 41)
    sale = item_values(tax_amount=codec.NOT_GIVEN_5)
    if tags_first:
        shift._exchange(0xFF46, **sale)
        shift._exchange(0xFF4D, tlv=measure)  # meant for the item just made: dangling
        refused(lambda: shift._exchange(0xFF45, **close_values(100)), 0x37)
    else:
        refused(lambda: shift._exchange(0xFF4D, tlv=measure), 0x37)  # no operation yet
        shift._exchange(0xFF46, **sale)
    assert shift.cancel_open_document() is True
    assert emu.control.state()["doc"] is None


def test_a_kkt_computing_vat_on_the_total_is_switched_to_per_item(emu, profile):
    """Three 22 % items of 10.50: per item 1.89 VAT each = 5.67, on the total 5.68.  The FD must
    carry the VAT the receipt shows (the items' 1200 sums)."""
    emu.control.set(tax_mode=M.TAX_ON_TOTAL)
    dev = make_device({**emu.config, "timeouts": FAST})
    try:
        assert dev.capabilities().tax_mode == M.TAX_PER_ITEM
        dev.open_shift(CASHIER)
        doc = receipt([item(f"Салфетка {n}", 1050, vat=11) for n in range(3)])
        assert doc.vat_totals == {11: 567}
        res = dev.fiscalise(doc)
        assert emu.control.document(res.fd_number)["vat_totals"] == {"11": 567}
        assert emu.control.state()["tax_mode"] == M.TAX_PER_ITEM
    finally:
        dev.close()


# ---------------------------------------------------------------- 1. FFD 1.2 correction receipts
def test_ffd12_correction_is_built_like_a_receipt(shift, emu):
    doc = correction(operation=2, correction_type=1, basis_number="ЕД-12/345")
    res = shift.fiscalise(doc)
    assert (res.fd_type, res.receipt_number) == (31, 1)
    stored = emu.control.document(res.fd_number)
    assert stored["type"] == 31 and stored["operation"] == 2 and stored["total"] == doc.total
    assert [(it["vat"], it["pm"], it["subject"]) for it in stored["items"]] == [(1, 4, 1), (11, 4, 1)]
    tags = {tag: bytes.fromhex(value) for tag, value in stored["tlvs"]}
    assert tags[1173] == b"\x01"
    basis = dict(codec.parse_tlvs(tags[1174]))
    stamp = int.from_bytes(basis[1178], "little")
    assert stamp % DAY == 0 and dt.datetime.fromtimestamp(stamp, dt.timezone.utc).date() == dt.date(
        2025, 12, 20
    )
    assert basis[1179] == "ЕД-12/345".encode("cp866")
    stats = emu.control.stats()
    assert stats["FF35"] == 1 and stats["FF46"] == 2 and stats["FF45"] == 1 and "FF4A" not in stats
    found = shift.find_document(res.fd_number)
    assert (found.fd_type, found.operation, found.total) == (31, 2, doc.total)


def test_ff4a_is_refused_for_refunds_and_on_an_ffd12_drive(shift, emu):
    totals = dict(
        correction_type=0,
        total=100,
        pay1=100,
        **{f"pay{i}": 0 for i in range(2, 6)},
        **{f"tax{i}": 0 for i in range(1, 7)},
        tax_system=1,
    )
    for operation, code in ((2, 0x5E), (4, 0x5E), (1, 0x37)):
        shift._exchange(0xFF35)
        refused(functools.partial(shift._exchange, 0xFF4A, operation=operation, **totals), code)
        assert shift.cancel_open_document() is True
    emu.control.set(ffd_version=M.FFD_105)  # an FFD 1.05 registration takes FF4A
    shift._exchange(0xFF35)
    assert shift._exchange(0xFF4A, operation=1, **totals)["fd_number"] == 3


def test_an_ffd105_kkt_gets_ff4a_and_no_refund_correction(emu):
    emu.control.set(ffd_version=M.FFD_105)
    dev = make_device({**emu.config, "timeouts": FAST})
    try:
        dev.open_shift(CASHIER)
        with pytest.raises(E.DocumentInvalid) as info:
            dev.fiscalise(correction(operation=2))
        assert "FFD 1.05" in info.value.message
        assert "FF35" not in emu.control.stats()
        res = dev.fiscalise(correction(operation=1))
        assert res.fd_type == 31 and emu.control.stats()["FF4A"] == 1
    finally:
        dev.close()


@pytest.mark.parametrize(
    "tags",
    [
        [],
        [(1173, b"\x00")],
        [(1173, b"\x00"), (1174, codec.tlv_u32(1178, 1766235600))],
        [(1173, b"\x01"), (1174, codec.tlv_u32(1178, 1766188800))],
    ],
    ids=["no-basis", "no-1174", "1178-not-midnight", "order-without-1179"],
)
def test_correction_without_its_basis_is_refused_by_the_fn(shift, emu, tags):
    shift._exchange(0xFF35)
    for tag, value in tags:
        shift._exchange(0xFF0C, tlv=codec.tlv(tag, value))
    shift._exchange(0xFF46, **item_values(tax_amount=codec.NOT_GIVEN_5))
    refused(lambda: shift._exchange(0xFF45, **close_values(100)), 0x09)
    assert shift.cancel_open_document() is True and emu.control.state()["last_fd"] == 2


# ---------------------------------------------------------------- 2. cancel what is open
@pytest.mark.parametrize("begin, finish", [(0xFF41, 0xE0), (0xFF42, 0x41), (0xFF35, 0xFF46)])
def test_a_failure_after_begin_leaves_the_device_usable(dev, emu, begin, finish):
    """FF41/FF42/FF35 open a document in the FN that 0x88 does not reach: the driver cancels
    it with FF08 and the next operation goes through."""
    if begin != 0xFF41:
        dev.open_shift(CASHIER)
    label = f"{finish:04X}" if finish > 0xFF else f"{finish:02X}"
    emu.control.inject_error(0x03, command=label)
    with pytest.raises(E.DeviceError) as info:
        if begin == 0xFF41:
            dev.open_shift(CASHIER)
        elif begin == 0xFF42:
            dev.close_shift(CASHIER)
        else:
            dev.fiscalise(correction())
    assert info.value.device_code == 0x03 and "cancel_failed" not in info.value.details
    assert dev.fn_status().open_document == 0 and emu.control.stats()["FF08"] == 1
    if begin == 0xFF41:
        assert dev.open_shift(CASHIER).fd_type == 2
    elif begin == 0xFF42:
        assert dev.close_shift(CASHIER).fd_type == 5
    else:
        assert dev.fiscalise(correction()).fd_type == 31


def test_0x88_does_not_reach_an_fn_document_ff08_does(dev, emu):
    dev._exchange(0xFF41)
    assert dev.fn_status().open_document == 0x02
    refused(lambda: dev._exchange(0x88), 0x55)  # the KKT has no receipt open
    refused(lambda: dev._exchange(0xFF41), 0x02)  # and the FN holds one
    assert dev.cancel_open_document() is True
    assert dev.fn_status().open_document == 0
    assert dev.cancel_open_document() is False
    assert dev.open_shift(CASHIER).fd_type == 2


# ---------------------------------------------------------------- 4. marking codes
def test_an_item_with_a_marking_code_is_checked_accepted_and_bound(shift, emu):
    """Marking on Shtrih (issue 16): FF61 check and FF69 accept before the receipt, FF67
    binds the code after the item and its tags; the FN item carries 2000 and 2106."""
    before = emu.control.stats()
    code = "0104601234567890215Abc123\x1d93dGVz"
    doc = receipt([item("Капли глазные", 45000, subject=33, marking_code=code), item()])
    result = shift.fiscalise(doc)
    after = emu.control.stats()
    assert [after.get(op, 0) - before.get(op, 0) for op in ("FF61", "FF69", "FF67")] == [1, 2, 1]
    marked = emu.control.document(result.fd_number)["items"][0]
    tags = {int(tag): bytes.fromhex(value) for tag, value in marked["tlvs"]}
    assert tags[2000] == code.encode() and 2106 in tags and tags[2110] == b"\x01"


def test_a_marked_subject_without_its_code_is_refused_before_anything_is_sent(shift, emu):
    before = emu.control.stats()
    bare = item("Капли глазные", 45000, subject=33)
    with pytest.raises(E.DocumentInvalid) as info:
        shift.fiscalise(receipt([bare, item()]))
    assert "marking code" in info.value.message and info.value.field == "items[0].marking_code"
    after = emu.control.stats()
    assert after.get("FF46", 0) == before.get("FF46", 0) and emu.control.state()["last_fd"] == 2


# ---------------------------------------------------------------- 7. the drive's limits
def test_correction_past_the_24_hour_shift_is_refused_and_leaves_nothing_open(shift, emu):
    emu.control.clock(advance=DAY + 60)
    with pytest.raises(E.ShiftExpired):
        shift.fiscalise(correction())
    assert shift.fn_status().open_document == 0 and emu.control.state()["last_fd"] == 2
    assert shift.close_shift(CASHIER).fd_type == 5  # the Z report stays allowed


def test_correction_past_the_30_day_ofd_limit_is_refused_by_the_fn(shift, emu):
    """FD 2 (the shift) has waited 30 days for the OFD: the drive forms no fiscal document
    (FN 0x15) but the Z report; the open correction is cancelled."""
    shift.close_shift(CASHIER)
    emu.control.clock(advance=30 * DAY - 3600)
    shift.open_shift(CASHIER)
    emu.control.clock(advance=2 * 3600)
    last = emu.control.state()["last_fd"]
    with pytest.raises(E.OfdBacklogBlocked) as info:
        shift.fiscalise(correction())
    assert info.value.device_code == 0x15 and info.value.source == "fn"
    assert shift.fn_status().open_document == 0 and emu.control.state()["last_fd"] == last
    assert shift.close_shift(CASHIER).fd_type == 5
