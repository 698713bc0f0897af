"""The till on an ATOL register: the same TillService, journal and guarantees as on
Shtrih.  Exactly once under lost answers, power loss and kill -9 of the till at
each step (the crash matrix), settled on start from the request uuid and the FN
archive read by document number."""

import json
import signal
import subprocess
import sys
import time
import uuid as uuidlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))

from atol_helpers import FAST
from ru54fz import errors as E
from ru54fz.atol.harness import start_atol_emulator
from till_helpers import (
    CRASH_POINTS,
    CRASH_RUNNER,
    check_exactly_one,
    crash_env,
    journal_entry,
    open_shift_on,
    order,
    run_till,
    service_on_shift,
)


@pytest.fixture(scope="module")
def web(tmp_path_factory):
    proc = start_atol_emulator(tmp_path_factory.mktemp("atol-till"))
    yield proc
    proc.kill()


@pytest.fixture
def svc(web, tmp_path):
    web.control.reset()
    with service_on_shift(tmp_path / "till.sqlite", web, device={"timeouts": FAST}) as service:
        yield service


def last_fd(web):
    return web.control.state()["last_fd"]


def test_sale_and_replay_give_one_document(web, svc):
    payload = order(total_lines=3)
    first = svc.sale(payload)
    assert first["state"] == "fiscalised" and first["fiscal"]["fd_type"] == 3
    again = svc.sale(payload)
    assert again == first and last_fd(web) == first["fiscal"]["fd_number"]
    assert web.control.document(first["fiscal"]["fd_number"])["total"] == 300000


def test_refund_cash_in_out_x_and_z_through_the_till(web, svc):
    sale = svc.sale(order(pay="cash"))
    refund_payload = order(operation="refund", pay="cash", total_lines=1, refund_of={"uuid": sale["uuid"]})
    # the register has not delivered the sale to the OFD yet: the refund waits for it
    with pytest.raises(E.Conflict):
        svc.refund(refund_payload)
    assert last_fd(web) == sale["fiscal"]["fd_number"]
    # the register's own OFD channel delivered it: the FN says so, the till reads it there
    web.control.ofd_confirm_all()
    refund = svc.refund(refund_payload)
    assert refund["state"] == "fiscalised" and svc.journal.get(sale["uuid"])["ofd_confirmed"]
    assert svc.cash_in({"uuid": str(uuidlib.uuid4()), "amount": 50000})["state"] == "fiscalised"
    assert svc.cash_out({"uuid": str(uuidlib.uuid4()), "amount": 20000})["state"] == "fiscalised"
    x = svc.x_report({"uuid": str(uuidlib.uuid4())})
    assert x["counters"]["cash_in_drawer"] == 200000 - 100000 + 50000 - 20000
    z = svc.close_shift({"uuid": str(uuidlib.uuid4()), "cashier": {"name": "Анна Кассирова"}})
    assert z["fiscal"]["fd_type"] == 5 and z["fiscal"]["extra"]["receipts"]["sale"]["count"] == 1
    status = svc.status()
    assert status["shift"]["open"] is False and status["fn"]["fn_serial"] == "9999078900054321"
    assert [r["code"] for r in status["reasons"]] == ["shift_closed"], status["reasons"]


def test_power_loss_after_commit_is_settled_at_once(web, svc):
    before = last_fd(web)
    web.control.power_loss(when="after", command="sell")
    payload = order()
    result = svc.sale(payload)
    assert result["state"] == "fiscalised" and result["fiscal"]["fd_number"] == before + 1
    assert result["fiscal"]["extra"].get("settled") and last_fd(web) == before + 1
    assert svc.sale(payload)["fiscal"]["fd_number"] == before + 1


def test_power_loss_before_the_sale_then_the_retry_fiscalises_once(web, svc):
    before = last_fd(web)
    web.control.power_loss(when="before", command="sell")
    payload = order()
    with pytest.raises(E.TransportError):
        svc.sale(payload)
    assert last_fd(web) == before
    assert svc.sale(payload)["fiscal"]["fd_number"] == before + 1 == last_fd(web)


def test_lost_answers_while_the_register_works_are_settled_from_the_fn(web, svc):
    before = last_fd(web)
    # every answer to 4 polls in a row lost (each tried twice): the driver gives up, then the till
    # reads the FN by document number (the in-flight request is waited for first)
    web.control.call("lost_reply", count=8, method="GET", command="sell")
    payload = order()
    result = svc.sale(payload)
    web.control.reset_faults()
    assert result["state"] == "fiscalised" and result["fiscal"]["extra"].get("settled")
    assert result["fiscal"]["fd_number"] == before + 1 == last_fd(web)
    assert svc.sale(payload) == result


def test_register_unreachable_before_the_sale_journals_nothing(web, svc):
    web.control.call("lost_reply", count=40)
    payload = order()
    with pytest.raises(E.TransportError):
        svc.sale(payload)
    web.control.reset_faults()
    entry = svc.journal.get(payload["uuid"])
    assert entry is None or entry["state"] in ("journaled", "sent")
    before = last_fd(web)
    result = svc.sale(payload)
    assert (
        result["fiscal"]["fd_number"] in (before, before + 1)
        and last_fd(web) == result["fiscal"]["fd_number"]
    )
    assert len([e for e in svc.journal.query(limit=1000) if e["kind"] == "sale"]) == 1


def test_paper_out_is_a_refusal_recorded_and_retryable(web, svc):
    before = last_fd(web)
    web.control.set(paper_out=True)
    payload = order()
    with pytest.raises(E.PaperOut):
        svc.sale(payload)
    assert svc.journal.get(payload["uuid"])["state"] == "failed" and last_fd(web) == before
    web.control.set(paper_out=False)
    assert svc.sale(payload)["fiscal"]["fd_number"] == before + 1


# -------------------------------------------------------------- crash matrix
@pytest.fixture(scope="module")
def crash_web(tmp_path_factory):
    d = tmp_path_factory.mktemp("atol-crash")
    proc = start_atol_emulator(d)
    open_shift_on(proc, d / "setup.sqlite")
    yield proc
    proc.kill()


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_the_till_at_each_step_of_a_receipt(tmp_path, crash_web, point):
    web = crash_web
    web.control.set(print_delay=0.6 if point == "during_device" else 0)
    before = last_fd(web)
    payload = order(total_lines=3)
    rc, _ = run_till(tmp_path, web, "sale", payload, crash_env(point))
    assert rc == -signal.SIGKILL
    entry = journal_entry(tmp_path, payload["uuid"])
    if point == "before_journal":
        assert entry is None
    if point in ("after_sent", "during_device", "after_device"):
        assert entry["state"] == "sent" and entry["expected_fd"] == before + 1
    # restart: settle first (the killed request may still be printing), then the POS retries
    rc, counts = run_till(tmp_path, web, "settle")
    web.control.set(print_delay=0)
    assert rc == 0 and counts["sent"] == 0 and counts["journaled"] == 0
    rc, result = run_till(tmp_path, web, "sale", payload)
    assert rc == 0 and result["state"] == "fiscalised"
    check_exactly_one(web, tmp_path, before, payload, result)
    assert not web.control.state()["doc"], "a receipt was left open on the register"


def test_kill_the_till_while_its_sale_is_queued_on_a_busy_register(tmp_path, crash_web):
    """The sale is still waiting in the web server's queue when the till dies: the
    restarted till cancels that request (uuid kept beside the journal) before it reads
    the FN, finds the sale absent and runs it again: one receipt, the old request never runs."""
    web = crash_web
    before = last_fd(web)
    payload = order()
    web.control.set(pause_on="sell")  # busy from the moment the sale comes up
    try:
        rc, _ = run_till(
            tmp_path,
            web,
            "sale",
            payload,
            {"RU54FZ_CRASH_FROM": "after_sent", "RU54FZ_CRASH_AFTER_MS": "300"},
        )
        assert rc == -signal.SIGKILL
        statuses = list(web.control.call("requests")["requests"].values())
        assert statuses[-1] == ["wait", "wait"]
        queued = len(statuses)
        proc = subprocess.Popen(
            [sys.executable, CRASH_RUNNER, str(tmp_path / "till.sqlite"), web.url, "settle"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if list(web.control.call("requests")["requests"].values())[queued - 1][0] == "canceled":
                break
            time.sleep(0.05)
    finally:
        web.control.set(paused=False)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err[-2000:]
    # the cancelled request never ran; settling found the sale absent and ran it again, once
    assert list(web.control.call("requests")["requests"].values())[queued - 1] == ["canceled", "canceled"]
    assert json.loads(out.strip().splitlines()[-1])["fiscalised"] == 1
    rc, result = run_till(tmp_path, web, "sale", payload)
    assert rc == 0
    check_exactly_one(web, tmp_path, before, payload, result)
