"""The reverse proxy of the production topology (docker/nginx/opticserp.conf) routes as
docs/deployment.md says: the tills' pushes to the push nodes (the ordinary nodes when no push
node answers), never a push re-sent to a second node once one received it, /websocket with
its upgrade headers to the gevent port, everything else to the ordinary nodes.

The real nginx runs the file as it is shipped, with only its upstream addresses and the
listening port pointed at loopback stand-ins (real sockets) that record what reached them.
"""

import json
import os
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from local_odoo import free_port
from loopback_http import JsonHandler, LoopbackServer

ROOT = Path(__file__).resolve().parents[3]
CONF = ROOT / "docker" / "nginx" / "opticserp.conf"
PUSH = "/optics_pos_ru54fz/central/push"


def nginx_binary():
    found = shutil.which("nginx") or next(
        (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.path.exists(p)), None
    )
    if not found:
        pytest.fail("nginx is not installed: apt-get install nginx-light (CI installs it: .ci/run)")
    return found


class Recorder:
    """A stand-in Odoo port: answers every request with its name and keeps what it saw."""

    def __init__(self, name):
        self.name = name
        self.seen = []
        recorder = self

        class Handler(JsonHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                recorder.seen.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "body": body,
                        "upgrade": self.headers.get("Upgrade"),
                        "connection": self.headers.get("Connection"),
                        "forwarded_for": self.headers.get("X-Forwarded-For"),
                        "forwarded_host": self.headers.get("X-Forwarded-Host"),
                        "forwarded_proto": self.headers.get("X-Forwarded-Proto"),
                        "host": self.headers.get("Host"),
                    }
                )
                self.send_json(200, {"node": recorder.name})

            do_GET = do_POST = _answer

        self.server = LoopbackServer().serve(Handler)
        self.port = self.server.port

    def stop(self):
        self.server.stop()


class HangUp:
    """A push node that takes the request and dies before answering (connection closed)."""

    def __init__(self):
        self.received = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        break
                    data += chunk
                self.received.append(data)

    def stop(self):
        self.sock.close()


def shipped_config(ports):
    """The shipped server block with the compose service addresses replaced by loopback ports;
    each replaced string must be in the file (a renamed upstream fails here, not silently)."""
    text = CONF.read_text()
    for old, new in (
        ("server odoo-push:8069", f"server 127.0.0.1:{ports['push']}"),
        ("server odoo:8069", f"server 127.0.0.1:{ports['main']}"),
        ("server odoo:8072", f"server 127.0.0.1:{ports['gevent']}"),
        ("listen 80;", f"listen 127.0.0.1:{ports['nginx']};"),
    ):
        assert old in text, f"{old!r} is no longer in {CONF}"
        text = text.replace(old, new)
    return text


@pytest.fixture
def proxy(tmp_path):
    """Start nginx on the shipped config; yields a function (push, main, gevent ports) -> url."""
    binary = nginx_binary()
    procs = []

    def start(push_port, main_port, gevent_port):
        ports = {"push": push_port, "main": main_port, "gevent": gevent_port, "nginx": free_port()}
        (tmp_path / "site.conf").write_text(shipped_config(ports))
        (tmp_path / "nginx.conf").write_text(
            ("user root;\n" if os.geteuid() == 0 else "")
            + f"worker_processes 1;\npid {tmp_path}/nginx.pid;\nerror_log {tmp_path}/error.log;\n"
            "events { worker_connections 64; }\n"
            "http {\n"
            f"  access_log off;\n  client_body_temp_path {tmp_path}/body;\n"
            f"  proxy_temp_path {tmp_path}/proxy;\n"
            f"  include {tmp_path}/site.conf;\n"
            "}\n"
        )
        proc = subprocess.Popen(
            [binary, "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-g", "daemon off;"],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        procs.append(proc)
        deadline = time.time() + 10
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"nginx refused the shipped config: {proc.stdout.read().decode()}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", ports["nginx"])) == 0:
                    return f"http://127.0.0.1:{ports['nginx']}"
            time.sleep(0.05)
        pytest.fail("nginx did not start")

    yield start
    for proc in procs:
        proc.terminate()
        proc.wait(10)


@pytest.fixture
def nodes():
    made = {name: Recorder(name) for name in ("push", "main", "gevent")}
    yield made
    for node in made.values():
        node.stop()


def call(url, path, body=None, headers=None):
    req = urllib.request.Request(url + path, data=body, method="POST" if body is not None else "GET")
    for key, value in (headers or {}).items():
        req.add_header(key, value)
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, None


def test_pushes_go_to_the_push_nodes_and_the_rest_to_the_ordinary_nodes(proxy, nodes):
    url = proxy(nodes["push"].port, nodes["main"].port, nodes["gevent"].port)
    body = json.dumps({"till_code": "S01", "entries": []}).encode()
    assert call(url, PUSH, body, {"Content-Type": "application/json"}) == (200, {"node": "push"})
    # the till's other calls, the POS and the back office: the ordinary nodes
    assert call(url, "/optics_pos_ru54fz/central/refundable", b"{}") == (200, {"node": "main"})
    assert call(url, "/web/dataset/call_kw", b"{}") == (200, {"node": "main"})
    assert call(url, "/web/login") == (200, {"node": "main"})
    # a path that only starts like the push route is not a push
    assert call(url, PUSH + "es", b"{}") == (200, {"node": "main"})
    pushed = nodes["push"].seen
    assert [(r["method"], r["path"], r["body"]) for r in pushed] == [("POST", PUSH, body)]
    assert all(r["path"] != PUSH for r in nodes["main"].seen)
    # Odoo runs with proxy_mode: every route must pass who asked and for which host, and keep
    # the connection to the upstream open (no "Connection: close" on plain requests)
    host = url.removeprefix("http://")
    for seen in pushed + nodes["main"].seen:
        assert seen["forwarded_for"] == "127.0.0.1", seen
        assert (seen["host"], seen["forwarded_host"], seen["forwarded_proto"]) == (
            host.split(":")[0],
            host.split(":")[0],
            "http",
        ), seen
        assert seen["connection"] is None and seen["upgrade"] is None, seen


def test_websocket_goes_to_the_gevent_port_with_its_upgrade_headers(proxy, nodes):
    url = proxy(nodes["push"].port, nodes["main"].port, nodes["gevent"].port)
    status, reply = call(url, "/websocket", headers={"Upgrade": "websocket", "Connection": "Upgrade"})
    assert (status, reply) == (200, {"node": "gevent"})
    seen = nodes["gevent"].seen[0]
    assert seen["upgrade"] == "websocket" and seen["connection"].lower() == "upgrade"
    assert seen["forwarded_for"] == "127.0.0.1" and seen["forwarded_host"] == "127.0.0.1"
    assert not nodes["main"].seen and not nodes["push"].seen


def test_pushes_fall_back_to_the_ordinary_nodes_while_no_push_node_answers(proxy, nodes):
    nodes["push"].stop()  # the push node is down: its port refuses connections
    url = proxy(nodes["push"].port, nodes["main"].port, nodes["gevent"].port)
    body = b'{"till_code": "S01", "entries": []}'
    for _ in range(3):
        assert call(url, PUSH, body) == (200, {"node": "main"})
    assert [r["path"] for r in nodes["main"].seen] == [PUSH] * 3


def test_a_push_that_reached_a_node_is_never_sent_to_a_second_one(proxy, nodes):
    # the push node reads the request and dies before answering: the till gets an error and
    # retries on its own schedule; the proxy must not replay the POST on the ordinary node
    dying = HangUp()
    try:
        url = proxy(dying.port, nodes["main"].port, nodes["gevent"].port)
        status, _reply = call(url, PUSH, b'{"till_code": "S01", "entries": []}')
        assert status == 502
        assert len(dying.received) == 1 and dying.received[0].startswith(b"POST " + PUSH.encode())
        assert nodes["main"].seen == []
    finally:
        dying.stop()
