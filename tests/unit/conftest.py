"""Make each addon's plain-Python package importable without Odoo.

``addons/optics_pos_ru54fz/ru54fz`` is imported as ``ru54fz``,
``addons/optics_core/opticslib`` as ``opticslib`` and
``addons/connector_b/pricelist`` as ``pricelist``: the same code Odoo imports
as ``odoo.addons.<addon>.<package>``.
"""

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
for addon in ("optics_pos_ru54fz", "optics_core", "connector_b", "ru_accounting_extras"):
    path = str(ROOT / "addons" / addon)
    if path not in sys.path:
        sys.path.insert(0, path)
# the helpers shared with the benchmarks and tests/run_tests.py (free_port, addons_path)
TOOLS = str(ROOT / "tests" / "tools")
if TOOLS not in sys.path:
    sys.path.insert(0, TOOLS)


@pytest.fixture
def emu(tmp_path):
    """A Shtrih KKT emulator process of this test alone (its state in ``tmp_path/kkt``), stopped
    after it.  Suites that share one per module or run one per device profile override it."""
    from ru54fz.emulator.harness import start_emulator

    with start_emulator(tmp_path / "kkt") as emulator:
        yield emulator
