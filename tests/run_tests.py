#!/usr/bin/env python3
"""Run every OpticsERP test: the plain-Python suite, then the Odoo suite.

* Plain-Python tests (tests/unit) need neither Odoo nor PostgreSQL; they always run.
* Odoo tests (addons/*/tests: TransactionCase, HttpCase tours) run through
  Odoo's own test runner against a database this script creates and drops.
  When ``odoo`` cannot be imported they are counted and reported as NOT RUN.

Exit status is non-zero on any failure, and also when no test ran at all.
The last line is ``tests: N passed, N failed`` over both suites.

Environment: PGHOST (127.0.0.1), PGPORT (5432), PGUSER (the OS user),
OPTICS_TEST_DB (a fresh name per run), OPTICS_TEST_TAGS (limit Odoo tests,
Odoo's --test-tags syntax), OPTICS_SKIP_ODOO=1 (plain tests only),
OPTICS_SKIP_PLAIN=1 (Odoo tests only: for a developer re-running a few tagged tests),
OPTICS_SKIP_DEMO_DB=1 (not the demo-database phase, which a run with OPTICS_TEST_TAGS skips
too), OPTICS_DEMO_DB_ONLY=1 (only that phase: production install + demo chain + tour).
"""

import ast
import importlib.util
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from local_odoo import addons_path, free_port  # noqa: E402

ADDONS = ["optics_core", "optics_pos_ru54fz", "connector_b", "ru_accounting_extras"]
BANNER = "=" * 78


def odoo_missing_banner(not_run):
    sys.path.insert(0, str(ROOT / "bin"))
    from odoo_check import missing_odoo_message

    return (
        f"{BANNER}\n!!! {not_run} Odoo tests (TransactionCase / HttpCase, browser tours) could "
        f"NOT be run.\n{missing_odoo_message()}\n{BANNER}"
    )


def run_plain():
    junit = ROOT / ".test-results" / "plain.xml"
    junit.parent.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-p",
        "no:odoo",
        f"--junitxml={junit}",
        str(ROOT / "tests" / "unit"),
    ]
    print(f"{BANNER}\nPlain-Python tests: {' '.join(cmd[1:])}\n{BANNER}", flush=True)
    rc = subprocess.call(cmd, cwd=ROOT)
    passed = failed = 0
    if junit.exists():
        text = junit.read_text()
        m = re.search(r'<testsuite [^>]*errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"', text)
        if m:
            errors, failures, skipped, total = map(int, m.groups())
            failed = errors + failures
            passed = total - failed - skipped
    if rc not in (0, 1) and not failed:
        failed = 1  # collection or usage error: count it as a failure, never as a pass
    return passed, failed


def count_odoo_tests():
    """Count test methods in addons/*/tests without importing Odoo."""
    total = 0
    for addon in ADDONS:
        for path in (ROOT / "addons" / addon / "tests").glob("test_*.py"):
            tree = ast.parse(path.read_text())
            for node in ast.walk(tree):
                if isinstance(node, ast.ClassDef):
                    total += sum(
                        1 for n in node.body if isinstance(n, ast.FunctionDef) and n.name.startswith("test")
                    )
    return total


def odoo_db_args():
    args = [
        f"--db_host={os.environ.get('PGHOST', '127.0.0.1')}",
        f"--db_port={os.environ.get('PGPORT', '5432')}",
    ]
    if os.environ.get("PGUSER"):
        args.append(f"--db_user={os.environ['PGUSER']}")
    return args


def run_odoo():
    db = os.environ.get("OPTICS_TEST_DB") or f"opticserp_test_{uuid.uuid4().hex[:8]}"
    tags = os.environ.get("OPTICS_TEST_TAGS") or ",".join(f"/{a}" for a in ADDONS)
    log = ROOT / ".test-results" / f"odoo-{db}.log"
    log.parent.mkdir(exist_ok=True)
    cmd = [
        sys.executable,
        str(ROOT / "bin" / "odoo"),
        *odoo_db_args(),
        "-d",
        db,
        f"--addons-path={addons_path()}",
        "--load=base,web,queue_job",
        "-i",
        ",".join(ADDONS),
        "--test-enable",
        f"--test-tags={tags}",
        "--stop-after-init",
        "--workers=0",
        "--max-cron-threads=0",
        f"--http-port={free_port()}",
        "--log-level=info",
        "--screenshots=" + str(ROOT / ".test-results" / "screenshots"),
    ]
    print(f"{BANNER}\nOdoo tests in database {db}: {' '.join(cmd[1:])}\n{BANNER}", flush=True)
    started = time.time()
    with open(log, "w") as out:
        result = run_logged(cmd, out)
    drop_database(db)
    print(f"Odoo run took {time.time() - started:.0f} s; full log: {log}")
    return result


def run_logged(cmd, out):
    """Run an Odoo command, log everything to ``out``, echo failures and progress; return
    (passed, failed) from Odoo's test report (one failure when it printed none)."""
    env = dict(os.environ, QUEUE_JOB__NO_DELAY="", PYTHONUNBUFFERED="1")
    report = None
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    for line in proc.stdout:
        out.write(line)
        if " ERROR " in line or " CRITICAL " in line or "FAIL:" in line or "ERROR:" in line:
            print(line, end="", flush=True)
        elif "odoo.tests.result" in line or "Starting " in line and "Test" in line:
            print(line, end="", flush=True)
        m = re.search(r"(\d+) failed, (\d+) error\(s\) of (\d+) tests when loading database", line)
        if m:
            report = tuple(map(int, m.groups()))
    rc = proc.wait()
    if report is None:
        print("Odoo printed no test report: counting the run as failed.")
        return 0, 1
    failures, errors, total = report
    failed = failures + errors
    if rc != 0 and not failed:
        failed = 1
    return total - failures - errors, failed


def drop_database(db):
    subprocess.call(
        [
            "dropdb",
            "--if-exists",
            "-h",
            os.environ.get("PGHOST", "127.0.0.1"),
            "-p",
            os.environ.get("PGPORT", "5432"),
            db,
        ]
    )
    subprocess.call(["rm", "-rf", os.path.expanduser(f"~/.local/share/Odoo/filestore/{db}")])


def run_demo_db():
    """The databases bin/create_demo_db builds (`make run`), in a database of their own:
    first the production install (the four addons --without-demo=all, Russia/RUB set up),
    checked for any demo, test or mock leftovers (tag optics_production_db); then the chain's
    demo loaded on it, checked as a new user would find it, and the cashier's first hour
    toured in Chromium (tag optics_demo_db).  Screenshots: .test-results/screenshots/demo/."""
    db = (os.environ.get("OPTICS_TEST_DB") or f"opticserp_test_{uuid.uuid4().hex[:8]}") + "_demo"
    log = ROOT / ".test-results" / f"odoo-{db}.log"
    log.parent.mkdir(exist_ok=True)
    odoo_args = [*odoo_db_args(), f"--addons-path={addons_path()}", "--log-level=info"]
    test_args = [
        "--load=base,web,queue_job",
        "--test-enable",
        "--stop-after-init",
        "--workers=0",
        "--max-cron-threads=0",
        "--screenshots=" + str(ROOT / ".test-results" / "screenshots"),
    ]
    creator = [sys.executable, str(ROOT / "bin" / "create_demo_db")]
    print(f"{BANNER}\nDemo database {db}: production install, then the chain's demo\n{BANNER}", flush=True)
    started = time.time()
    passed = failed = 0
    drop_database(db)
    with open(log, "w") as out:
        steps = [
            ("production install", [*creator, db, "--without-chain-demo", *odoo_args], None),
            (
                "production checks",
                [
                    sys.executable,
                    str(ROOT / "bin" / "odoo"),
                    *odoo_args,
                    "-d",
                    db,
                    *test_args,
                    "--test-tags=optics_production_db",
                    "--no-http",
                ],
                "tests",
            ),
            ("chain demo", [*creator, "--step", "load_chain_demo", db, *odoo_args], None),
            (
                "demo checks and tour",
                [
                    sys.executable,
                    str(ROOT / "bin" / "odoo"),
                    *odoo_args,
                    "-d",
                    db,
                    *test_args,
                    "--test-tags=optics_demo_db",
                    f"--http-port={free_port()}",
                ],
                "tests",
            ),
        ]
        for name, cmd, kind in steps:
            out.write(f"\n===== {name}: {' '.join(cmd)}\n")
            out.flush()
            if kind == "tests":
                p, f = run_logged(cmd, out)
                if not p + f:
                    print(f"demo database: {name} ran no test (see {log})", flush=True)
                    f = 1
                passed, failed = passed + p, failed + f
            elif subprocess.call(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT) != 0:
                print(f"demo database: {name} failed (see {log})", flush=True)
                failed += 1
                break
    drop_database(db)
    print(f"Demo database run took {time.time() - started:.0f} s; full log: {log}")
    return passed, failed


def main():
    if os.environ.get("OPTICS_SKIP_PLAIN") == "1":
        passed = failed = 0
        print("OPTICS_SKIP_PLAIN=1: plain-Python tests NOT RUN", flush=True)
    else:
        passed, failed = run_plain()
        print(f"plain-Python tests: {passed} passed, {failed} failed", flush=True)
    odoo_importable = importlib.util.find_spec("odoo") is not None
    not_run = 0
    if os.environ.get("OPTICS_SKIP_ODOO") == "1":
        not_run = count_odoo_tests()
        print(f"{BANNER}\nOPTICS_SKIP_ODOO=1: {not_run} Odoo tests NOT RUN\n{BANNER}")
    elif not odoo_importable:
        not_run = count_odoo_tests()
        print(odoo_missing_banner(not_run))
    else:
        if os.environ.get("OPTICS_DEMO_DB_ONLY") != "1":
            o_passed, o_failed = run_odoo()
            print(f"Odoo tests: {o_passed} passed, {o_failed} failed", flush=True)
            passed += o_passed
            failed += o_failed
        # a targeted run (OPTICS_TEST_TAGS) skips the demo database unless asked for it alone
        if os.environ.get("OPTICS_DEMO_DB_ONLY") == "1" or not (
            os.environ.get("OPTICS_TEST_TAGS") or os.environ.get("OPTICS_SKIP_DEMO_DB") == "1"
        ):
            d_passed, d_failed = run_demo_db()
            print(f"Demo database tests: {d_passed} passed, {d_failed} failed", flush=True)
            passed += d_passed
            failed += d_failed
    print(f"tests: {passed} passed, {failed} failed")
    if failed:
        return 1
    if passed == 0:
        print("No test ran: failing on purpose.")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
