"""A machine without Odoo: `make run`, `make test` and bin/odoo explain what is missing.

Python's -S flag (no site-packages) stands in for a machine where Odoo 18.0 is not installed:
Odoo is importable here only through site-packages (a .pth file).
"""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
NO_ODOO = f"{sys.executable} -S"


def run(cmd, **kw):
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120, **kw)


def assert_explains_missing_odoo(result):
    out = result.stdout + result.stderr
    assert result.returncode != 0
    assert "Traceback" not in out, out
    assert "needs Odoo 18.0" in out
    for way in ("official packages", "source archive", "docker/", "odoo:18.0"):
        assert way in out, (way, out)


def test_python_without_site_packages_has_no_odoo():
    assert run([sys.executable, "-S", "-c", "import odoo"]).returncode != 0


def test_bin_odoo_explains_instead_of_a_traceback():
    assert_explains_missing_odoo(run([sys.executable, "-S", "bin/odoo", "--version"]))


def test_make_run_explains_before_touching_anything():
    result = run(["make", "--no-print-directory", "run", f"PY={NO_ODOO}", "DB=never_created_by_this_test"])
    assert_explains_missing_odoo(result)
    assert "pip" not in result.stdout, "it stopped before installing anything"


def test_make_test_runs_plain_tests_and_explains_the_odoo_ones(tmp_path):
    # only the explanation is checked here: the plain suite itself is what runs this test
    result = run(
        [
            sys.executable,
            "-S",
            "-c",
            "import sys; sys.path.insert(0, 'tests'); sys.path.insert(0, 'bin');"
            "import run_tests; print(run_tests.odoo_missing_banner(3))",
        ]
    )
    out = result.stdout + result.stderr
    assert "Traceback" not in out, out
    assert "3 Odoo tests" in out and "needs Odoo 18.0" in out and "docker/" in out


def test_create_demo_db_explains():
    assert_explains_missing_odoo(run([sys.executable, "-S", "bin/create_demo_db", "somedb"]))
