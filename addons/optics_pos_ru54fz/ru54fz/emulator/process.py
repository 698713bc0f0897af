"""What the two emulator processes share: the Shtrih emulator (``emulator.server``) and the
ATOL web server (``atol.webserver``) run on the same FN model and are driven by the same
control client (``control.EmulatorControl``), so they serve its JSON line channel, answer its
common ops and run their main loop with this one piece of code.
"""

import json
import signal
import threading


class ControlChannel:
    """The server side of the JSON control channel: one request line, one reply line.

    A server class mixes it in and sets ``model`` (the FN model), ``control`` (the listening
    socket), ``port`` and ``stopping`` (an ``Event``), and provides ``stop()``,
    ``_armed_faults()`` (the faults object ``power_loss`` and ``inject_error`` arm) and an
    ``op_<name>(req)`` method for each op of its own.  Every op runs under the model's lock.
    """

    #: JSON of the replies: the ATOL web server's are UTF-8 text, the Shtrih emulator's ASCII
    control_ensure_ascii = True

    def _serve_control(self):
        while not self.stopping.is_set():
            try:
                conn, _ = self.control.accept()
            except OSError:
                return
            threading.Thread(target=self._control_connection, args=(conn,), daemon=True).start()

    def _control_connection(self, conn):
        with conn, conn.makefile("rwb") as fh:
            for line in fh:
                try:
                    reply = {"ok": True, **(self.handle_control(json.loads(line)) or {})}
                except Exception as exc:  # the control channel reports, never dies
                    reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
                fh.write(json.dumps(reply, ensure_ascii=self.control_ensure_ascii).encode() + b"\n")
                fh.flush()
                if self.stopping.is_set():
                    return

    def handle_control(self, req):
        op = req.get("op")
        handler = getattr(self, f"op_{op}", None) if isinstance(op, str) and op.isidentifier() else None
        if handler is None:
            raise ValueError(f"unknown control op {op!r}")
        with self.model.lock:
            return handler(req)

    # --------------------------------------------------------------- the common ops
    def op_ping(self, req):
        return {"port": self.port}

    def op_clock(self, req):
        return {
            "clock_offset": self.model.set_clock(req.get("offset"), req.get("advance")),
            "now": self.model.now().isoformat(),
        }

    def op_power_loss(self, req):
        self._armed_faults().power_loss = {
            "when": req.get("when", "before"),
            "command": req.get("command"),
            "count": int(req.get("count", 1)),
        }
        return {}

    def op_inject_error(self, req):
        self._armed_faults().injected.append(
            {
                "code": int(req["code"]),
                "command": req.get("command"),
                "count": int(req.get("count", 1)),
                "after": bool(req.get("after", False)),
            }
        )
        return {}

    def op_stats(self, req):
        return {"stats": dict(self.model.stats)}

    def op_document(self, req):
        return {"document": self.model.document(req["fd"])}

    def op_ofd_confirm_all(self, req):
        return {"confirmed": self.model.confirm_all()}

    def op_shutdown(self, req):
        self.stop()
        return {}


def serve_until_stopped(server, ready):
    """The main loop of an emulator process: print the ready line the harness waits for on
    stdout (``{"ready": true, **ready}``), serve until SIGTERM, a ``shutdown`` op or Ctrl-C,
    then write the FN state."""
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    print(json.dumps({"ready": True, **ready}), flush=True)  # pylint: disable=print-used
    try:
        while not server.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        server.stop()
    with server.model.lock:
        server.model.save()
