"""The POS's fiscal_payload.js as a standalone ES module, shared by the posui tests that run it in Node
(the fiscal lines, the marked items)."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "addons" / "optics_pos_ru54fz" / "static" / "src" / "app" / "fiscal_payload.js"


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    """fiscal_payload.js as a standalone ES module (Odoo's _t replaced by sprintf)."""
    code = SRC.read_text()
    code = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$',
        "const _t = (s, ...a) => a.reduce((acc, v) => acc.replace('%s', v), s);",
        code,
        flags=re.M,
    )
    assert "@web/" not in code, "fiscal_payload.js must stay free of other Odoo imports"
    path = tmp_path_factory.mktemp("posui") / "fiscal_payload.mjs"
    path.write_text(code)
    return path
