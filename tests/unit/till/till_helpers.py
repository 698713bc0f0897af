"""Shared helpers of the till tests: real peers only.

* the KKT is the emulator subprocess over TCP (ru54fz.emulator.harness);
* the OFD is the mock OFD server (ru54fz.ofd.mock_server) over TCP;
* central is ``MiniCentral``: a real HTTP server on loopback that implements the
  receiving side of the till push format (store by uuid, forward FN messages to the OFD,
  hand the tickets back) — the minimum the till needs to be tested against.
"""

import base64
import json
import threading
import time
import uuid as uuidlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ru54fz import errors, tokens
from ru54fz.journal import Journal
from ru54fz.ofd.client import OfdError, TcpOfdTransport
from ru54fz.till_service import TillService


class Clock:
    """A controllable wall clock (seconds since the epoch)."""

    def __init__(self, t=None):
        self.t = time.time() if t is None else t

    def __call__(self):
        return self.t


def make_device(config):
    from ru54fz.devices import make_device as real

    return real(config)


def make_service(path, emu, clock=None, **config):
    journal = Journal(path, till_code=config.get("till_code", "T1"), clock=clock or time.time)
    device = make_device(emu.config)
    svc = TillService(
        journal, device, dict({"till_code": "T1", "autopush": False}, **config), clock=clock or time.time
    )
    return svc


def close_service(svc):
    svc.stop()
    try:
        svc.device.close()
    finally:
        svc.journal.close()


def order(uid=None, total_lines=2, pay="card", operation="sale", refund_of=None, **kw):
    lines = []
    for i in range(total_lines):
        lines.append(
            {
                "name": f"Линза очковая №{i + 1}",
                "quantity": "1.000",
                "price": "1000.00",
                "amount": "1000.00",
                "vat_code": 6 if i % 2 == 0 else 11,
                "payment_method": 4,
                "subject": 1,
                "measure": 0,
                "barcode": "",
            }
        )
    total = f"{1000 * total_lines}.00"
    d = {
        "uuid": uid or str(uuidlib.uuid4()),
        "pos_reference": "Order 00001-001-0001",
        "operation": operation,
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": lines,
        "payments": [{"kind": pay, "amount": total}],
        "refund_of": refund_of,
    }
    d.update(kw)
    return d


def fd_documents(device, first, last):
    """{fd_number: FoundDocument} of the FN archive between two FD numbers."""
    return {n: device.find_document(n) for n in range(first, last + 1)}


class MiniCentral:
    """Receiving side of the till push format on a real HTTP server."""

    def __init__(self, till_code="T1", token="central-secret", ofd_port=None):
        self.till_code = till_code
        self.token_hash = tokens.hash_token(token)
        self.token = token
        self.ofd_port = ofd_port
        self.store = {}  # uuid -> entry (first version) ; never duplicated
        self.arrivals = []  # uuids in first-arrival order
        self.requests = 0
        self.pending_tickets = []  # [{"uuid", "fd_number", "ticket"}]
        self.statuses = []  # the till's status reports, as pushed
        #: one record a push: {"entries": [uuid], "messages": [uuid carrying an OFD message],
        #: "status": bool, "tickets_written": [uuid]}
        self.pushes = []
        #: ``refuse(entries) -> None | (http status, error dict)``: a refusal central
        #: answers instead of storing (the whole push is then stored by nobody)
        self.refuse = None
        self.settings = None  # company policies for the push reply (refund saga)
        #: like the real central: the OFD delivery runs in a job after the push, so a
        #: ticket is only in a later push reply
        self.late_tickets = False
        self.lock = threading.Lock()
        self.server = None
        self.port = None
        self._ofd = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, port=0):
        central = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.path != "/optics_pos_ru54fz/central/push":
                    return self._send(404, {"error": "not found"})
                # like the real central: the till is named and authenticated by headers
                if self.headers.get("X-Till-Code") != central.till_code or not tokens.verify(
                    self.headers.get("X-Till-Token", ""), central.token_hash
                ):
                    return self._send(401, {"error": {"code": "unauthorized"}})
                data = json.loads(body)
                if data.get("till_code") != central.till_code:
                    return self._send(401, {"error": {"code": "unauthorized"}})
                refusal = central.refuse(data["entries"]) if central.refuse else None
                if refusal:
                    with central.lock:
                        central.requests += 1
                    return self._send(refusal[0], {"error": refusal[1]})
                if data.get("status") is not None:
                    central.statuses.append(data["status"])
                central.pushes.append(
                    {
                        "entries": [e["uuid"] for e in data["entries"]],
                        "messages": [e["uuid"] for e in data["entries"] if e.get("ofd_message")],
                        "status": data.get("status") is not None,
                        "tickets_written": list(data.get("tickets_written") or []),
                    }
                )
                self._send(200, central.handle(data["entries"]))

            def _send(self, status, payload):
                raw = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def handle(self, entries):
        accepted, tickets = [], []
        with self.lock:
            self.requests += 1
            for e in entries:
                u = e["uuid"]
                if u not in self.store:
                    self.store[u] = e
                    self.arrivals.append(u)
                elif e.get("ofd_message") and not self.store[u].get("ofd_message"):
                    self.store[u]["ofd_message"] = e["ofd_message"]
                accepted.append(u)
                msg = e.get("ofd_message")
                if msg and self.ofd_port and not self.store[u].get("ticket"):
                    ticket = self._send_to_ofd(base64.b64decode(msg))
                    if ticket is not None:
                        self.store[u]["ticket"] = base64.b64encode(ticket).decode()
                        tickets.append(
                            {
                                "uuid": u,
                                "fd_number": e["fiscal"]["fd_number"],
                                "ticket": self.store[u]["ticket"],
                            }
                        )
            if self.late_tickets:
                tickets, self.pending_tickets = self.pending_tickets, tickets
        reply = {"accepted": accepted, "tickets": tickets}
        if self.settings is not None:
            reply["settings"] = dict(self.settings)
        return reply

    def _send_to_ofd(self, message):
        if self._ofd is None:
            self._ofd = TcpOfdTransport("127.0.0.1", self.ofd_port, connect_timeout=1, read_timeout=2)
        try:
            return self._ofd.send(message)
        except OfdError:
            self._ofd.close()
            self._ofd = None
            return None


def wait_for(pred, timeout=10.0, step=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(step)
    return False


__all__ = [
    "Clock",
    "MiniCentral",
    "make_service",
    "close_service",
    "order",
    "fd_documents",
    "wait_for",
    "errors",
]
