#!/usr/bin/env python3
"""A till process for the crash tests: open the journal, start the TillService
(settle first), run one command, print its JSON result.

    till_crash_runner.py JOURNAL KKT_ADDRESS COMMAND [PAYLOAD_JSON_FILE]

KKT_ADDRESS: tcp://... (Shtrih-M) or http://... (ATOL web server).

COMMAND: ``sale`` (POST receipt with the payload), ``push`` (push to central),
``settle`` (start only).  Crash injection, from the environment:

* ``RU54FZ_CRASH_AT=<point>``: SIGKILL itself when the service reaches the fault
  point (before_journal, after_journal, after_sent, after_device, before_delivery);
* ``RU54FZ_CRASH_AFTER_MS=<ms>``: SIGKILL itself that long after COMMAND starts
  (``RU54FZ_CRASH_FROM=<point>`` starts the timer at that point instead).

The kill is the process's own ``os.kill(getpid(), SIGKILL)``: no cleanup, no
flush, exactly like a power cut of the till PC as far as the process goes.
"""

import json
import os
import signal
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(ROOT / "addons" / "optics_pos_ru54fz"))

from ru54fz.devices import make_device  # noqa: E402
from ru54fz.journal import Journal  # noqa: E402
from ru54fz.till_service import TillService  # noqa: E402


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def main():
    journal_path, address, command = sys.argv[1:4]
    payload = json.loads(Path(sys.argv[4]).read_text()) if len(sys.argv) > 4 else None
    crash_at = os.environ.get("RU54FZ_CRASH_AT")
    after_ms = os.environ.get("RU54FZ_CRASH_AFTER_MS")
    crash_from = os.environ.get("RU54FZ_CRASH_FROM")
    armed = threading.Event()
    if after_ms and not crash_from:
        # a random moment of the whole process life: opening, settling, the sale
        threading.Timer(int(after_ms) / 1000, die).start()

    def hook(point):
        if not armed.is_set():
            return
        if crash_at and point == crash_at:
            die()
        if after_ms and crash_from and point == crash_from:
            threading.Timer(int(after_ms) / 1000, die).start()

    journal = Journal(journal_path, till_code="T1")
    # an http:// address is an ATOL web server (its in-flight request uuid kept beside the journal)
    device = make_device(
        {"type": "atol", "address": address, "inflight_file": journal_path + ".atol"}
        if address.startswith("http")
        else {"type": "shtrih", "address": address}
    )
    svc = TillService(
        journal,
        device,
        {
            "till_code": "T1",
            "autopush": False,
            "fault_hook": hook,
            "central_url": os.environ.get("RU54FZ_CENTRAL_URL", ""),
            "central_token": os.environ.get("RU54FZ_CENTRAL_TOKEN", ""),
        },
    )
    svc.start()
    armed.set()
    if command == "sale":
        result = svc.sale(payload)
    elif command == "push":
        result = svc.push_to_central()
    else:
        result = journal.counts()
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
