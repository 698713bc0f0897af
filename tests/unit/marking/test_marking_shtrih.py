"""Marked goods on a Shtrih-M register: the permissive-mode check (mocked ЧЗ API on a
real socket), then FF61 check -> FF69 accept -> FF46 item + FF4D tags -> FF67 bind,
checked strictly by the emulated FN on every device profile; 2000/2102/2106/2110 and
1260 reach the FN; refunds carry their codes; the sequence rules are enforced."""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "kkt"))

from kkt_helpers import FAST, close_values, item_values
from kkt_testing import item, receipt
from marking_helpers import cis, code, device_on_shift
from ru54fz import errors as E
from ru54fz.emulator.harness import start_emulator
from ru54fz.emulator.model import DEVICE_PROFILES
from ru54fz.marking import MarkingRefused


@pytest.fixture(scope="module", params=DEVICE_PROFILES)
def emu(request, tmp_path_factory):
    proc = start_emulator(tmp_path_factory.mktemp("shtrih-marking"), profile=request.param)
    yield proc
    proc.kill()


@pytest.fixture
def dev(emu, checker):
    with device_on_shift(emu, checker, FAST, "Смирнова А.", "500100732259") as device:
        yield device


def marked(raw, name="Витамины для глаз, БАД", price=89000):
    return item(name, price=price, subject=33, marking_code=raw)


def tags(doc_item):
    return {int(tag): bytes.fromhex(value) for tag, value in doc_item.get("tlvs", [])}


def test_marked_sale_check_accept_bind_on_every_profile(emu, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    before = emu.control.stats()
    res = dev.fiscalise(receipt([item(product_code="4601234567893"), marked(raw, price=45050)]))
    after = emu.control.stats()
    assert {op: after.get(op, 0) - before.get(op, 0) for op in ("FF61", "FF69", "FF67")} == {
        "FF61": 1,
        "FF69": 2,
        "FF67": 1,
    }  # FF69 2 (clear) first, then accept
    stored = emu.control.document(res.fd_number)
    plain, bound = stored["items"]
    assert 2000 not in tags(plain)
    t = tags(bound)
    assert t[2000] == raw.encode() and t[2102] == b"\x00" and t[2110] == b"\x01"
    assert t[2106][0] & 0b1110 == 0b1110 and 1163 not in t
    industry = t[1260]
    assert b"030" in industry and b"1944" in industry
    assert res.extra["marking"]["1"]["industry_value"].encode() in industry


def test_refused_by_the_permissive_check_nothing_reaches_the_fn(emu, checker, dev):
    raw = code(serial="SOLDSERIAL001")
    checker.set(cis(raw), "sold")
    before = emu.control.stats()
    with pytest.raises(MarkingRefused):
        dev.fiscalise(receipt([marked(raw)]))
    after = emu.control.stats()
    assert all(after.get(op, 0) == before.get(op, 0) for op in ("FF61", "FF46", "FF45"))


def test_the_marking_operator_says_sold_the_code_is_rejected(emu, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    emu.control.call("marking", cis=cis(raw), answer="sold")
    last = emu.control.state()["last_fd"]
    with pytest.raises(MarkingRefused) as info:
        dev.fiscalise(receipt([marked(raw)]))
    assert info.value.details["device_code"] == "oism_incorrect"
    state = emu.control.state()
    assert state["last_fd"] == last and not state["doc"]


def test_refund_carries_the_code_as_returned(emu, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    dev.fiscalise(receipt([marked(raw)]))
    checker.set(cis(raw), "sold")
    emu.control.call("marking", cis=cis(raw), answer="sold")  # sold: right for a return
    res = dev.fiscalise(receipt([marked(raw)], operation=2))
    t = tags(emu.control.document(res.fd_number)["items"][0])
    assert t[2000] == raw.encode() and t[2110] == b"\x03"


def test_strict_fn_sequence(emu, dev):
    km = code().encode()
    shtrih = dev._device

    def refused(code_, **values):
        with pytest.raises(E.DeviceError) as info:
            shtrih._exchange(code_, **values)
        return info.value.device_code

    assert refused(0xFF69, action=1) == 0x02  # nothing checked
    shtrih._exchange(0xFF61, status=1, mode=0, km_len=len(km), tlv_len=0, data=km)
    assert refused(0xFF61, status=1, mode=0, km_len=len(km), tlv_len=0, data=km) == 0x02  # FF69 first
    assert shtrih._exchange(0xFF69, action=1)["check_result"] & 1
    values = item_values(
        1000, "Позиция", tax_amount=0xFF_FFFF_FFFF, tax=shtrih.capabilities().model.vat_bytes[6]
    )
    shtrih._exchange(0xFF46, **values)
    assert refused(0xFF67, km=km) == 0x02  # not a marked item
    shtrih._exchange(0xFF46, **{**values, "subject": 33})
    assert refused(0xFF67, km=b"01" + km[2:-1] + b"X") == 0x02  # a code never accepted
    close = close_values(2000)
    assert refused(0xFF45, **close) == 0x02  # the marked item has no code
    shtrih._exchange(0xFF67, km=km)
    assert refused(0xFF67, km=km) == 0x02  # bound once
    assert shtrih._exchange(0xFF45, **close)["fd_number"]


def test_a_check_left_unanswered_by_an_interrupted_attempt_does_not_block_the_next(emu, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    km = raw.encode()
    dev._device._exchange(0xFF61, status=1, mode=0, km_len=len(km), tlv_len=0, data=km)  # no FF69
    res = dev.fiscalise(receipt([marked(raw)]))
    assert tags(emu.control.document(res.fd_number)["items"][0])[2000] == km
