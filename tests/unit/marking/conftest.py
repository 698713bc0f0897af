"""Fixtures of the marking suite: the mocked ЧЗ checkers on a real loopback socket."""

import pytest
from ru54fz.marking_mock import MockChecker


@pytest.fixture
def checker():
    """The mocked ЧЗ online API and local module (one server), answering ``valid`` or as set."""
    with MockChecker() as mock:
        yield mock
