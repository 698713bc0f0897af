"""What every script that starts its own Odoo server needs: a free loopback port and
the addons path (this project's addons, then every folder of the installed
``odoo.addons`` namespace, which is where queue_job lives).

Used by tests/run_tests.py, the benchmarks, the load run and the plain tests that start
an Odoo process.  Plain Python: importable with or without Odoo installed.
"""

import functools
import socket
import subprocess
import sys
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
