"""Mocks of the two permissive-mode checkers on real HTTP sockets (tests, demo).

``MockChecker().start()`` (or ``with MockChecker() as mock:``) serves both APIs on one
loopback port:

* the ЧЗ online check: ``POST /codes/check {"codes": [...], "fiscalDriveNumber"}``;
* the local module (ЛМ ЧЗ): ``GET /api/v1/cis/check?cis=<code>``.

Answers per code identity (GTIN + serial, ``MarkingCode.cis``): ``set(cis, state)``
with state ``valid`` (default for unknown codes: ``not_found``), ``sold``,
``expired``, ``blocked``; ``delay`` seconds before answering (a
timeout for a checker with a shorter one), ``down`` (500).  Every request is
counted in ``calls``.
"""

import contextlib
import datetime as dt
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

from .marking import parse


class MockChecker:
    def __init__(self, host="127.0.0.1", port=0):
        self.states = {}
        self.delay = 0.0
        self.down = False
        self.calls = []
        self.lock = threading.Lock()
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, codes, api):
                with mock.lock:
                    mock.calls.append((api, list(codes)))
                    delay, down = mock.delay, mock.down
                if delay:
                    time.sleep(delay)
                if down:
                    self.send_response(500)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = json.dumps(
                    {
                        "code": 0,
                        "description": "ok",
                        "reqId": str(uuid.uuid4()),
                        "reqTimestamp": int(time.time() * 1000),
                        "codes": [mock.entry(c) for c in codes],
                    }
                ).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(OSError):  # the client gave up waiting
                    self.wfile.write(body)

            def do_POST(self):
                if urlsplit(self.path).path != "/codes/check":
                    self.send_error(404)
                    return
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    codes = json.loads(self.rfile.read(length)).get("codes") or []
                except ValueError:
                    self.send_error(400)
                    return
                self._answer(codes, "online")

            def do_GET(self):
                url = urlsplit(self.path)
                if url.path != "/api/v1/cis/check":
                    self.send_error(404)
                    return
                self._answer(parse_qs(url.query).get("cis", []), "local")

        self.http = ThreadingHTTPServer((host, port), Handler)
        self.http.daemon_threads = True
        self.port = self.http.server_address[1]

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def set(self, cis, state="valid"):
        with self.lock:
            self.states[cis] = state

    def entry(self, raw):
        try:
            code = parse(raw)
        except Exception:  # noqa: BLE001 - an unreadable code is simply not found
            return {"cis": raw, "found": False, "valid": False, "errorCode": 1}
        state = self.states.get(code.cis, "not_found")
        if state == "not_found":
            return {"cis": code.cis, "found": False, "valid": False, "errorCode": 1}
        now = dt.datetime.now(dt.timezone.utc)
        expire = now - dt.timedelta(days=1) if state == "expired" else now + dt.timedelta(days=365)
        return {
            "cis": code.cis,
            "gtin": code.gtin,
            "found": True,
            "valid": True,
            "verified": True,
            "realizable": True,
            "utilised": True,
            "isBlocked": state == "blocked",
            "sold": state == "sold",
            "isOwner": True,
            "expireDate": expire.isoformat().replace("+00:00", "Z"),
            "errorCode": 0,
        }

    def start(self):
        threading.Thread(target=self.http.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True).start()
        return self

    def stop(self):
        self.http.shutdown()
        self.http.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
