#!/usr/bin/env python3
"""The till side of the demo: one emulated KKT per demo till, on loopback.

    python3 tests/tools/demo_devices.py start --var var/
    python3 tests/tools/demo_devices.py stop  --var var/
    python3 tests/tools/demo_devices.py status --var var/

``start`` (what ``make devices`` runs) starts, for each POS config of the demo
data (addons/optics_pos_ru54fz/demo/ru54fz_demo.xml), a KKT emulator process
on its fixed port (MSK1-01 on 7781, SPB1-01 on 7782) with its FN state kept in
``var/kkt-<till>.json``, and writes the till config file of that till
(``var/till-<till>.json``, plus all tills in ``var/tills.json``) for running
the till proxy in a database-less Odoo::

    RU54FZ_TILL_CONFIG=var/tills.json python3 -m odoo --load=base,web,optics_pos_ru54fz \\
        --addons-path=addons,<queue_job dir> --http-port=8070

It also starts the mock OFD (``ru54fz.ofd.mock_server``) on port 7790 (control
channel 7791): the demo company's OFD host/port point there (demo/optics_fiscal_demo.xml),
so the central server's delivery jobs get real OFD confirmations.

Already running emulators are left alone, so ``start`` may be repeated.
Processes are detached (their own session) and recorded in ``var/devices.pids``;
``stop`` ends exactly those.  Logs go to ``var/devices.log``.
"""

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ADDON = ROOT / "addons" / "optics_pos_ru54fz"
sys.path.insert(0, str(ADDON))

from ru54fz import tokens  # noqa: E402

#: the demo tills: must match demo/ru54fz_demo.xml (codes, ports, demo tokens)
TILLS = [
    {
        "till_code": "MSK1-01",
        "port": 7781,
        "pairing_token": "demo-msk1-pairing",
        "central_token": "demo-msk1-central",
        "fn_serial": "9999078900017781",
    },
    {
        "till_code": "SPB1-01",
        "port": 7782,
        "pairing_token": "demo-spb1-pairing",
        "central_token": "demo-spb1-central",
        "fn_serial": "9999078900017782",
    },
]
#: the mock OFD of the demo: must match demo/optics_fiscal_demo.xml
OFD_PORT, OFD_CONTROL_PORT = 7790, 7791
CENTRAL_URL = os.environ.get("OPTICS_CENTRAL_URL", "http://127.0.0.1:8069")
POS_ORIGIN = os.environ.get("OPTICS_POS_ORIGIN", "http://127.0.0.1:8069")


def port_open(port):
    with socket.socket() as s:
        s.settimeout(0.3)
        return s.connect_ex(("127.0.0.1", port)) == 0


def log(var, text):
    with open(var / "devices.log", "a", encoding="utf-8") as fh:
        fh.write(f"{time.strftime('%Y-%m-%d %H:%M:%S')} {text}\n")
    print(text)


def load_pids(var):
    path = var / "devices.pids"
    return json.loads(path.read_text()) if path.exists() else {}


def save_pids(var, pids):
    (var / "devices.pids").write_text(json.dumps(pids, indent=1))


def alive(pid):
    try:
        os.kill(pid, 0)
    except OSError:
        return False
    return True


def start_detached(var, name, args, out, started):
    """Start ``python3 -m <args>`` from the addon, detached (its own session), its stdout in
    ``out`` and its stderr in devices.log; ``started(stdout text, pid)`` returns the line to
    log once it is serving (None before).  Returns the pid; ``name`` names it in errors."""
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(ADDON), os.environ.get("PYTHONPATH")]))
    )
    with open(out, "wb") as stdout, open(var / "devices.log", "ab") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", *args],
            stdout=stdout,
            stderr=stderr,
            stdin=subprocess.DEVNULL,
            cwd=str(ADDON),
            env=env,
            start_new_session=True,
        )
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        line = started(out.read_text(errors="replace"), proc.pid)
        if line:
            log(var, line)
            return proc.pid
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode}; see devices.log")
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"{name} did not start in time")


def start_emulator(var, till):
    """Start one detached emulator; returns its pid, or None if the port is taken."""
    code, port = till["till_code"], till["port"]
    if port_open(port):
        return None

    def started(text, pid):
        if not text.endswith("\n"):  # the ready line is not complete yet
            return None
        info = json.loads(text.splitlines()[0])
        return (
            f"KKT emulator of {code}: tcp://127.0.0.1:{info['port']} "
            f"(control {info['control_port']}), pid {pid}"
        )

    args = ["ru54fz.emulator", "--port", str(port), "--state-file", str(var / f"kkt-{code}.json")]
    args += ["--fn-serial", till["fn_serial"]]
    return start_detached(var, f"the KKT emulator of {code}", args, var / f"kkt-{code}.out", started)


def start_mock_ofd(var):
    """Start the detached mock OFD; returns its pid, or None if the port is taken."""
    if port_open(OFD_PORT):
        return None

    def started(text, pid):
        if not text.startswith("READY"):
            return None
        return f"mock OFD: tcp://127.0.0.1:{OFD_PORT} (control {OFD_CONTROL_PORT}), pid {pid}"

    args = ["ru54fz.ofd.mock_server", "--port", str(OFD_PORT), "--control-port", str(OFD_CONTROL_PORT)]
    return start_detached(var, "the mock OFD", args, var / "ofd.out", started)


#: the demo's session secret (demo/ru54fz_demo.xml): POS tokens are derived from it
DEMO_SESSION_SECRET = "demo-till-session-secret"
#: the demo's manager-grant public key (demo/ru54fz_demo.xml): the tills check grants with it
DEMO_GRANT_PUBLIC_KEY = "hs/5h50SIYExZfxE2Ujh3sBJy5rPaRki1irHmSfNl8w="


def till_config(var, till):
    code = till["till_code"]
    # the same salted hash as the demo pos.config, so that the session key is the same too
    token_hash = tokens.hash_token(till["pairing_token"], salt="demodemo-" + code.split("-")[0].lower())
    return {
        "till_code": code,
        "token_hash": token_hash,
        "session_key": tokens.derive_session_key(DEMO_SESSION_SECRET, code, token_hash),
        "allowed_origin": POS_ORIGIN,
        "device": {"type": "emulator", "address": f"tcp://127.0.0.1:{till['port']}"},
        "journal_path": str(var / f"journal-{code}.sqlite"),
        "central_url": CENTRAL_URL,
        "central_token": till["central_token"],
        "grant_public_key": DEMO_GRANT_PUBLIC_KEY,
    }


def cmd_start(var):
    var.mkdir(parents=True, exist_ok=True)
    pids = {k: v for k, v in load_pids(var).items() if alive(v)}
    configs = []
    for till in TILLS:
        pid = start_emulator(var, till)
        if pid:
            pids[f"kkt:{till['till_code']}"] = pid
        else:
            log(var, f"KKT emulator of {till['till_code']}: port {till['port']} already serving, left alone")
        cfg = till_config(var, till)
        (var / f"till-{till['till_code']}.json").write_text(json.dumps(cfg, indent=1))
        configs.append(cfg)
    (var / "tills.json").write_text(json.dumps({"tills": configs}, indent=1))
    pid = start_mock_ofd(var)
    if pid:
        pids["ofd"] = pid
    else:
        log(var, f"mock OFD: port {OFD_PORT} already serving, left alone")
    save_pids(var, pids)
    log(var, f"till config files written to {var} (tills.json, till-<code>.json)")
    return 0


def cmd_stop(var):
    pids = load_pids(var)
    for name, pid in pids.items():
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
            for _ in range(50):
                if not alive(pid):
                    break
                time.sleep(0.1)
            else:
                os.kill(pid, signal.SIGKILL)
            log(var, f"stopped {name} (pid {pid})")
    save_pids(var, {})
    return 0


def cmd_status(var):
    pids = load_pids(var)
    for till in TILLS:
        name = f"kkt:{till['till_code']}"
        pid = pids.get(name)
        print(
            f"{name}: port {till['port']} {'up' if port_open(till['port']) else 'down'}"
            f"{f', pid {pid}' if pid and alive(pid) else ''}"
        )
    pid = pids.get("ofd")
    print(
        f"ofd: port {OFD_PORT} {'up' if port_open(OFD_PORT) else 'down'}"
        f"{f', pid {pid}' if pid and alive(pid) else ''}"
    )
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("command", choices=["start", "stop", "status"])
    ap.add_argument("--var", default=str(ROOT / "var"), help="directory for state, configs, pids and logs")
    args = ap.parse_args(argv)
    var = Path(args.var).resolve()
    return {"start": cmd_start, "stop": cmd_stop, "status": cmd_status}[args.command](var)


if __name__ == "__main__":
    sys.exit(main())
