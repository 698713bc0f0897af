"""Fixtures of the KKT suite: a real emulator subprocess on a real TCP socket."""
import pytest

from ru54fz import ffd
from ru54fz.devices import make_device
from ru54fz.emulator.harness import start_emulator

#: Short link timeouts keep the fault tests fast; the defaults are for real devices.
FAST = {"enq": 0.5, "ack": 0.5, "byte": 0.1, "command": 2.0, "print": 2.0}


@pytest.fixture
def emu(tmp_path):
    proc = start_emulator(tmp_path)
    yield proc
    proc.kill()


@pytest.fixture
def dev(emu):
    device = make_device({**emu.config, "timeouts": FAST})
    yield device
    device.close()


@pytest.fixture
def shift(dev):
    """A device with an open shift."""
    dev.open_shift("Смирнова А.", "500100732259")
    return dev


def item(name="Линза очковая 1.6", price=250000, qty=1000, vat=6, **kw):
    amount = kw.pop("amount", None)
    if amount is None:
        amount = price * qty // 1000
    return ffd.Item(name=name, price=price, quantity=qty, amount=amount, vat=vat,
                    vat_amount=ffd.item_vat(amount, vat), **kw)


def receipt(items=None, operation=1, cash=None, electronic=0, **kw):
    items = items or [item()]
    total = sum(i.amount for i in items)
    if cash is None:
        cash = total - electronic
    doc = ffd.Receipt(operation=operation, tax_system=kw.pop("tax_system", 1), items=items,
                      payments=ffd.Payments(cash=cash, electronic=electronic), total=total,
                      cashier=kw.pop("cashier", "Смирнова А."), **kw)
    doc.vat_totals = ffd.compute_vat_totals(items)
    return doc
