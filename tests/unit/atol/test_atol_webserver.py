"""The emulated web server's HTTP protocol, spoken raw: request store, status
progression, cancel, malformed input, and restarts."""

import pytest
from atol_helpers import http_call, new_uuid, post_request, run_tasks, wait_results
from ru54fz.atol import tables as T

OPEN_SHIFT = {"type": "openShift", "operator": {"name": "Смирнова А."}}


def sell(price=10, tax="none", payment="cash", paid=10, **task):
    """A sell task of one lens at ``price`` paid ``paid`` by ``payment``: what the refusals vary."""
    position = {"type": "position", "name": "Линза", "price": price, "quantity": 1, "amount": 10}
    return {
        "type": "sell",
        **task,
        "items": [{**position, "tax": {"type": tax}}],
        "payments": [{"type": payment, "sum": paid}],
    }


def test_post_then_poll_until_ready(web):
    u = new_uuid()
    assert post_request(web, u, {"type": "getDeviceStatus"})[0] == 201
    results = wait_results(web, u)
    assert results[0]["status"] == "ready" and results[0]["errorCode"] == 0
    assert results[0]["result"]["deviceStatus"]["shift"] == "closed"


def test_the_same_uuid_twice_is_refused_and_executed_once(web):
    u = new_uuid()
    assert post_request(web, u, OPEN_SHIFT)[0] == 201
    assert post_request(web, u, OPEN_SHIFT)[0] == 409
    wait_results(web, u)
    assert web.control.state()["last_fd"] == 2


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b"[]",
        b'{"request": [{"type": "reportX"}]}',
        b'{"uuid": "x", "request": []}',
        b'{"uuid": "", "request": [{"type": "reportX"}]}',
        b'{"uuid": "x", "request": [1]}',
    ],
)
def test_malformed_posts_are_refused_and_nothing_is_stored(web, body):
    status, reply = http_call(web, "POST", "/api/v2/requests", raw=body)
    assert status == 400 and reply["error"]["description"]
    assert web.control.call("requests")["requests"] == {}


def test_unknown_request_and_unknown_path(web):
    assert http_call(web, "GET", f"/api/v2/requests/{new_uuid()}")[0] == 404
    assert http_call(web, "DELETE", f"/api/v2/requests/{new_uuid()}")[0] == 404
    assert http_call(web, "POST", "/api/v2/other", {"uuid": "a"})[0] == 404


def test_a_failed_task_interrupts_the_rest_of_its_request(web):
    results = run_tasks(web, {"type": "getShiftStatus"}, {"type": "noSuchTask"}, OPEN_SHIFT)
    assert [r["status"] for r in results] == ["ready", "error", "interrupted"]
    assert results[1]["errorCode"] == T.NOT_SUPPORTED
    assert web.control.state()["last_fd"] == 1  # the shift was not opened


@pytest.mark.parametrize(
    "task,code",
    [
        ({"type": "sell", "items": [], "payments": [{"type": "cash", "sum": 1}]}, T.NO_REQUIRED_PARAM),
        (sell(tax="vat18"), T.INVALID_TAX_TYPE),
        (sell(price=10.001), T.INVALID_SUM),
        (sell(payment="bitcoin"), T.INVALID_PARAM),
        (sell(paid=5), T.NOT_FULLY_PAID),
        (sell(taxationType="magic"), T.INVALID_TAXATION_TYPE),
        ({"type": "cashOut", "cashSum": 1}, T.NO_CASH),
        ({"type": "getFnDocument", "fiscalDocumentNumber": 77}, T.FN_NO_MORE_DATA),
        ({"type": "getFnDocument", "fiscalDocumentNumber": "1"}, T.INVALID_PARAM),
    ],
)
def test_task_refusals_leave_no_document_open(web, task, code):
    run_tasks(web, OPEN_SHIFT)
    (result,) = run_tasks(web, task)
    assert result["status"] == "error" and result["errorCode"] == code and result["errorDescription"]
    state = web.control.state()
    assert state["last_fd"] == 2 and not state["doc"]


def test_cancel_a_queued_request_and_not_a_started_one(web):
    web.control.set(paused=True)
    u = new_uuid()
    post_request(web, u, OPEN_SHIFT)
    assert http_call(web, "GET", f"/api/v2/requests/{u}")[1]["results"][0]["status"] == "wait"
    assert http_call(web, "DELETE", f"/api/v2/requests/{u}")[0] == 200
    web.control.set(paused=False)
    u2 = new_uuid()
    post_request(web, u2, {"type": "getShiftStatus"})
    wait_results(web, u2)
    assert wait_results(web, u)[0]["status"] == "canceled"
    assert web.control.state()["last_fd"] == 1  # the cancelled shift was never opened
    assert http_call(web, "DELETE", f"/api/v2/requests/{u2}")[0] == 409


def test_requests_run_in_arrival_order(web):
    web.control.set(paused=True)
    first, second = new_uuid(), new_uuid()
    post_request(web, first, OPEN_SHIFT)
    post_request(web, second, {"type": "getShiftStatus"})
    web.control.set(paused=False)
    # the status read queued after the open sees the shift open
    assert wait_results(web, second)[0]["result"]["shiftStatus"]["state"] == "opened"


def test_the_request_store_survives_a_restart(own_web):
    u = new_uuid()
    post_request(own_web, u, OPEN_SHIFT)
    wait_results(own_web, u)
    own_web.kill()
    own_web.start(port=own_web.port)
    (result,) = wait_results(own_web, u)
    assert result["status"] == "ready" and result["result"]["fiscalParams"]["fiscalDocumentNumber"] == 2
    assert post_request(own_web, u, {"type": "reportX"})[0] == 409
