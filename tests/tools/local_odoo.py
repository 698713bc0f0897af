"""What every script that starts its own Odoo server needs: a free loopback port and
the addons path (this project's addons, then every folder of the installed
``odoo.addons`` namespace, which is where queue_job lives).

Used by tests/run_tests.py, the benchmarks, the load run and the plain tests that start
an Odoo process.  Plain Python: importable with or without Odoo installed.
"""

import contextlib
import functools
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@functools.lru_cache(maxsize=1)
def addons_path():
    """``--addons-path`` for an Odoo started from this checkout.

    Asked of a child Python: importing odoo in the caller would monkey-patch it (gevent,
    its logging), which a plain test or a load driver must not suffer."""
    out = subprocess.run(
        [sys.executable, "-c", "import odoo.addons; print(','.join(odoo.addons.__path__))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return ",".join(dict.fromkeys([str(ROOT / "addons"), *filter(None, out.split(","))]))


@contextlib.contextmanager
def till_proxy(work, tills, up_statuses=(401,), timeout=120):
    """The till proxy the way a till runs it: a database-less Odoo (``--load=base,web,
    optics_pos_ru54fz``, no -d) serving ``tills`` (entries of the till config file, written to
    ``work/till.json``) on a free loopback port, its data and log in ``work``.  Yields its URL
    once ``/hw_proxy/ru54fz/status`` answers with one of ``up_statuses`` (unauthenticated, the
    status is refused); terminated on exit."""
    cfg = Path(work) / "till.json"
    cfg.write_text(json.dumps({"tills": tills}))
    port = free_port()
    log = Path(work) / "odoo.log"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "odoo",
            "--load=base,web,optics_pos_ru54fz",
            f"--addons-path={addons_path()}",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            "--workers=0",
            "--max-cron-threads=0",
            f"--data-dir={Path(work) / 'data'}",
            "--log-level=warn",
            f"--logfile={log}",
        ],
        env=dict(os.environ, RU54FZ_TILL_CONFIG=str(cfg)),
        cwd=str(work),
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while _status(url + "/hw_proxy/ru54fz/status") not in up_statuses:
            if proc.poll() is not None:
                raise RuntimeError(f"the database-less Odoo exited: {log.read_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise RuntimeError("the database-less Odoo did not come up")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _status(url):
    """The HTTP status of a GET of ``url``; None while nothing answers."""
    try:
        with urllib.request.urlopen(url, timeout=5) as reply:
            return reply.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except (urllib.error.URLError, OSError):
        return None
