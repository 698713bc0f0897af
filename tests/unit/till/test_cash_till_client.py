"""ru54fz.till_client against a real HTTP server on loopback speaking the till HTTP API."""

import json
import socket
import time

import pytest
from loopback_http import JsonHandler, LoopbackServer
from ru54fz import errors
from ru54fz.till_client import TillAuthError, TillClient

TOKEN = "till-token"


class FakeTill(JsonHandler):
    """Answers like the till controller: token check, JSON errors with HTTP statuses."""

    calls = []
    replies = {}

    def _handle(self, method):
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length)) if length else None
        action = self.path.split("/hw_proxy/ru54fz/", 1)[1]
        type(self).calls.append((method, action, body, self.headers.get("X-Till-Token")))
        if self.headers.get("X-Till-Token") != TOKEN:
            return self.send_json(401, {"error": {"code": "unauthorized", "message": "bad token"}})
        name = action.split("?")[0]
        reply = type(self).replies.get(name)
        if callable(reply):
            return reply(self)
        if reply is None:
            return self.send_json(404, {"error": {"code": "not_found", "message": name}})
        status, payload = reply
        return self.send_json(status, payload)

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")


@pytest.fixture
def till():
    FakeTill.calls = []
    FakeTill.replies = {}
    with LoopbackServer().serve(FakeTill) as loopback:
        yield loopback.server, loopback.url


def test_cash_in_sends_token_uuid_and_kopecks(till):
    _server, url = till
    FakeTill.replies["cash_in"] = (
        200,
        {"uuid": "u-1", "state": "fiscalised", "counters": {"amount": 150000}},
    )
    reply = TillClient(url, TOKEN).cash_in("u-1", 150000, "Ivanova")
    assert reply["state"] == "fiscalised"
    method, action, body, token = FakeTill.calls[-1]
    assert (method, action, token) == ("POST", "cash_in", TOKEN)
    assert body == {"uuid": "u-1", "amount": 150000, "cashier": "Ivanova"}


def test_journal_query_parameters(till):
    _server, url = till
    FakeTill.replies["journal"] = (200, {"entries": [{"uuid": "a", "state": "fiscalised"}]})
    entries = TillClient(url, TOKEN).journal(state="fiscalised", limit=5)
    assert entries == [{"uuid": "a", "state": "fiscalised"}]
    assert FakeTill.calls[-1][1] in ("journal?state=fiscalised&limit=5", "journal?limit=5&state=fiscalised")


@pytest.mark.parametrize(
    "status,code,cls",
    [
        (400, "document_invalid", errors.DocumentInvalid),
        (409, "conflict", errors.Conflict),
        (502, "paper_out", errors.PaperOut),
        (502, "insufficient_cash_xyz", errors.DeviceError),  # unknown code: by HTTP status
        (503, "device_unreachable", errors.TransportError),
        (503, "journal_unavailable", errors.JournalUnavailable),
    ],
)
def test_errors_are_typed(till, status, code, cls):
    _server, url = till
    FakeTill.replies["cash_out"] = (status, {"error": {"code": code, "message": "nope", "field": "amount"}})
    with pytest.raises(cls) as info:
        TillClient(url, TOKEN).cash_out("u-2", 100, "x")
    assert info.value.message == "nope"
    assert info.value.code == code
    assert info.value.details["http"] == status


def test_wrong_token(till):
    _server, url = till
    with pytest.raises(TillAuthError):
        TillClient(url, "other").counters()


def test_refuses_bad_amount_without_calling(till):
    _server, url = till
    client = TillClient(url, TOKEN)
    for amount in (0, -5, 12.5, "100", True):
        with pytest.raises(errors.RequestInvalid):
            client.cash_in("u", amount, "x")
    assert FakeTill.calls == []


def test_timeout_is_a_transport_error(till):
    _server, url = till

    def slow(handler):
        time.sleep(1.5)
        try:
            handler.send_json(200, {})
        except OSError:
            pass  # the client gave up: that is the point

    FakeTill.replies["counters"] = slow
    client = TillClient(url, TOKEN, timeout=(1.0, 0.3))
    started = time.monotonic()
    with pytest.raises(errors.TransportError) as info:
        client.counters()
    assert time.monotonic() - started < 1.4
    assert info.value.retryable


def test_unreachable_till():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(errors.TransportError):
        TillClient(f"http://127.0.0.1:{port}", TOKEN, timeout=(0.5, 0.5)).status()


def test_non_json_reply_is_a_transport_error(till):
    _server, url = till

    def html(handler):
        data = b"<html>proxy error</html>"
        handler.send_response(200)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    FakeTill.replies["status"] = html
    with pytest.raises(errors.TransportError):
        TillClient(url, TOKEN).status()


def test_configuration_is_required():
    with pytest.raises(errors.RequestInvalid):
        TillClient("", TOKEN)
    with pytest.raises(errors.RequestInvalid):
        TillClient("http://127.0.0.1:1", "")
