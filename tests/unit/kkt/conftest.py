"""Fixtures of the KKT suite: a real emulator subprocess on a real TCP socket.

One emulator process per test module, reset to a fresh fiscal drive before
each test (``emu``); tests that kill or restart the process get their own
(``own_emu``)."""
import pytest

from ru54fz import ffd
from ru54fz.devices import make_device
from ru54fz.emulator.harness import start_emulator

#: Short link timeouts keep the fault tests fast; the defaults are for real devices.
FAST = {"enq": 0.5, "ack": 0.5, "byte": 0.1, "command": 2.0, "print": 2.0}


@pytest.fixture(scope="module")
def _module_emu(tmp_path_factory):
    proc = start_emulator(tmp_path_factory.mktemp("kkt"))
    yield proc
    proc.kill()


@pytest.fixture
def emu(_module_emu):
    if _module_emu.proc.poll() is not None:          # a previous test took it down
        _module_emu.start()
    _module_emu.control.reset()
    return _module_emu


@pytest.fixture
def own_emu(tmp_path):
    proc = start_emulator(tmp_path)
    yield proc
    proc.kill()


def _device(proc):
    return make_device({**proc.config, "timeouts": FAST})


@pytest.fixture
def dev(emu):
    device = _device(emu)
    yield device
    device.close()


@pytest.fixture
def own_dev(own_emu):
    device = _device(own_emu)
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
