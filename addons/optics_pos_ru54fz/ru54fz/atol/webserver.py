"""The emulated ATOL driver web server: the JSON task API over real HTTP.

    POST   /api/v2/requests          {"uuid": "...", "request": [task, ...]}  -> 201
                                     (400 malformed, 409 uuid already used)
    GET    /api/v2/requests/<uuid>   {"results": [{"status", "errorCode",
                                       "errorDescription", "result"}, ...]}   (404 unknown)
    DELETE /api/v2/requests/<uuid>   cancels a request that has not started -> 200
                                     (409 when it already started, 404 unknown)

Requests are executed one at a time in the order they arrived (one register);
the tasks of a request run in order and, once one fails, the rest are
``interrupted``.  The request store is persisted next to the FN state, so a
restarted web server still answers for the uuids it accepted.

Faults (JSON control channel, the same line protocol and client as the Shtrih
emulator, ``emulator.control.EmulatorControl``): the FN model's paper / cover /
print delay / clock / injected errors, plus ``power_loss`` before or after a task
(``command`` = task type), ``lost_reply`` (the HTTP answer is never sent; only for
requests holding task ``command`` when given) and ``paused`` / ``pause_on`` (the
register is busy: requests stay queued, from now on or from the next request
holding that task type).
"""

import contextlib
import json
import os
import queue
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ..emulator.process import ControlChannel
from ..shtrih import codec
from . import tables as T
from .firmware import AtolFirmware, TaskError

MAX_BODY = 1 << 20
MAX_KEPT = 2000


class Faults:
    def __init__(self):
        self.reset()

    def reset(self):
        self.power_loss = None  # {"when": "before"|"after", "command": task type|None, "count": n}
        self.injected = []  # [{"code": atol code, "command": task type|None, "count", "after"}]
        self.lost_replies = None  # {"count": n, "method": "POST"|"GET"|"DELETE"|None}
        self.paused = False  # requests wait in the queue (the register is busy)
        self.pause_on = None  # task type: pause when a request holding it comes up

    def to_dict(self):
        return {
            "power_loss": self.power_loss,
            "injected": list(self.injected),
            "lost_replies": self.lost_replies,
            "paused": self.paused,
            "pause_on": self.pause_on,
        }

    def take(self, attr, kind, **match):
        entry = getattr(self, attr)
        if not entry or entry.get("command") not in (None, kind):
            return False
        if any(entry.get(k) != v for k, v in match.items()):
            return False
        entry["count"] = entry.get("count", 1) - 1
        if entry["count"] <= 0:
            setattr(self, attr, None)
        return True

    def take_injected(self, kind, after):
        for entry in self.injected:
            if entry.get("command") in (None, kind) and bool(entry.get("after")) == after:
                entry["count"] = entry.get("count", 1) - 1
                if entry["count"] <= 0:
                    self.injected.remove(entry)
                return entry["code"]
        return 0


class AtolWebServer(ControlChannel):
    def __init__(self, model, host="127.0.0.1", port=0, control_port=0):
        self.model = model
        self.firmware = AtolFirmware(model)
        self.faults = Faults()
        self.lock = threading.RLock()  # the request store
        self.store_lock = threading.Lock()  # its file
        self.requests = {}  # uuid -> {"tasks": [...], "results": [...]}
        self.order = []
        self.queue = queue.Queue()
        self.stopping = threading.Event()
        self.wake = threading.Event()
        self.store_path = f"{model.state_file}.requests.json" if model.state_file else None
        self._load()
        server = self

        class Handler(_Handler):
            web = server

        self.http = ThreadingHTTPServer((host, port), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]
        self.control = socket.create_server((host, control_port))
        self.control_port = self.control.getsockname()[1]

    # --------------------------------------------------------------- request store
    # The request store is an append-only journal (one JSON line per new request or task
    # result), so recording a change costs the same with 10 or 100,000 requests; it is
    # compacted to the last MAX_KEPT requests when the server starts.
    def _load(self):
        if not self.store_path or not os.path.exists(self.store_path):
            return
        with open(self.store_path, encoding="utf-8") as fh:
            for line in fh:
                try:
                    rec = json.loads(line)
                except ValueError:
                    break  # a line cut by a crash: everything before it holds
                if "tasks" in rec:
                    self.requests[rec["uuid"]] = {"tasks": rec["tasks"], "results": rec["results"]}
                    self.order.append(rec["uuid"])
                elif rec.get("uuid") in self.requests:
                    self.requests[rec["uuid"]]["results"][rec["index"]] = rec["result"]
        for uuid in self.order:
            req = self.requests[uuid]
            for res in req["results"]:
                if res["status"] == "inProgress":
                    # the web server died while the register worked on it: the outcome is
                    # unknown to the server, as after a broken link
                    res.update(
                        status="error",
                        errorCode=T.NO_CONNECTION,
                        errorDescription=T.DESCRIPTIONS[T.NO_CONNECTION],
                        result=None,
                    )
            if any(r["status"] == "wait" for r in req["results"]):
                if any(r["status"] == "error" for r in req["results"]):
                    _interrupt_rest(req["results"])
                else:
                    self.queue.put(uuid)
        self._compact()

    def _compact(self):
        with self.lock:
            while len(self.order) > MAX_KEPT:
                self.requests.pop(self.order.pop(0), None)
            lines = [
                json.dumps({"uuid": u, **self.requests[u]}, ensure_ascii=False, separators=(",", ":"))
                for u in self.order
            ]
        tmp = self.store_path + ".tmp"
        with self.store_lock:
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write("".join(line + "\n" for line in lines))
            os.replace(tmp, self.store_path)

    def _append(self, record):
        if not self.store_path:
            return
        line = json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"
        with self.store_lock, open(self.store_path, "a", encoding="utf-8") as fh:
            fh.write(line)

    def _save(self):
        """A full rewrite (reset, shutdown)."""
        if self.store_path:
            self._compact()

    def submit(self, body):
        """(HTTP status, error text) for a POSTed request."""
        if not isinstance(body, dict):
            return 400, "the body must be a JSON object"
        uuid = body.get("uuid")
        tasks = body.get("request")
        if isinstance(tasks, dict):
            tasks = [tasks]
        if not isinstance(uuid, str) or not uuid.strip() or len(uuid) > 64:
            return 400, "uuid is missing or invalid"
        if not isinstance(tasks, list) or not tasks or not all(isinstance(t, dict) for t in tasks):
            return 400, "request must be a task object or a non-empty list of them"
        with self.lock:
            if uuid in self.requests:
                return 409, f"a request with uuid {uuid} already exists"
            self.requests[uuid] = {
                "tasks": tasks,
                "results": [
                    {"status": "wait", "errorCode": 0, "errorDescription": "", "result": None} for _ in tasks
                ],
            }
            self.order.append(uuid)
            record = {"uuid": uuid, **self.requests[uuid]}
            record = json.loads(json.dumps(record))
        self._append(record)
        self.queue.put(uuid)
        return 201, ""

    def results(self, uuid):
        with self.lock:
            req = self.requests.get(uuid)
            return None if req is None else {"results": json.loads(json.dumps(req["results"]))}

    def cancel(self, uuid):
        with self.lock:
            req = self.requests.get(uuid)
            if req is None:
                return 404
            if any(r["status"] != "wait" for r in req["results"]):
                return 409
            for r in req["results"]:
                r.update(status="canceled", errorDescription="Задание отменено")
            changes = [{"uuid": uuid, "index": i, "result": dict(r)} for i, r in enumerate(req["results"])]
        for change in changes:
            self._append(change)
        return 200

    # --------------------------------------------------------------- the register
    def _worker(self):
        while not self.stopping.is_set():
            try:
                uuid = self.queue.get(timeout=0.2)
            except queue.Empty:
                continue
            with self.lock:
                kinds = {t.get("type") for t in self.requests.get(uuid, {}).get("tasks", [])}
            if self.faults.pause_on and self.faults.pause_on in kinds:
                self.faults.paused, self.faults.pause_on = True, None
            while self.faults.paused and not self.stopping.is_set():
                self.wake.wait(0.05)
                self.wake.clear()
            if self.stopping.is_set():
                return
            self._run_request(uuid)

    def _run_request(self, uuid):
        with self.lock:
            req = self.requests.get(uuid)
            if req is None:
                return
        for index, task in enumerate(req["tasks"]):
            res = req["results"][index]
            if res["status"] != "wait":
                continue
            with self.lock:
                res["status"] = "inProgress"
            self._append({"uuid": uuid, "index": index, "result": dict(res)})
            try:
                status, code, desc, result = self._run_task(task)
            except Exception:  # an emulator bug must fail the task, not stop the register
                import traceback

                traceback.print_exc()
                status, code, desc, result = _error(T.INTERNAL)
            # written to the store before a GET can see it: an outcome a client has read
            # survives a restart (as the real web server's request store)
            done = dict(res, status=status, errorCode=code, errorDescription=desc, result=result)
            self._append({"uuid": uuid, "index": index, "result": done})
            with self.lock:
                res.update(done)
                changes = []
                if status == "error":
                    _interrupt_rest(req["results"])
                    changes = [
                        (i, dict(r)) for i, r in enumerate(req["results"]) if r["status"] == "interrupted"
                    ]
            for i, r in changes:
                self._append({"uuid": uuid, "index": i, "result": r})
            if status == "error":
                return

    def _run_task(self, task):
        kind = task.get("type") if isinstance(task, dict) else None
        model = self.model
        with model.lock:
            if self.faults.take("power_loss", kind, when="before"):
                self._reboot()
                return _error(T.NO_CONNECTION)
            injected = self.faults.take_injected(kind, after=False)
            if injected:
                return _error(injected)
            try:
                result = self.firmware.run(task)
            except TaskError as exc:
                return "error", exc.code, exc.description, None
            except codec.CodecError as exc:
                self.firmware.cancel_open()
                return _error(T.INVALID_PARAM, str(exc))
            if self.faults.take("power_loss", kind, when="after"):
                # done and committed on the FN, but the link broke before the answer
                self._reboot()
                return _error(T.NO_CONNECTION)
            late = self.faults.take_injected(kind, after=True)
            if late:
                return _error(late)
        return "ready", 0, T.DESCRIPTIONS[T.OK], result

    def _reboot(self):
        """The register lost power: whatever document was being built is gone."""
        self.model.state["doc"] = None
        self.model.state["ofd_write"] = None
        self.firmware.validation = None
        self.firmware.accepted.clear()

    # --------------------------------------------------------------- control
    # the channel and the ops both emulators answer: emulator.process.ControlChannel
    control_ensure_ascii = False

    def _armed_faults(self):
        return self.faults

    def op_state(self, req):
        return {"state": {**self.model.summary(), "atol_faults": self.faults.to_dict()}}

    def op_lost_reply(self, req):
        self.faults.lost_replies = {
            "count": int(req.get("count", 1)),
            "method": req.get("method"),
            "command": req.get("command"),
        }
        return {}

    def op_reset(self, req):
        self.model.reset()
        self.faults.reset()
        self.firmware.validation = None
        self.firmware.accepted.clear()
        self.firmware.oism.clear()
        with self.lock:
            self.requests.clear()
            self.order.clear()
        self._save()
        return {}

    def op_reset_faults(self, req):
        self.model.faults.reset()
        self.faults.reset()
        self.wake.set()
        return {}

    def op_requests(self, req):
        with self.lock:
            return {"requests": {u: [r["status"] for r in self.requests[u]["results"]] for u in self.order}}

    def op_marking(self, req):
        """The ``marking`` op."""
        # what the marking operator answers for a code identity (GTIN + serial)
        if req.get("clear"):
            self.firmware.oism.clear()
        else:
            self.firmware.oism[req["cis"]] = req.get("answer", "valid")
        return {"oism": dict(self.firmware.oism)}

    def op_set(self, req):
        """The ``set`` op: the FN's and the web server's faults, under the model's lock."""
        model, faults, fn_faults = self.model, self.faults, self.model.faults
        for key in ("paper_out", "cover_open"):
            if key in req:
                setattr(fn_faults, key, bool(req[key]))
        if "print_delay" in req:
            fn_faults.print_delay = float(req["print_delay"])
        if "fn_capacity" in req:
            model.state["reg"]["fn_capacity"] = int(req["fn_capacity"])
            model.save()
        if "pause_on" in req:
            faults.pause_on = req["pause_on"]
        if "paused" in req:
            faults.paused = bool(req["paused"])
            self.wake.set()
        return {"faults": {**fn_faults.to_dict(), **faults.to_dict()}}

    # --------------------------------------------------------------- lifecycle
    def start(self):
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        threading.Thread(target=self._serve_control, daemon=True).start()
        threading.Thread(target=self._worker, daemon=True).start()
        return self

    def stop(self):
        if self.stopping.is_set():
            return
        self.stopping.set()
        self.wake.set()
        threading.Thread(target=self.http.shutdown, daemon=True).start()
        with contextlib.suppress(OSError):
            self.control.close()


def _error(code, description=None):
    return "error", code, description or T.DESCRIPTIONS.get(code, f"Ошибка {code}"), None


def _interrupt_rest(results):
    for r in results:
        if r["status"] == "wait":
            r.update(status="interrupted", errorDescription="Задание не выполнено: ошибка предыдущего")


class _Handler(BaseHTTPRequestHandler):
    web = None  # set by AtolWebServer
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet: tests and benchmarks read stdout
        pass

    # StreamRequestHandler.setup returns nothing
    def setup(self):  # pylint: disable=missing-return
        super().setup()
        # headers and body go out in two writes: without this, Nagle's algorithm and the
        # client's delayed ACK add ~40 ms to every answer
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _lost(self):
        faults = self.web.faults
        with self.web.model.lock:
            lost = faults.lost_replies
            if lost and lost.get("command") and lost["command"] not in self._task_types():
                return False
            if lost and lost.get("method") in (None, self.command):
                lost["count"] -= 1
                if lost["count"] <= 0:
                    faults.lost_replies = None
                return True
        return False

    def _reply(self, status, body=None):
        if self._lost():
            # the request was handled; its answer never reaches the client
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        self.send_response(status)
        if raw:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def _task_types(self):
        """Task types of the request this HTTP exchange is about."""
        uuid = self._uuid() or getattr(self, "posted_uuid", None)
        with self.web.lock:
            req = self.web.requests.get(uuid) if uuid else None
            return {t.get("type") for t in req["tasks"]} if req else set()

    def _uuid(self):
        prefix = "/api/v2/requests/"
        if not self.path.startswith(prefix) or len(self.path) == len(prefix):
            return None
        return self.path[len(prefix) :]

    def do_POST(self):
        if self.path.rstrip("/") != "/api/v2/requests":
            return self._reply(404, {"error": {"description": "unknown path"}})
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length <= 0 or length > MAX_BODY:
            return self._reply(400, {"error": {"description": "a JSON body is required"}})
        try:
            body = json.loads(self.rfile.read(length))
        except (ValueError, UnicodeDecodeError):
            return self._reply(400, {"error": {"description": "the body is not JSON"}})
        self.posted_uuid = body.get("uuid") if isinstance(body, dict) else None
        status, text = self.web.submit(body)
        self._reply(status, {"error": {"description": text}} if text else None)

    def do_GET(self):
        uuid = self._uuid()
        found = self.web.results(uuid) if uuid else None
        if found is None:
            return self._reply(404, {"error": {"description": "no such request"}})
        self._reply(200, found)

    def do_DELETE(self):
        uuid = self._uuid()
        status = self.web.cancel(uuid) if uuid else 404
        self._reply(status, None if status == 200 else {"error": {"description": "not cancelled"}})
