"""Fixtures of the ATOL suite: the emulated ATOL web server as a real subprocess on
a real HTTP socket, one per module, reset to a fresh FN before each test (``web``);
tests that kill or restart it get their own (``own_web``)."""

import pytest
from atol_helpers import FAST
from kkt_testing import driver_of, fresh
from ru54fz.atol.harness import start_atol_emulator


@pytest.fixture(scope="module")
def _module_web(tmp_path_factory):
    proc = start_atol_emulator(tmp_path_factory.mktemp("atol"))
    yield proc
    proc.kill()


@pytest.fixture
def web(_module_web):
    return fresh(_module_web)


@pytest.fixture
def own_web(tmp_path):
    proc = start_atol_emulator(tmp_path)
    yield proc
    proc.kill()


@pytest.fixture
def dev(web):
    with driver_of(web, FAST) as device:
        yield device


@pytest.fixture
def shift(dev):
    dev.open_shift("Смирнова А.", "500100732259")
    return dev
