"""Start the KKT emulator as a real subprocess (tests, benchmarks, the demo).

emu = start_emulator(tmp_path)          # -> EmulatorProcess
device = make_device(emu.config)        # ru54fz.devices
emu.control.set(paper_out=True)
emu.stop()
"""

import json
import os
import select
import subprocess
import sys
import time
from pathlib import Path

from .control import EmulatorControl

ADDON_DIR = Path(__file__).resolve().parents[2]


class EmulatorProcess:
    def __init__(self, state_dir, pty=False, args=(), state_file=None, profile=None):
        self.state_dir = Path(state_dir)
        self.profile = profile
        self.state_file = str(state_file or self.state_dir / "kkt_emulator_state.json")
        self.use_pty = pty
        self.args = list(args)
        self.proc = None
        self.port = self.control_port = None
        self.pty = None
        self.control = None

    @property
    def url(self):
        return f"tcp://127.0.0.1:{self.port}"

    @property
    def config(self):
        """Device config for ``ru54fz.devices.make_device``."""
        return {"type": "shtrih", "address": self.url}

    @property
    def serial_config(self):
        return {"type": "shtrih", "address": f"serial://{self.pty}?baudrate=115200"}

    def _command(self, port):
        """The emulator's command line (the ATOL web server emulator overrides it)."""
        cmd = [
            sys.executable,
            "-m",
            "ru54fz.emulator",
            "--port",
            str(port),
            "--state-file",
            self.state_file,
            *self.args,
        ]
        if self.profile:
            cmd += ["--profile", self.profile]
        if self.use_pty:
            cmd.append("--pty")
        return cmd

    def start(self, timeout=15.0, port=0):
        Path(self.state_file).parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ADDON_DIR), env.get("PYTHONPATH")]))
        cmd = self._command(port)
        # stderr goes to a file: a pipe nobody reads would block a long-running emulator
        self.log_path = str(Path(self.state_file).parent / "kkt_emulator.log")
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=log, cwd=str(ADDON_DIR))
        deadline = time.monotonic() + timeout
        line = b""
        while time.monotonic() < deadline and not line.endswith(b"\n"):
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.1)
            if ready:
                chunk = os.read(self.proc.stdout.fileno(), 4096)
                if not chunk:
                    break
                line += chunk
            elif self.proc.poll() is not None:
                break
        if not line.endswith(b"\n"):
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.wait(5)
            self._close_pipes()
            with open(self.log_path, "rb") as log:
                err = log.read().decode(errors="replace")
            raise RuntimeError(f"KKT emulator did not start: {err.strip()[-2000:]}")
        info = json.loads(line)
        self.port, self.control_port, self.pty = info["port"], info["control_port"], info.get("pty")
        self.control = EmulatorControl(self.control_port)
        return self

    def stop(self, timeout=5.0):
        """Clean stop (the state file is written)."""
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            self.control.shutdown()
        except Exception:
            self.proc.terminate()
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill()
        self._close_pipes()

    def kill(self):
        """Power cut: SIGKILL, no goodbye."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(5)
        self._close_pipes()

    def restart(self, keep_port=True):
        old_port = self.port
        self.stop()
        return self.start(port=old_port if keep_port else 0)

    def _close_pipes(self):
        if self.proc.stdout and not self.proc.stdout.closed:
            self.proc.stdout.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start_emulator(state_dir, pty=False, args=(), state_file=None, timeout=15.0, profile=None):
    """Start an emulator subprocess on free ports; returns the running ``EmulatorProcess``.
    ``profile``: the KKT model it behaves like (``model.PROFILES``; default Shtrih-M-PTK)."""
    return EmulatorProcess(state_dir, pty=pty, args=args, state_file=state_file, profile=profile).start(
        timeout
    )
