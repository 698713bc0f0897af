"""Faults between the driver and the register: lost HTTP answers, power loss before
and after the FN commit, slow printing, a request left queued.  In every case the
FN ends with the document exactly once or not at all, and the driver knows which
or says it cannot know (TransportError with the request uuid)."""

import threading
import time

import pytest
from atol_helpers import FAST
from kkt_testing import item, receipt
from ru54fz import errors as E
from ru54fz.atol.driver import AtolDriver
from ru54fz.devices import make_device


def fn_last(web):
    return web.control.state()["last_fd"]


def unpause_once_cancelled(web, request_count):
    """Let the paused register go on once the driver has cancelled the queued request
    (the driver's next call cancels it first, then queues its own request)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        statuses = list(requests_of(web).values())
        if len(statuses) >= request_count and statuses[request_count - 1][0] == "canceled":
            break
        time.sleep(0.02)
    web.control.set(paused=False)


def in_thread(fn):
    out = {}
    thread = threading.Thread(target=lambda: out.update(value=fn()))
    thread.start()
    return thread, out


def requests_of(web):
    return web.control.call("requests")["requests"]


def test_lost_answer_to_the_post_is_posted_again_with_the_same_uuid(web, shift):
    before = fn_last(web)
    known = set(requests_of(web))
    web.control.call("lost_reply", count=1, method="POST")
    res = shift.fiscalise(receipt())
    assert res.fd_number == before + 1 == fn_last(web)
    new = set(requests_of(web)) - known
    assert len(new) == 1, "a second POST must not create a second request"


def test_lost_answer_to_a_poll_is_asked_again(web, shift):
    before = fn_last(web)
    web.control.call("lost_reply", count=2, method="GET")
    assert shift.fiscalise(receipt()).fd_number == before + 1 == fn_last(web)


def test_web_server_silent_then_back_the_in_flight_request_is_settled_first(web, shift):
    before = fn_last(web)
    web.control.call("lost_reply", count=50, method="GET")
    with pytest.raises(E.TransportError) as info:
        shift.fiscalise(receipt())
    request_uuid = info.value.details["request_uuid"]
    web.control.reset_faults()
    # the register did it; the next operation first waits for that request's end
    assert requests_of(web)[request_uuid][-1] == "ready"
    assert shift.find_document(before + 1).total == receipt().total
    assert fn_last(web) == before + 1


def test_power_loss_before_the_sale_leaves_nothing(web, shift):
    before = fn_last(web)
    web.control.power_loss(when="before", command="sell")
    with pytest.raises(E.TransportError) as info:
        shift.fiscalise(receipt([item(), item(vat=11)]))
    assert info.value.details["stage"] == "device"
    assert fn_last(web) == before and not web.control.state()["doc"]
    assert shift.find_document(before + 1) is None
    assert shift.fiscalise(receipt()).fd_number == before + 1


def test_power_loss_after_the_fn_commit_the_document_is_found_by_number(web, shift):
    before = fn_last(web)
    doc = receipt([item(price=123400)])
    web.control.power_loss(when="after", command="sell")
    with pytest.raises(E.TransportError):
        shift.fiscalise(doc)
    assert fn_last(web) == before + 1
    found = shift.find_document(before + 1)
    assert (found.fd_type, found.total, found.operation) == (3, doc.total, 1)


@pytest.mark.parametrize("kind", ["openShift", "closeShift"])
def test_power_loss_after_a_shift_document(web, dev, kind):
    if kind == "closeShift":
        dev.open_shift("Смирнова А.")
    before = fn_last(web)
    web.control.power_loss(when="after", command=kind)
    with pytest.raises(E.TransportError):
        (dev.open_shift if kind == "openShift" else dev.close_shift)("Смирнова А.")
    assert dev.find_document(before + 1).fd_type == (2 if kind == "openShift" else 5)


def test_slow_printing_beyond_the_timeout_then_the_next_call_waits_for_it(web):
    device = make_device({**web.config, "timeouts": {**FAST, "task": 0.3}})
    try:
        device.open_shift("Смирнова А.")
        before = fn_last(web)
        web.control.set(print_delay=0.8)
        with pytest.raises(E.TransportError) as info:
            device.fiscalise(receipt())
        assert "may still run" in info.value.message
        web.control.set(print_delay=0)
        # the next request is sent only once the slow one is over: its receipt is there, once
        brief = device.fn_brief()
        assert brief.last_fd_number == before + 1 == fn_last(web)
    finally:
        device.close()


def test_a_request_still_queued_when_the_driver_gave_up_is_cancelled_never_run(web, shift):
    before = fn_last(web)
    web.control.set(paused=True)  # the register is busy elsewhere
    quick = AtolDriver(web.url, timeouts={**FAST, "task": 0.3})
    with pytest.raises(E.TransportError):
        quick.fiscalise(receipt())
    queued = len(requests_of(web))
    # the till settles: the driver cancels the queued sale before it asks anything
    thread, out = in_thread(quick.fn_brief)
    unpause_once_cancelled(web, queued)
    thread.join(10)
    assert out["value"].last_fd_number == before == fn_last(web)
    assert list(requests_of(web).values())[queued - 1] == ["canceled", "canceled"]
    quick.close()


def test_the_in_flight_request_survives_a_till_restart(web, shift, tmp_path):
    """A till killed while its sale is queued: the new process reads the in-flight uuid from
    its file and cancels the request before settling, so it can never run later."""
    inflight = tmp_path / "atol_inflight"
    before = fn_last(web)
    web.control.set(paused=True)
    first = make_device({**web.config, "timeouts": {**FAST, "task": 0.2}, "inflight_file": str(inflight)})
    with pytest.raises(E.TransportError):
        first.fiscalise(receipt())
    first.close()  # the till process is gone
    assert inflight.read_text()
    second = make_device({**web.config, "timeouts": FAST, "inflight_file": str(inflight)})
    try:
        thread, out = in_thread(second.fn_brief)
        unpause_once_cancelled(web, len(requests_of(web)))
        thread.join(10)
        assert out["value"].last_fd_number == before
        assert second.fiscalise(receipt()).fd_number == before + 1 == fn_last(web)
        assert inflight.read_text() == ""
    finally:
        second.close()


def test_web_server_down_is_a_transport_error(own_web):
    device = make_device({**own_web.config, "timeouts": FAST})
    own_web.kill()
    with pytest.raises(E.TransportError):
        device.status()
    own_web.start(port=own_web.port)
    assert device.status()["shift"] == "closed"
    device.close()
