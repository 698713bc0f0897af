"""KKT driver -> emulator latency over a real TCP socket (no HTTP, no journal).

    python3 tests/bench/bench_kkt_driver.py [receipts]

Prints p50/p95/p99 of fiscalise() for a 5-line receipt with an empty FN archive
and again after 20,000 documents, the emulator's start-up time with that
archive, and the latency of the other frequent calls.
"""

import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "addons" / "optics_pos_ru54fz"))

from ru54fz import ffd  # noqa: E402
from ru54fz.devices import make_device  # noqa: E402
from ru54fz.emulator.harness import start_emulator  # noqa: E402
from ru54fz.emulator.model import KKTModel  # noqa: E402

N_DOCS = 20000


def five_lines():
    items = [
        ffd.Item(name=f"Линза очковая {i}", price=150000 + i, quantity=1000, amount=150000 + i, vat=6)
        for i in range(4)
    ]
    items.append(
        ffd.Item(
            name="Футляр",
            price=50000,
            quantity=1000,
            amount=50000,
            vat=11,
            vat_amount=ffd.item_vat(50000, 11),
        )
    )
    total = sum(i.amount for i in items)
    return ffd.Receipt(
        operation=1,
        tax_system=1,
        items=items,
        payments=ffd.Payments(cash=total - 100000, electronic=100000),
        total=total,
        cashier="Смирнова А.",
        buyer_contact="+79990001122",
    )


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))] * 1000


def measure(dev, doc, n):
    times = []
    for _ in range(n):
        t = time.perf_counter()
        dev.fiscalise(doc)
        times.append(time.perf_counter() - t)
    return times


def report(label, times):
    print(
        f"{label:<44} n={len(times):>5}  p50={pct(times, 50):6.2f} ms  "
        f"p95={pct(times, 95):6.2f} ms  p99={pct(times, 99):6.2f} ms  "
        f"mean={statistics.mean(times) * 1000:6.2f} ms"
    )


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    tmp = Path(tempfile.mkdtemp(prefix="bench_kkt_"))
    doc = five_lines()
    emu = start_emulator(tmp / "empty")
    dev = make_device(emu.config)
    dev.open_shift("Смирнова А.")
    measure(dev, doc, 20)
    report("fiscalise 5 lines, empty archive", measure(dev, doc, n))
    for label, call in (
        ("status()", dev.status),
        ("fn_status()", dev.fn_status),
        ("find_document()", lambda: dev.find_document(3)),
        ("shift_counters()", dev.shift_counters),
    ):
        times = []
        for _ in range(50):
            t = time.perf_counter()
            call()
            times.append(time.perf_counter() - t)
        report(label, times)
    dev.close()
    emu.kill()

    # a fiscal drive with 20,000 documents: the archive file is pre-built in-process
    state = tmp / "big" / "state.json"
    state.parent.mkdir()
    model = KKTModel()  # built in memory, written once below
    from ru54fz.shtrih import commands as C

    model.execute(C.get(0xE0).build(password=30))
    item = C.get(0xFF46).build(
        password=30,
        operation=1,
        quantity=1_000_000,
        price=100,
        amount=100,
        tax_amount=0,
        tax=0x08,
        department=1,
        payment_method=4,
        subject=1,
        name="Линза",
    )
    close = C.get(0xFF45).build(
        password=30,
        pay1=100,
        rounding=0,
        tax_system=1,
        text="",
        **{f"pay{i}": 0 for i in range(2, 17)},
        **{f"tax{i}": 0 for i in range(1, 7)},
    )
    t = time.perf_counter()
    for i in range(N_DOCS):
        model.execute(item)
        model.execute(close)
        if i % 200 == 199:  # keep the OFD backlog realistic
            model.confirm_all()
    model.state_file = str(state)
    model._archive_pending = [{"fd": int(k), **v} for k, v in model.state["archive"].items()]
    model.save()
    print(f"built a {N_DOCS:,}-document archive in-process in {time.perf_counter() - t:.1f} s")
    t = time.perf_counter()
    emu = start_emulator(state.parent, state_file=state)
    print(f"emulator start-up with {N_DOCS:,} documents: {(time.perf_counter() - t) * 1000:.0f} ms")
    dev = make_device(emu.config)
    measure(dev, doc, 20)
    report(f"fiscalise 5 lines, {N_DOCS:,} documents in FN", measure(dev, doc, n))
    dev.close()
    emu.kill()


if __name__ == "__main__":
    main()
