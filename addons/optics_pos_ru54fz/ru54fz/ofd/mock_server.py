"""A mock OFD: a real TCP server on loopback speaking the OFD session protocol.

    python3 -m ru54fz.ofd.mock_server --port 7790 [--control-port 7791] [--latency-ms 1]

It checks the framing of every message (session header, frame CRC, TLV body) and
answers with an operator confirmation (FD type 7).  Its behaviour is switched at
run time through a control channel (JSON lines over TCP; ``MockOfdControl`` is the
Python client):

=================  ===========================================================
``online``         confirm every document after ``latency_ms`` (default 1 ms)
``refuse``         stop listening: connections are refused
``blackhole``      accept and read, never answer
``slow``           answer after ``slow_ms`` (default 5000 ms)
``garbage``        answer with bytes that are not an OFD session
``reject``         answer with a rejection (code ``reject_code``, text ``reject_message``)
                   for the FD numbers in ``reject_fds`` (all documents when empty)
``confirm_twice``  send every confirmation twice
=================  ===========================================================

It counts submissions per FN/FD (``stats()["submissions"]``) so tests can assert
that a document reached the OFD exactly once.  On start it prints
``READY port=<p> control=<c>`` on stdout.  With ``--parent-pid`` it stops by
itself when that process is gone.
"""

import argparse
import contextlib
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time

from . import protocol

MODES = ("online", "refuse", "blackhole", "slow", "garbage", "reject", "confirm_twice")
ADDON_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class MockOfd:
    def __init__(self, host="127.0.0.1", port=0, control_port=0, latency_ms=1.0):
        self.host = host
        self.port = port
        self.control_port = control_port
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listener = None
        self._control = None
        self._conns = set()
        self.config = {
            "mode": "online",
            "latency_ms": float(latency_ms),
            "slow_ms": 5000.0,
            "reject_fds": [],
            "reject_code": 14,
            "reject_message": "Документ отклонён ОФД",
        }
        self._reset_stats()

    # ------------------------------------------------------------------ lifecycle
    def _reset_stats(self):
        self.submissions = {}
        self.counters = {
            "connections": 0,
            "messages": 0,
            "confirmed": 0,
            "rejected": 0,
            "protocol_errors": 0,
            "unanswered": 0,
            "garbage": 0,
        }

    def _bind(self):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        sock.listen(128)
        sock.settimeout(0.2)
        self.port = sock.getsockname()[1]
        self._listener = sock

    def start(self):
        self._bind()
        ctl = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        ctl.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        ctl.bind((self.host, self.control_port))
        ctl.listen(16)
        ctl.settimeout(0.2)
        self.control_port = ctl.getsockname()[1]
        self._control = ctl
        threading.Thread(target=self._accept_loop, name="ofd-accept", daemon=True).start()
        threading.Thread(target=self._control_loop, name="ofd-control", daemon=True).start()
        return self

    def stop(self):
        self._stop.set()
        for sock in (self._listener, self._control):
            if sock is not None:
                with contextlib.suppress(OSError):
                    sock.close()
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            with contextlib.suppress(OSError):
                conn.close()

    # ---------------------------------------------------------------- configuration
    def set_mode(self, mode, **options):
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}; one of {', '.join(MODES)}")
        unknown = set(options) - set(self.config)
        if unknown:
            raise ValueError(f"unknown option(s): {', '.join(sorted(unknown))}")
        with self._lock:
            self.config.update(options, mode=mode)
            if mode == "refuse" and self._listener is not None:
                # shutdown() stops listening at once; close() alone leaves the socket
                # alive while the accept thread still polls it
                with contextlib.suppress(OSError):
                    self._listener.shutdown(socket.SHUT_RDWR)
                self._listener.close()
                self._listener = None
            elif mode != "refuse" and self._listener is None:
                self._bind()
        return dict(self.config)

    def stats(self):
        with self._lock:
            return {
                "mode": self.config["mode"],
                "config": dict(self.config),
                "submissions": dict(self.submissions),
                **self.counters,
                "total_submissions": sum(self.submissions.values()),
            }

    # --------------------------------------------------------------------- OFD side
    def _accept_loop(self):
        while not self._stop.is_set():
            listener = self._listener
            if listener is None:
                time.sleep(0.05)
                continue
            try:
                conn, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                time.sleep(0.05)  # the listener was closed for "refuse"
                continue
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self._lock:
                self.counters["connections"] += 1
                self._conns.add(conn)
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _read_exactly(self, conn, size):
        buf = bytearray()
        while len(buf) < size:
            try:
                chunk = conn.recv(size - len(buf))
            except TimeoutError:
                if self._stop.is_set():
                    return None
                continue
            if not chunk:
                return None
            buf.extend(chunk)
        return bytes(buf)

    def _serve(self, conn):
        conn.settimeout(0.5)
        try:
            while not self._stop.is_set():
                head = self._read_exactly(conn, protocol.SESSION_HEADER_SIZE)
                if head is None:
                    return
                try:
                    header = protocol.SessionHeader.unpack(head)
                except protocol.ProtocolError:
                    # Without a valid session header the stream cannot be resynchronised.
                    with self._lock:
                        self.counters["protocol_errors"] += 1
                    return
                body = self._read_exactly(conn, header.length)
                if body is None:
                    return
                reply = self._handle(header, head + body)
                if reply is None:
                    return
                conn.sendall(reply)
        except OSError:
            return
        finally:
            with self._lock:
                self._conns.discard(conn)
            with contextlib.suppress(OSError):
                conn.close()

    def _handle(self, header, raw):
        try:
            _session, container = protocol.unpack_session(raw)
        except protocol.ProtocolError as exc:
            with self._lock:
                self.counters["protocol_errors"] += 1
            fd = int.from_bytes(raw[30 + 17 : 30 + 20], "little") if len(raw) >= 62 else 0
            if not (header.fn_number.isdigit() and len(header.fn_number) == 16):
                return None
            ticket = protocol.build_ticket(header.fn_number, fd, code=2, message=f"bad frame: {exc.reason}")
            return protocol.pack_session(ticket, header.fn_number)
        key = f"{container.fn_number}:{container.fd_number}"
        with self._lock:
            self.counters["messages"] += 1
            self.submissions[key] = self.submissions.get(key, 0) + 1
            cfg = dict(self.config)
        mode = cfg["mode"]
        if mode == "blackhole":
            with self._lock:
                self.counters["unanswered"] += 1
            while not self._stop.is_set() and self.config["mode"] == "blackhole":
                time.sleep(0.05)
            return None  # close without an answer
        delay = cfg["slow_ms"] if mode == "slow" else cfg["latency_ms"]
        if delay:
            time.sleep(delay / 1000.0)
        if mode == "garbage":
            with self._lock:
                self.counters["garbage"] += 1
            return bytes(random.getrandbits(8) for _ in range(48))
        reject_fds = cfg["reject_fds"]
        if mode == "reject" and (not reject_fds or container.fd_number in reject_fds):
            with self._lock:
                self.counters["rejected"] += 1
            ticket = protocol.build_ticket(
                container.fn_number,
                container.fd_number,
                code=int(cfg["reject_code"]),
                message=cfg["reject_message"],
            )
            return protocol.pack_session(ticket, container.fn_number)
        ticket = protocol.pack_session(
            protocol.build_ticket(container.fn_number, container.fd_number), container.fn_number
        )
        with self._lock:
            self.counters["confirmed"] += 1
        return ticket * 2 if mode == "confirm_twice" else ticket

    # ---------------------------------------------------------------- control side
    def _control_loop(self):
        while not self._stop.is_set():
            try:
                conn, _addr = self._control.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._control_conn, args=(conn,), daemon=True).start()

    def _control_conn(self, conn):
        with conn, conn.makefile("rwb") as stream:
            for line in stream:
                try:
                    request = json.loads(line)
                    reply = {"ok": True, "result": self._control_command(request)}
                except Exception as exc:  # noqa: BLE001  (reported to the control client)
                    reply = {"ok": False, "error": f"{exc.__class__.__name__}: {exc}"}
                stream.write(json.dumps(reply).encode() + b"\n")
                stream.flush()
                if request.get("cmd") == "shutdown":
                    threading.Thread(target=self.stop, daemon=True).start()
                    return

    def _control_command(self, request):
        cmd = request.get("cmd")
        if cmd == "mode":
            options = {k: v for k, v in request.items() if k not in ("cmd", "mode")}
            return self.set_mode(request.get("mode"), **options)
        if cmd == "stats":
            return self.stats()
        if cmd == "reset":
            with self._lock:
                self._reset_stats()
            return self.set_mode("online", latency_ms=request.get("latency_ms", 1.0), reject_fds=[])
        if cmd in ("ping", "shutdown"):
            return {"port": self.port, "control_port": self.control_port}
        raise ValueError(f"unknown command {cmd!r}")


class MockOfdControl:
    """Client of the control channel."""

    def __init__(self, host, port, timeout=5.0):
        self.host = host
        self.port = int(port)
        self.timeout = timeout

    def _call(self, **request):
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(json.dumps(request).encode() + b"\n")
            data = b""
            while not data.endswith(b"\n"):
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
        reply = json.loads(data)
        if not reply.get("ok"):
            raise RuntimeError(f"mock OFD control: {reply.get('error')}")
        return reply["result"]

    def set_mode(self, mode, **options):
        return self._call(cmd="mode", mode=mode, **options)

    def stats(self):
        return self._call(cmd="stats")

    def submissions(self, fn_number, fd_number):
        return self.stats()["submissions"].get(f"{fn_number}:{fd_number}", 0)

    def reset(self, latency_ms=1.0):
        return self._call(cmd="reset", latency_ms=latency_ms)

    def ping(self):
        return self._call(cmd="ping")

    def shutdown(self):
        return self._call(cmd="shutdown")


class MockOfdProcess:
    """Run the mock OFD as a real subprocess (tests, benchmark, demo)."""

    def __init__(self, port=0, control_port=0, latency_ms=1.0, host="127.0.0.1"):
        self.host = host
        cmd = [
            sys.executable,
            "-m",
            "ru54fz.ofd.mock_server",
            "--host",
            host,
            "--port",
            str(port),
            "--control-port",
            str(control_port),
            "--latency-ms",
            str(latency_ms),
            "--parent-pid",
            str(os.getpid()),
        ]
        env = dict(os.environ, PYTHONPATH=ADDON_DIR + os.pathsep + os.environ.get("PYTHONPATH", ""))
        self.proc = subprocess.Popen(cmd, cwd=ADDON_DIR, env=env, stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("READY"):
            self.proc.kill()
            raise RuntimeError(f"mock OFD did not start: {line!r}")
        fields = dict(part.split("=") for part in line.split()[1:])
        self.port = int(fields["port"])
        self.control_port = int(fields["control"])
        self.control = MockOfdControl(host, self.control_port)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except Exception:  # noqa: BLE001
                self.proc.kill()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(description="Mock OFD server (loopback only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7790)
    parser.add_argument(
        "--control-port",
        type=int,
        default=0,
        help="control channel port (0: any free port, printed on start)",
    )
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--mode", default="online", choices=MODES)
    parser.add_argument("--parent-pid", type=int, default=0, help="stop when this process no longer exists")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the mock OFD only binds loopback")
    server = MockOfd(args.host, args.port, args.control_port, args.latency_ms).start()
    if args.mode != "online":
        server.set_mode(args.mode)
    # the ready line the harness waits for on stdout
    print(f"READY port={server.port} control={server.control_port}", flush=True)  # pylint: disable=print-used
    try:
        with contextlib.suppress(KeyboardInterrupt):
            while not server._stop.is_set():
                time.sleep(0.5)
                if args.parent_pid:
                    try:
                        os.kill(args.parent_pid, 0)
                    except OSError:
                        break
    finally:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
