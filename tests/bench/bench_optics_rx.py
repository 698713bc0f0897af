"""Throughput of the prescription rules (plain Python, no Odoo): validation, transposition and
makeability against a range table, as done for every prescription save and every lab-order check."""

import random
import sys
import time
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "addons" / "optics_core"))

from opticslib import makeability, rx, transpose

N = 20000
rnd = random.Random(7)
q = lambda lo, hi: Decimal(rnd.randint(lo * 4, hi * 4)) / 4  # noqa: E731
eyes = [
    {
        "sph": q(-12, 8),
        "cyl": q(-4, 4),
        "axis": rnd.randint(1, 180),
        "add": q(1, 3),
        "pd_far": Decimal(rnd.randint(56, 72)) / 2,
        "fitting_height": 18,
    }
    for _ in range(N)
]
design = makeability.Design(
    "progressive",
    tuple(
        makeability.RangeLine.make(d, -10 + i, 6 - i, -4, 0, "0.75", "3.50")
        for i, d in enumerate((65, 70, 75))
    ),
    min_fitting_height=Decimal(17),
)


def bench(name, fn):
    start = time.perf_counter()
    for e in eyes:
        fn(e)
    elapsed = time.perf_counter() - start
    print(f"{name:<28} {N / elapsed:>10,.0f} eyes/s  ({elapsed * 1e6 / N:.1f} µs each)")


bench("validate_eye", lambda e: rx.validate_eye("od", e))
bench("to minus cylinder", lambda e: transpose.to_convention(e["sph"], e["cyl"], e["axis"]))
bench("makeability (3 diameters)", lambda e: makeability.check(design, {"od": e}, frame_b=40, frame_fh=20))
