"""python3 -m ru54fz.atol --port N [--control-port M] [--state-file F]

The emulated ATOL web server (JSON tasks over HTTP) on the shared FN model.
Prints one JSON line when ready: {"ready": true, "port", "control_port"}.
"""

import argparse
import json
import signal
import sys

from ..emulator.model import KKTModel
from .webserver import AtolWebServer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ru54fz.atol", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=16732, help="HTTP port (0 = any free)")
    parser.add_argument("--control-port", type=int, default=0, help="JSON control port (0 = any)")
    parser.add_argument("--state-file", help="persist the FN state and the request store here")
    parser.add_argument("--print-delay", type=float, default=0.0, help="seconds per printing operation")
    parser.add_argument("--fn-serial", default="9999078900054321")
    parser.add_argument("--inn", default="7701234567")
    parser.add_argument("--tax-systems", type=int, default=0x03, help="1055 bitmask")
    args = parser.parse_args(argv)

    model = KKTModel(args.state_file, fn_serial=args.fn_serial, inn=args.inn, tax_systems=args.tax_systems)
    model.faults.print_delay = args.print_delay
    server = AtolWebServer(model, args.host, args.port, args.control_port).start()
    signal.signal(signal.SIGTERM, lambda *_: server.stop())
    # the ready line the harness waits for on stdout
    print(  # pylint: disable=print-used
        json.dumps({"ready": True, "port": server.port, "control_port": server.control_port}), flush=True
    )
    try:
        while not server.stopping.wait(0.5):
            pass
    except KeyboardInterrupt:
        server.stop()
    with model.lock:
        model.save()
    server._save()
    return 0


if __name__ == "__main__":
    sys.exit(main())
