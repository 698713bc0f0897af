"""What the tests of both KKT drivers, Shtrih-M and ATOL, share: fiscal documents
(``ru54fz.ffd``: a lens sale by default, any item, payment and operation on request), an
emulator process made fresh for the next test, and a driver of it.  On the path of every plain
test (tests/unit/conftest.py); needs ``ru54fz`` importable."""

import contextlib

from ru54fz import ffd
from ru54fz.devices import make_device


def fresh(proc):
    """An emulator process shared by a module, for the next test: started again if a test took
    it down, reset to a fresh FN with no faults."""
    if proc.proc.poll() is not None:
        proc.start()
    proc.control.reset()
    return proc


@contextlib.contextmanager
def driver_of(proc, timeouts):
    """The driver of an emulator process's register with short ``timeouts``; closed on exit."""
    device = make_device({**proc.config, "timeouts": timeouts})
    try:
        yield device
    finally:
        device.close()


def item(name="Линза очковая 1.6", price=250000, qty=1000, vat=6, **kw):
    """One position: ``price`` in kopecks, ``qty`` in thousandths, ``vat`` the 1199 code."""
    amount = kw.pop("amount", None)
    if amount is None:
        amount = price * qty // 1000
    return ffd.Item(
        name=name,
        price=price,
        quantity=qty,
        amount=amount,
        vat=vat,
        vat_amount=ffd.item_vat(amount, vat),
        **kw,
    )


def receipt(items=None, operation=1, cash=None, electronic=0, **kw):
    """A receipt of ``items`` (one lens by default) paid by ``electronic`` and the other
    ``payments_extra`` ({Payments field: kopecks}), the rest in cash unless ``cash`` is given."""
    items = items or [item()]
    total = sum(i.amount for i in items)
    extra = kw.pop("payments_extra", {})
    if cash is None:
        cash = total - electronic - sum(extra.values())
    doc = ffd.Receipt(
        operation=operation,
        tax_system=kw.pop("tax_system", 1),
        items=items,
        payments=ffd.Payments(cash=cash, electronic=electronic, **extra),
        total=total,
        cashier=kw.pop("cashier", "Смирнова А."),
        **kw,
    )
    doc.vat_totals = ffd.compute_vat_totals(items)
    return doc
