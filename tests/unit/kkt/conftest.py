"""Fixtures of the KKT suite: a real emulator subprocess on a real TCP socket.

Every test runs once per device profile (Shtrih-M-PTK, Shtrih-Nano, a cash-core
model: ``emulator.model.DEVICE_PROFILES``), each strict as that model.  One
emulator process per test module and profile, reset to a fresh fiscal drive
before each test (``emu``); tests that kill or restart the process get their
own (``own_emu``)."""

import pytest
from kkt_helpers import FAST
from ru54fz.devices import make_device
from ru54fz.emulator.harness import start_emulator
from ru54fz.emulator.model import DEVICE_PROFILES


@pytest.fixture(scope="module", params=DEVICE_PROFILES)
def profile(request):
    """The KKT model the emulator behaves like."""
    return request.param


@pytest.fixture(scope="module")
def _module_emu(tmp_path_factory, profile):
    proc = start_emulator(tmp_path_factory.mktemp("kkt"), profile=profile)
    yield proc
    proc.kill()


@pytest.fixture
def emu(_module_emu):
    if _module_emu.proc.poll() is not None:  # a previous test took it down
        _module_emu.start()
    _module_emu.control.reset()
    return _module_emu


@pytest.fixture
def own_emu(tmp_path, profile):
    proc = start_emulator(tmp_path, profile=profile)
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
