"""python3 -m ru54fz.emulator --port N [--control-port M] [--pty] [--state-file F] [--profile P]

Prints one JSON line when ready: {"ready": true, "port", "control_port", "pty"}.
"""

import argparse
import sys

from .model import PROFILES, KKTModel
from .process import serve_until_stopped
from .server import Server


def main(argv=None):
    parser = argparse.ArgumentParser(prog="ru54fz.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=7778, help="protocol port (0 = any free)")
    parser.add_argument("--control-port", type=int, default=0, help="JSON control port (0 = any)")
    parser.add_argument("--pty", action="store_true", help="also serve the protocol on a pty")
    parser.add_argument("--state-file", help="persist the FN state here (JSON)")
    parser.add_argument("--print-delay", type=float, default=0.0, help="seconds per printing command")
    parser.add_argument("--fn-serial", default="9999078900012345")
    parser.add_argument("--inn", default="7701234567")
    parser.add_argument("--tax-systems", type=int, default=0x03, help="1055 bitmask")
    parser.add_argument(
        "--profile",
        default="shtrih-m-ptk",
        choices=sorted(PROFILES),
        help="the KKT model to behave like (a new state file only)",
    )
    args = parser.parse_args(argv)

    model = KKTModel(
        args.state_file,
        fn_serial=args.fn_serial,
        inn=args.inn,
        tax_systems=args.tax_systems,
        profile=args.profile,
    )
    model.faults.print_delay = args.print_delay
    server = Server(model, args.host, args.port, args.control_port, args.pty)
    server.start()
    serve_until_stopped(
        server, {"port": server.port, "control_port": server.control_port, "pty": server.pty_path}
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
