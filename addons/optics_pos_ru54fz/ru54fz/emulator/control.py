"""Client of the emulator's JSON control channel (usable from any process)."""

import json
import socket


class ControlError(RuntimeError):
    pass


class EmulatorControl:
    def __init__(self, port, host="127.0.0.1", timeout=5.0):
        self.host, self.port, self.timeout = host, port, timeout

    def call(self, op, **params):
        with socket.create_connection((self.host, self.port), timeout=self.timeout) as sock:
            sock.sendall(json.dumps({"op": op, **params}).encode() + b"\n")
            with sock.makefile("rb") as fh:
                line = fh.readline()
        if not line:
            raise ControlError(f"no answer to {op!r}")
        reply = json.loads(line)
        if not reply.pop("ok", False):
            raise ControlError(reply.get("error", "control call failed"))
        return reply

    # Convenience wrappers -------------------------------------------------
    def ping(self):
        return self.call("ping")

    def state(self):
        return self.call("state")["state"]

    def set(self, **faults):
        """paper_out=bool, cover_open=bool, print_delay=seconds, fn_capacity=documents,
        tax_mode=0|1 (table 1 'tax calculation'), ffd_version=2|4 (1.05 / 1.2)."""
        return self.call("set", **faults)["faults"]

    def clock(self, offset=None, advance=None):
        params = {k: v for k, v in (("offset", offset), ("advance", advance)) if v is not None}
        return self.call("clock", **params)

    def garble(self, count=1, mode="lrc", command=None):
        """Garble the next ``count`` reply frames (to ``command`` only, e.g. 'FF45', when
        given): 'lrc' (bad checksum), 'random' (random bytes) or 'truncate' (half a frame)."""
        return self.call("garble", count=count, mode=mode, command=command)

    def power_loss(self, when="before", command=None, count=1):
        """Drop the link on the next ``command`` (e.g. 'FF45'), before or after executing it."""
        return self.call("power_loss", when=when, command=command, count=count)

    def line(self, nak_frames=0, drop_frames=0):
        """NAK or silently drop the next command frames (noise on the host -> KKT line)."""
        return self.call("line", nak_frames=nak_frames, drop_frames=drop_frames)

    def inject_error(self, code, command=None, count=1, after=False):
        """Refuse the next ``command`` with error byte ``code``; with ``after=True`` the command
        is executed and committed first and only its reply says ``code`` (a KKT that formed the
        fiscal document and then failed to print it)."""
        return self.call("inject_error", code=code, command=command, count=count, after=after)

    def reset(self):
        """Start over with a fresh fiscal drive (same registration), no faults, no stats."""
        return self.call("reset")

    def reset_faults(self):
        return self.call("reset_faults")

    def stats(self):
        return self.call("stats")["stats"]

    def document(self, fd):
        return self.call("document", fd=fd)["document"]

    def ofd_confirm_all(self):
        return self.call("ofd_confirm_all")["confirmed"]

    def shutdown(self):
        return self.call("shutdown")
