"""Odoo runs an addon's tests only when ``tests/__init__.py`` imports their module: a test
file left out of it passes silently by never running (three did, among them two security
suites).  Every ``tests/test_*.py`` of every addon must be imported there."""

import ast
from pathlib import Path

import pytest

ADDONS = Path(__file__).resolve().parents[2] / "addons"


def _imported_modules(init):
    tree = ast.parse(init.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.level == 1:
            if node.module:
                names.add(node.module.split(".")[0])
            else:
                names.update(alias.name for alias in node.names)
    return names


@pytest.mark.parametrize("addon", sorted(p.parent.name for p in ADDONS.glob("*/__manifest__.py")))
def test_every_test_module_of_the_addon_is_imported(addon):
    tests = ADDONS / addon / "tests"
    if not tests.is_dir():
        pytest.skip(f"{addon} has no tests")
    modules = {p.stem for p in tests.glob("test_*.py")}
    missing = sorted(modules - _imported_modules(tests / "__init__.py"))
    assert not missing, f"{addon}/tests/__init__.py does not import {missing}: Odoo never runs them"
