"""A JSON HTTP server on loopback for the stand-ins of the tests (central, a till): a real
socket in a thread, so the code under test speaks real HTTP to it.

    class Handler(JsonHandler):
        def do_POST(self):
            self.send_json(200, {"ok": True})

    with LoopbackServer().serve(Handler) as server:
        requests.post(server.url + "/path", ...)
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class JsonHandler(BaseHTTPRequestHandler):
    def log_message(self, *args):  # the tests' output stays readable
        pass

    def send_json(self, status, payload):
        raw = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class LoopbackServer:
    """Serves a handler class on 127.0.0.1 (``serve``) until ``stop``; ``port`` and ``url`` once
    serving.  A context manager: stopped on exit."""

    def __init__(self):
        self.server = None
        self.port = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def serve(self, handler, port=0):
        """Serve ``handler`` on ``port`` (0: any free one); returns self."""
        self.server = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
