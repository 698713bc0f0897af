"""python3 -m ru54fz.atol --port N [--control-port M] [--state-file F]

The emulated ATOL web server (JSON tasks over HTTP) on the shared FN model.
Prints one JSON line when ready: {"ready": true, "port", "control_port"}.
"""

import argparse
import sys

from ..emulator.model import KKTModel
from ..emulator.process import serve_until_stopped
from ..till_policy import DEFAULT_PORTS
from .webserver import AtolWebServer


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ru54fz.atol", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORTS["http"], help="HTTP port (0 = any free)")
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
    serve_until_stopped(server, {"port": server.port, "control_port": server.control_port})
    server._save()  # the request store, beside the FN state
    return 0


if __name__ == "__main__":
    sys.exit(main())
