"""Shared helpers of the till tests: real peers only.

* the KKT is the emulator subprocess over TCP (ru54fz.emulator.harness);
* the OFD is the mock OFD server (ru54fz.ofd.mock_server) over TCP;
* central is ``MiniCentral``: a real HTTP server on loopback that implements the
  receiving side of the till push format (store by uuid, forward FN messages to the OFD,
  hand the tickets back) — the minimum the till needs to be tested against.
"""

import base64
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import uuid as uuidlib
from pathlib import Path

from loopback_http import JsonHandler, LoopbackServer
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


def make_service(path, emu, clock=None, device=None, **config):
    """A TillService of till T1 (no autopush) with its journal at ``path``, on the register of
    ``emu`` (either emulator process; ``device`` adds to its device config)."""
    journal = Journal(path, till_code=config.get("till_code", "T1"), clock=clock or time.time)
    svc = TillService(
        journal,
        make_device({**emu.config, **(device or {})}),
        dict({"till_code": "T1", "autopush": False}, **config),
        clock=clock or time.time,
    )
    return svc


def close_service(svc):
    svc.stop()
    try:
        svc.device.close()
    finally:
        svc.journal.close()


#: the cashier of the tests' shifts and orders
CASHIER = "Анна Кассирова"


def open_shift(svc, uuid=None):
    """The shift opened on ``svc`` by the tests' cashier (request ``uuid``, a fresh one by default)."""
    return svc.open_shift({"uuid": uuid or f"shift-{uuidlib.uuid4()}", "cashier": {"name": CASHIER}})


@contextlib.contextmanager
def running_service(path, emu, **kw):
    """A started :func:`make_service` (``kw``: its arguments); closed on exit."""
    svc = make_service(path, emu, **kw)
    try:
        svc.start()
        yield svc
    finally:
        close_service(svc)


@contextlib.contextmanager
def service_on_shift(path, emu, shift_uuid=None, **kw):
    """A :func:`running_service` with the shift open."""
    with running_service(path, emu, **kw) as svc:
        open_shift(svc, shift_uuid)
        yield svc


def open_shift_on(emu, path):
    """A set-up: the shift opened on the register of ``emu`` by a till (journal at ``path``)
    that is closed again."""
    with service_on_shift(path, emu):
        pass


CRASH_RUNNER = str(Path(__file__).resolve().parent / "till_crash_runner.py")
CRASH_ENV = ("RU54FZ_CRASH_AT", "RU54FZ_CRASH_AFTER_MS", "RU54FZ_CRASH_FROM")


def run_till(tmp_path, emu, command, payload=None, env=None, timeout=60):
    """(exit code, result) of the till as a process of its own (till_crash_runner.py) doing
    ``command`` with its journal in ``tmp_path``, on the register of ``emu``.  ``env`` may
    have it killed at a step (RU54FZ_CRASH_*): -SIGKILL is then its end and the result None;
    any other failure raises."""
    args = [sys.executable, CRASH_RUNNER, str(tmp_path / "till.sqlite"), emu.url, command]
    if payload is not None:
        path = tmp_path / f"payload-{payload['uuid']}.json"
        path.write_text(json.dumps(payload))
        args.append(str(path))
    full_env = {k: v for k, v in os.environ.items() if k not in CRASH_ENV}
    full_env.update(env or {})
    proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=full_env)
    if proc.returncode not in (0, -signal.SIGKILL):
        raise AssertionError(f"runner failed ({proc.returncode}): {proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1]) if proc.returncode == 0 else None
    return proc.returncode, result


#: where the crash matrix kills the till during a receipt (RU54FZ_CRASH_* of ru54fz/till_service.py)
CRASH_POINTS = ["before_journal", "after_journal", "after_sent", "during_device", "after_device"]


def crash_env(point):
    """The environment that has :func:`run_till` killed at ``point`` of a receipt;
    ``during_device``: 150 ms after the receipt went to the register."""
    if point == "during_device":
        return {"RU54FZ_CRASH_FROM": "after_sent", "RU54FZ_CRASH_AFTER_MS": "150"}
    return {"RU54FZ_CRASH_AT": point}


def journal_entry(tmp_path, uuid):
    """The entry of ``uuid`` in the journal :func:`run_till` keeps in ``tmp_path`` (None: none)."""
    journal = Journal(tmp_path / "till.sqlite")
    try:
        return journal.get(uuid)
    finally:
        journal.close()


def check_exactly_one(emu, tmp_path, before, payload, result):
    """The sale ``payload`` answered ``result`` with the one FD the FN got after ``before``,
    and the till's journal agrees."""
    last = emu.control.state()["last_fd"]
    assert last == before + 1, f"expected one new FD, the FN went from {before} to {last}"
    assert result["fiscal"]["fd_number"] == last
    entry = journal_entry(tmp_path, payload["uuid"])
    assert entry["state"] == "fiscalised" and entry["fd_number"] == last


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
        "cashier": {"name": CASHIER, "inn": ""},
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


class MiniCentral(LoopbackServer):
    """Receiving side of the till push format on a real HTTP server."""

    def __init__(self, till_code="T1", token="central-secret", ofd_port=None):
        super().__init__()
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
        self._ofd = None

    def start(self, port=0):
        central = self

        class Handler(JsonHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n)
                if self.path != "/optics_pos_ru54fz/central/push":
                    return self.send_json(404, {"error": "not found"})
                # like the real central: the till is named and authenticated by headers
                if self.headers.get("X-Till-Code") != central.till_code or not tokens.verify(
                    self.headers.get("X-Till-Token", ""), central.token_hash
                ):
                    return self.send_json(401, {"error": {"code": "unauthorized"}})
                data = json.loads(body)
                if data.get("till_code") != central.till_code:
                    return self.send_json(401, {"error": {"code": "unauthorized"}})
                refusal = central.refuse(data["entries"]) if central.refuse else None
                if refusal:
                    with central.lock:
                        central.requests += 1
                    return self.send_json(refusal[0], {"error": refusal[1]})
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
                self.send_json(200, central.handle(data["entries"]))

        return self.serve(Handler, port)

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
    "open_shift",
    "open_shift_on",
    "CRASH_POINTS",
    "check_exactly_one",
    "crash_env",
    "journal_entry",
    "run_till",
    "running_service",
    "service_on_shift",
    "order",
    "fd_documents",
    "wait_for",
    "errors",
]
