"""Marked goods on an ATOL register: the permissive-mode check before the receipt
(mocked ЧЗ online API on a real socket), then the register's own sequence
beginMarkingCodeValidation -> getMarkingCodeValidationStatus -> acceptMarkingCode
-> sell with imcParams, checked strictly by the emulator; tags 2000, 2102, 2106,
2110 and 1260 (1262-1265) reach the FN; refunds carry their codes."""

import base64
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "atol"))

from atol_helpers import FAST, new_uuid, post_request, run_tasks
from kkt_testing import item, receipt
from marking_helpers import cis, code, device_on_shift
from ru54fz.atol import tables as T
from ru54fz.atol.harness import start_atol_emulator
from ru54fz.marking import MarkingRefused


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    proc = start_atol_emulator(tmp_path_factory.mktemp("atol-marking"))
    yield proc
    proc.kill()


@pytest.fixture
def dev(web, checker):
    with device_on_shift(web, checker, FAST, "Смирнова А.") as device:
        yield device


def marked(raw, name="Витамины для глаз, БАД", price=89000):
    return item(name, price=price, subject=33, marking_code=raw)


def tags(doc_item):
    return {tag: bytes.fromhex(value) for tag, value in doc_item.get("tlvs", [])}


def last_fd(web):
    return web.control.state()["last_fd"]


def imc_params(raw, status="itemPieceSold"):
    """The ``imcParams`` of a marked position: the code as scanned, its planned status."""
    return {
        "imcType": "auto",
        "imc": base64.b64encode(raw.encode()).decode(),
        "itemEstimatedStatus": status,
        "imcModeProcessing": 0,
    }


def marked_sell(params, name, price):
    """A sell task of one marked position (``params``: its imcParams), paid in cash."""
    position = {
        "type": "position",
        "name": name,
        "price": price,
        "quantity": 1,
        "amount": price,
        "tax": {"type": "none"},
        "paymentObject": "commodityWithMarking",
        "imcParams": params,
    }
    return {"type": "sell", "items": [position], "payments": [{"type": "cash", "sum": price}]}


def test_a_marked_item_is_checked_accepted_and_bound_to_its_position(web, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    res = dev.fiscalise(receipt([item(), marked(raw)]))
    check = res.extra["marking"]["1"]
    assert check["status"] == "valid" and check["source"] == "online" and check["industry_value"]
    stored = web.control.document(res.fd_number)
    plain, bound = stored["items"]
    assert not tags(plain) and bound["subject"] == 33
    t = tags(bound)
    assert t[2000] == raw.encode() and t[2102] == b"\x00" and t[2110] == b"\x01"
    assert t[2106][0] & 0b1111 == 0b1111  # checked, positive, status known and correct
    industry = t[1260]
    for part in (b"030", b"21.11.2023", b"1944", check["industry_value"].encode()):
        assert part in industry
    assert checker.calls[-1][0] == "online"
    # the register's table of checked codes is empty again after the receipt
    status, _ = post_request(web, new_uuid(), marked_sell(imc_params(raw), name="x", price=1))
    assert status == 201


@pytest.mark.parametrize("state", ["sold", "expired", "blocked", "not_found"])
def test_refused_codes_never_reach_the_register(web, checker, dev, state):
    raw = code(serial=f"{state[:4]}SERIAL00001"[:13])
    checker.set(cis(raw), state)
    before, stats = last_fd(web), web.control.stats()
    with pytest.raises(MarkingRefused) as info:
        dev.fiscalise(receipt([marked(raw)]))
    assert info.value.details["marking_status"] == state and info.value.http_status == 409
    after = web.control.stats()
    assert last_fd(web) == before
    assert all(after.get(op) == stats.get(op) for op in ("FF46", "FF45", "FF4D", "88"))  # no receipt begun


def test_the_same_unit_twice_in_one_receipt_is_refused(web, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    before = last_fd(web)
    with pytest.raises(MarkingRefused) as info:
        dev.fiscalise(receipt([marked(raw), marked("]d2" + raw)]))
    assert info.value.details["device_code"] == "duplicate" and last_fd(web) == before
    assert not checker.calls


def test_checker_timeout_sells_offline_without_1265(web, checker, dev):
    raw = code()
    checker.set(cis(raw), "sold")
    checker.delay = 1.0  # longer than the 0.3 s timeout, and no local module
    res = dev.fiscalise(receipt([marked(raw)]))
    assert res.extra["marking"]["0"]["status"] == "offline"
    t = tags(web.control.document(res.fd_number)["items"][0])
    assert 1260 not in t and t[2000] == raw.encode()


def test_refund_carries_its_code_with_status_returned(web, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    dev.fiscalise(receipt([marked(raw)]))
    checker.set(cis(raw), "sold")  # sold now: a refund is not refused for that
    res = dev.fiscalise(receipt([marked(raw)], operation=2))
    t = tags(web.control.document(res.fd_number)["items"][0])
    assert t[2000] == raw.encode() and t[2110] == b"\x03"


def test_the_register_refusing_the_code_declines_it(web, checker, dev):
    raw = code()
    checker.set(cis(raw), "valid")
    web.control.call("marking", cis=cis(raw), answer="sold")  # ОИСМ through the OFD says otherwise
    before = last_fd(web)
    with pytest.raises(MarkingRefused) as info:
        dev.fiscalise(receipt([marked(raw)]))
    assert info.value.details["device_code"] == "oism_incorrect" and last_fd(web) == before


def test_a_bad_scan_is_refused_before_the_register(web, checker, dev):
    before = last_fd(web)
    with pytest.raises(MarkingRefused) as info:
        dev.fiscalise(receipt([marked("4601234567893")]))
    assert info.value.details["device_code"] == "bad_code" and last_fd(web) == before


# ------------------------------------------------------------------ strict emulator sequence
def test_strict_sequence_of_the_marking_tasks(web, dev):
    params = imc_params(code())
    (r,) = run_tasks(web, {"type": "getMarkingCodeValidationStatus"})
    assert r["errorCode"] == T.MARKING_CHECK_NOT_STARTED
    (r,) = run_tasks(web, {"type": "acceptMarkingCode"})
    assert r["errorCode"] == T.MARKING_CHECK_NOT_STARTED
    sell = marked_sell(params, name="БАД", price=10)
    (position,) = sell["items"]
    (r,) = run_tasks(web, sell)
    assert r["errorCode"] == T.MARKING_CODE_NOT_ACCEPTED  # never checked
    ok, again = run_tasks(
        web,
        {"type": "beginMarkingCodeValidation", "params": params},
        {"type": "beginMarkingCodeValidation", "params": params},
    )
    assert ok["status"] == "ready" and again["errorCode"] == T.MARKING_CHECK_ALREADY_STARTED
    status, declined = run_tasks(
        web, {"type": "getMarkingCodeValidationStatus"}, {"type": "declineMarkingCode"}
    )
    assert status["result"]["ready"] is True
    (r,) = run_tasks(web, sell)
    assert r["errorCode"] == T.MARKING_CODE_NOT_ACCEPTED  # declined is not accepted
    run_tasks(web, {"type": "beginMarkingCodeValidation", "params": params}, {"type": "acceptMarkingCode"})
    wrong = {
        **sell,
        "items": [{**position, "imcParams": {**params, "itemEstimatedStatus": "itemPieceReturn"}}],
    }
    (r,) = run_tasks(web, wrong)
    assert r["errorCode"] == T.MARKING_CODE_NOT_ACCEPTED  # not the status that was checked
    (r,) = run_tasks(web, {**sell, "items": [{**position, "paymentObject": "commodity"}]})
    assert r["errorCode"] == T.INVALID_PARAM  # a code on an unmarked position
    (r,) = run_tasks(web, sell)
    assert r["status"] == "ready"
    (r,) = run_tasks(web, sell)
    assert r["errorCode"] == T.MARKING_CODE_NOT_ACCEPTED  # one acceptance, one receipt
    (r,) = run_tasks(web, {**sell, "items": [{k: v for k, v in position.items() if k != "imcParams"}]})
    assert r["errorCode"] == T.NO_REQUIRED_PARAM  # a marked position without its code
