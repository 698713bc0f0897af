"""The POS's marking-code rules (static/src/app/marking_scan.js) run in Node, and
checked against the till's own parser (ru54fz.marking.parse) on the same scans:
a code the POS accepts the till accepts with the same identity, and the other way
round; the same unit twice in one receipt is refused; marked lines without a code
(or with more than one unit) block the payment."""

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "marking"))

from marking_helpers import GS, code
from ru54fz import errors, marking

ROOT = Path(__file__).resolve().parents[3]
SRC = ROOT / "addons" / "optics_pos_ru54fz" / "static" / "src" / "app" / "marking_scan.js"
NODE = shutil.which("node")

pytestmark = pytest.mark.skipif(not NODE, reason="node is not installed")


@pytest.fixture(scope="module")
def module_path(tmp_path_factory):
    src = SRC.read_text()
    src = re.sub(
        r'^import \{\s*_t\s*\} from "@web/core/l10n/translation";$', "const _t = (s) => s;", src, flags=re.M
    )
    assert "@web/" not in src and "@point_of_sale/" not in src
    path = tmp_path_factory.mktemp("posui") / "marking_scan.mjs"
    path.write_text(src)
    return path


def run_js(module_path, expr):
    script = (
        f"import * as ms from {json.dumps(str(module_path))};\n"
        f"try {{ console.log(JSON.stringify({{ok: {expr}}})); }}\n"
        f"catch (e) {{ console.log(JSON.stringify({{error: e.message, name: e.name}})); }}\n"
    )
    out = subprocess.run(
        [NODE, "--input-type=module", "-e", script], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    return json.loads(out)


SCANS = [
    code(),
    code(tail="92"),
    "]d2" + code(serial="Zz9!Zz9!Zz9!Z"),
    GS + code(serial="A1B2C3D4E5F6G"),
    "4601234567893",
    code().replace(GS, ""),
    code().split(GS)[0],
    "01" + "1" * 300,
    "",
    "0104601234567890215Abc123" + GS + "93dGVz",
]


@pytest.mark.parametrize("raw", SCANS)
def test_pos_and_till_agree_on_every_scan(module_path, raw):
    pos = run_js(module_path, f"ms.parseMarkingCode({json.dumps(raw)})")
    try:
        till = marking.parse(raw)
    except errors.DocumentInvalid:
        till = None
    if till is None:
        assert pos.get("name") == "MarkingScanError", pos
    else:
        assert pos["ok"]["cis"] == till.cis and pos["ok"]["raw"] == till.raw


def test_the_same_unit_twice_in_a_receipt_is_refused(module_path):
    first, again = code(), "]d2" + code()
    other = code(serial="OTHERSERIAL01")
    expr = (
        f"(() => {{ const book = {{}}; ms.scanIntoOrder(book, 1, {json.dumps(first)});"
        f" ms.scanIntoOrder(book, 2, {json.dumps(other)});"
        f" ms.scanIntoOrder(book, 1, {json.dumps(first)});"  # rescanning its own line is fine
        f" try {{ ms.scanIntoOrder(book, 3, {json.dumps(again)}); return 'accepted'; }}"
        f" catch (e) {{ return [e.message, Object.keys(book).length]; }} }})()"
    )
    out = run_js(module_path, expr)["ok"]
    assert out == ["This unit's code was already scanned in this receipt.", 2]


def test_marked_lines_without_a_code_block_the_payment(module_path):
    lines = [
        {"id": 1, "name": "Витамины", "marked": True, "qty": 1, "code": code()},
        {"id": 2, "name": "Капли", "marked": True, "qty": 1, "code": ""},
        {"id": 3, "name": "Оправа", "marked": False, "qty": 2, "code": ""},
        {"id": 4, "name": "Витамины", "marked": True, "qty": 2, "code": code(serial="X" * 13)},
    ]
    out = run_js(module_path, f"ms.missingMarkingCodes({json.dumps(lines)}).map((l) => l.id)")["ok"]
    assert out == [2, 4]
