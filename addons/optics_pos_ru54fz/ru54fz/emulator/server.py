"""Byte-level side of the emulator: the Shtrih handshake over TCP or a pty,
fault injection on the wire, and the JSON control channel."""

import contextlib
import os
import random
import socket
import threading

from ..shtrih.frame import ACK, NAK, Decoder, encode, split_command
from .process import ControlChannel


def _label(payload):
    try:
        code, _ = split_command(payload)
    except ValueError:
        return "?"
    return f"{code:04X}" if code > 0xFF else f"{code:02X}"


class PowerLoss(Exception):
    """Drop the link as if the KKT lost power."""


class LinkHandler:
    """One host link.  ``read(n)`` returns b'' at end of stream."""

    def __init__(self, model, read, write):
        self.model = model
        self.read = read
        self.write = write
        self.decoder = Decoder()
        self.pending = None  # the last reply frame, until the host ACKs it
        self.pending_label = None

    def _send_reply(self, frame, label=None):
        garble = self.model.faults.garble
        if garble["count"] > 0 and garble.get("command") in (None, label):
            garble["count"] -= 1
            mode = garble.get("mode", "lrc")
            if mode == "random":
                frame = bytes(random.getrandbits(8) for _ in range(len(frame)))
            elif mode == "truncate":
                frame = frame[: max(1, len(frame) // 2)]
            else:
                frame = frame[:-1] + bytes((frame[-1] ^ 0x5A,))
        self.write(frame)

    def run(self):
        while True:
            data = self.read(4096)
            if not data:
                return
            for event in self.decoder.feed(data):
                if event.kind == "enq":
                    if self.pending is not None:
                        self.write(bytes((ACK,)))
                        self._send_reply(self.pending, self.pending_label)
                    else:
                        self.write(bytes((NAK,)))
                elif event.kind == "ack":
                    self.pending = None
                elif event.kind == "bad":
                    self.write(bytes((NAK,)))
                elif event.kind == "frame":
                    self._command(event.payload)

    def _command(self, payload):
        faults = self.model.faults
        label = _label(payload)
        with self.model.lock:
            if faults.drop_frames > 0:
                faults.drop_frames -= 1
                return
            if faults.nak_frames > 0:
                faults.nak_frames -= 1
                self.write(bytes((NAK,)))
                return
            lost_before = faults.take_power_loss(label, "before")
        if lost_before:
            raise PowerLoss(label)
        self.pending = None
        self.write(bytes((ACK,)))
        reply = self.model.execute(payload)
        with self.model.lock:
            lost_after = faults.take_power_loss(label, "after")
        if lost_after:
            raise PowerLoss(label)
        frame = encode(reply)
        self.pending, self.pending_label = frame, label
        self._send_reply(frame, label)


class Server(ControlChannel):
    def __init__(self, model, host="127.0.0.1", port=0, control_port=0, use_pty=False):
        self.model = model
        self.stopping = threading.Event()
        self.sock = socket.create_server((host, port))
        self.port = self.sock.getsockname()[1]
        self.control = socket.create_server((host, control_port))
        self.control_port = self.control.getsockname()[1]
        self.pty_path = None
        self._pty = None
        if use_pty:
            import tty

            master, slave = os.openpty()
            tty.setraw(slave)
            self._pty = (master, slave)
            self.pty_path = os.ttyname(slave)

    # --------------------------------------------------------------- links
    def _serve_tcp(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._tcp_link, args=(conn,), daemon=True).start()

    def _tcp_link(self, conn):
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def read(n):
            try:
                return conn.recv(n)
            except OSError:
                return b""

        try:
            with contextlib.suppress(PowerLoss, OSError):  # the link is gone: the KKT is unplugged
                LinkHandler(self.model, read, conn.sendall).run()
        finally:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    def _serve_pty(self):
        master, _ = self._pty

        def read(n):
            try:
                return os.read(master, n)
            except OSError:
                return b""

        def write(data):
            os.write(master, data)

        while not self.stopping.is_set():
            try:
                LinkHandler(self.model, read, write).run()
            except PowerLoss:
                continue  # a serial line has no connection to drop: the reply is lost
            except OSError:
                return
            return

    # --------------------------------------------------------------- control
    # the channel and the ops both emulators answer: process.ControlChannel
    def _armed_faults(self):
        return self.model.faults

    def op_state(self, req):
        return {"state": self.model.summary()}

    def op_garble(self, req):
        self.model.faults.garble = {
            "count": int(req.get("count", 1)),
            "mode": req.get("mode", "lrc"),
            "command": req.get("command"),
        }
        return {}

    def op_line(self, req):
        faults = self.model.faults
        faults.nak_frames = int(req.get("nak_frames", 0))
        faults.drop_frames = int(req.get("drop_frames", 0))
        return {}

    def op_reset(self, req):
        self.model.reset()
        return {}

    def op_reset_faults(self, req):
        self.model.faults.reset()
        return {}

    def op_marking(self, req):
        """The ``marking`` op."""
        model = self.model
        # what the marking operator answers for a code identity (GTIN + serial)
        if req.get("clear"):
            model.marking.oism.clear()
        else:
            model.marking.oism[req["cis"]] = req.get("answer", "valid")
        return {"oism": dict(model.marking.oism)}

    def op_set(self, req):
        """The ``set`` op: faults and registration settings, under the model's lock."""
        model = self.model
        faults = model.faults
        for key in ("paper_out", "cover_open"):
            if key in req:
                setattr(faults, key, bool(req[key]))
        if "print_delay" in req:
            faults.print_delay = float(req["print_delay"])
        if "fn_capacity" in req:  # shrink the FN archive to test "FN full"
            model.state["reg"]["fn_capacity"] = int(req["fn_capacity"])
            model.save()
        if "tax_mode" in req:  # as if set up by the service engineer
            model.state["tables"][f"1,1,{model.profile['tax_mode_field']}"][0] = int(req["tax_mode"])
            model.save()
        if "ffd_version" in req:  # an FFD 1.05 registration
            p = model.profile
            model.state["tables"][f"{p['ffd_table']},1,{p['ffd_field']}"][0] = int(req["ffd_version"])
            model.save()
        return {"faults": faults.to_dict()}

    # --------------------------------------------------------------- lifecycle
    def start(self):
        threading.Thread(target=self._serve_tcp, daemon=True).start()
        threading.Thread(target=self._serve_control, daemon=True).start()
        if self._pty:
            threading.Thread(target=self._serve_pty, daemon=True).start()

    def stop(self):
        self.stopping.set()
        for sock in (self.sock, self.control):
            with contextlib.suppress(OSError):
                sock.close()
