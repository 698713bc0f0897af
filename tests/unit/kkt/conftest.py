"""Fixtures of the KKT suite: a real emulator subprocess on a real TCP socket.

Every test runs once per device profile (Shtrih-M-PTK, Shtrih-Nano, a cash-core
model: ``emulator.model.DEVICE_PROFILES``), each strict as that model.  One
emulator process per test module and profile, reset to a fresh fiscal drive
before each test (``emu``); tests that kill or restart the process get their
own (``own_emu``)."""

import pytest
from kkt_helpers import FAST
from kkt_testing import driver_of, fresh
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
    return fresh(_module_emu)


@pytest.fixture
def own_emu(tmp_path, profile):
    proc = start_emulator(tmp_path, profile=profile)
    yield proc
    proc.kill()


@pytest.fixture
def dev(emu):
    with driver_of(emu, FAST) as device:
        yield device


@pytest.fixture
def own_dev(own_emu):
    with driver_of(own_emu, FAST) as device:
        yield device


@pytest.fixture
def shift(dev):
    """A device with an open shift."""
    dev.open_shift("Смирнова А.", "500100732259")
    return dev
