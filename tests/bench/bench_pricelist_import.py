#!/usr/bin/env python3
"""Benchmark of the supplier price-list import (connector_b), with Odoo's base_import for scale.

Scenarios (figures are printed; targets from issue 8):
  1. first import of 10,000 new products: preview + import          target <= 60 s
     Odoo's base_import on the same rows (test + import), and the ratio  target >= 5x
  2. monthly update of a 10,000-row list whose products exist (prices, stock, lead times
     change; 3 % duplicate rows, 2 % bad rows; "import valid rows" mode): preview + import
                                                                       target <= 10 s
  3. 100,000 update rows (after a 100,000-product first import): preview + import,
     peak memory (RSS sampled, and its growth over the phase)          target <= 120 s

Usage:
  python3 tests/bench/bench_pricelist_import.py            # creates and drops bench_cb_<pid>
  BENCH_DB=mydb python3 tests/bench/bench_pricelist_import.py   # reuse a db with connector_b
  BENCH_SKIP_BASE_IMPORT=1 / BENCH_SKIP_100K=1 to shorten the run; BENCH_KEEP_DB=1 keeps it;
  BENCH_OFFSET=<n> numbers the generated articles/EANs from n (a reused db already has 0..).
The database work is rolled back after each scenario except the setup of scenario 3.
"""

import base64
import csv
import io
import os
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from local_odoo import addons_path  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")


def create_db(name):
    print(f"creating {name} with point_of_sale + connector_b (a few minutes) ...", flush=True)
    t = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "odoo",
            f"--db_host={PGHOST}",
            f"--addons-path={addons_path()}",
            "-d",
            name,
            "-i",
            "point_of_sale,connector_b",
            "--without-demo=all",
            "--stop-after-init",
            "--workers=0",
            "--max-cron-threads=0",
            "--http-port=0",
            "--log-level=warn",
        ],
        check=True,
    )
    print(f"  database ready in {time.monotonic() - t:.0f} s", flush=True)


# -- files ---------------------------------------------------------------------------------
HEADER = ["Артикул", "Штрихкод", "Наименование", "Цена", "Валюта", "НДС", "Остаток", "Срок"]
COLUMNS = {
    "article": "Артикул",
    "ean": "Штрихкод",
    "name": "Наименование",
    "price": "Цена",
    "currency": "Валюта",
    "vat": "НДС",
    "stock": "Остаток",
    "lead_time": "Срок",
}


def ean13(n):
    body = f"46{n:010d}"
    total = sum(int(c) * (3 if i % 2 else 1) for i, c in enumerate(body))
    return body + str((10 - total % 10) % 10)


OFFSET = int(os.environ.get("BENCH_OFFSET", "0"))  # fresh articles/EANs when reusing a database


def base_rows(n, offset=0):
    offset += OFFSET
    return [
        [
            f"SUP-{offset + i:07d}",
            ean13(offset + i),
            f"Оправа тестовая модель {offset + i} цвет {i % 17}",
            round(500 + (i * 37) % 9000 + (i % 100) / 100, 2),
            "RUB",
            "20%",
            i % 50,
            3 + i % 5,
        ]
        for i in range(n)
    ]


def monthly_rows(rows, seed=1):
    """Prices of half the rows change, stock of most, lead time of some; 3 % dups, 2 % bad."""
    rnd = random.Random(seed)
    out = []
    for r in rows:
        r = list(r)
        if rnd.random() < 0.5:
            r[3] = round(r[3] * 1.07, 2)
        if rnd.random() < 0.8:
            r[6] = rnd.randint(0, 60)
        if rnd.random() < 0.2:
            r[7] = rnd.randint(2, 14)
        out.append(r)
    n = len(out)
    for i in rnd.sample(range(n), n * 2 // 100):
        kind = i % 3
        if kind == 0:
            out[i][3] = "по запросу"
        elif kind == 1:
            out[i][1] = out[i][1][:-1] + str((int(out[i][1][-1]) + 1) % 10)  # bad check digit
        else:
            out[i][4] = "XYZ"
    for i in rnd.sample(range(n), n * 3 // 100):
        out.insert(rnd.randrange(len(out)), list(out[i]))
    return out


def xlsx_bytes(rows):
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Прайс")
    ws.append(HEADER)
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- measuring -----------------------------------------------------------------------------
class RssSampler:
    def __init__(self):
        import psutil

        self.proc = psutil.Process()
        self.start = self.peak = self.proc.memory_info().rss
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self):
        while not self._stop.wait(0.05):
            self.peak = max(self.peak, self.proc.memory_info().rss)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self.thread.join()


def mb(n):
    return f"{n / 1024 / 1024:.0f} MB"


FIGURES = []
CPU = {}


def backend_cpu(cr):
    """CPU seconds used so far by this cursor's PostgreSQL backend (same machine: /proc)."""
    try:
        cr.execute("SELECT pg_backend_pid()")
        pid = cr.fetchone()[0]
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def report(label, seconds, target=None, extra="", cpu=None):
    verdict = ""
    if target is not None:
        verdict = f"  (target <= {target:.0f} s: {'OK' if seconds <= target else 'MISSED'})"
    cpu_txt = ""
    if cpu is not None:
        odoo_cpu, pg_cpu = cpu
        cpu_txt = f" [cpu: odoo {odoo_cpu:.1f} s + postgres {pg_cpu:.1f} s = {odoo_cpu + pg_cpu:.1f} s]"
    line = f"{label:<58} {seconds:8.1f} s{cpu_txt}{verdict}{('  ' + extra) if extra else ''}"
    FIGURES.append(line)
    print(line, flush=True)


# -- scenarios -----------------------------------------------------------------------------
def run_ours(env, profile, data, mode="all", name="price.xlsx"):
    wizard = env["connector_b.import.wizard"].create(
        {"profile_id": profile.id, "file": base64.b64encode(data), "file_name": name, "mode": mode}
    )
    p0 = backend_cpu(env.cr)
    c0, t0 = time.process_time(), time.monotonic()
    wizard.action_preview()
    t1 = time.monotonic()
    history = env["connector_b.import.history"].browse(wizard.action_import()["res_id"])
    env.flush_all()
    t2 = time.monotonic()
    CPU["last"] = (time.process_time() - c0, backend_cpu(env.cr) - p0)
    return history, t1 - t0, t2 - t1


def run_base_import(env, rows):
    text = io.StringIO()
    w = csv.writer(text)
    w.writerow(["default_code", "barcode", "name", "list_price", "standard_price"])
    for r in rows:
        w.writerow([r[0], r[1], r[2], r[3], r[3]])
    imp = env["base_import.import"].create(
        {
            "res_model": "product.template",
            "file": text.getvalue().encode(),
            "file_type": "text/csv",
            "file_name": "base_import.csv",
        }
    )
    options = {
        "quoting": '"',
        "separator": ",",
        "encoding": "utf-8",
        "has_headers": True,
        "float_thousand_separator": "",
        "float_decimal_separator": ".",
        "date_format": "",
        "datetime_format": "",
        "keep_matches": False,
        "import_skip_records": [],
        "import_set_empty_fields": [],
        "fallback_values": {},
        "name_create_enabled_fields": {},
    }
    fields = ["default_code", "barcode", "name", "list_price", "standard_price"]
    p0 = backend_cpu(env.cr)
    c0, t0 = time.process_time(), time.monotonic()
    preview = imp.parse_preview(dict(options), count=10)
    assert not preview.get("error"), preview
    result = imp.execute_import(fields, fields, dict(options), dryrun=True)  # the "Test" button
    t1 = time.monotonic()
    assert not [m for m in result["messages"] if m["type"] == "error"], result["messages"][:3]
    result = imp.execute_import(fields, fields, dict(options), dryrun=False)
    env.flush_all()
    t2 = time.monotonic()
    assert len(result["ids"]) == len(rows), (len(result["ids"]), result["messages"][:3])
    CPU["last"] = (time.process_time() - c0, backend_cpu(env.cr) - p0)
    return t1 - t0, t2 - t1


LOAD_START = os.getloadavg()[0]


def main():
    import odoo
    from odoo import SUPERUSER_ID, api

    own_db = not os.environ.get("BENCH_DB")
    db = os.environ.get("BENCH_DB") or f"bench_cb_{os.getpid()}"
    if own_db:
        create_db(db)
    odoo.tools.config.parse_config(
        [f"--db_host={PGHOST}", f"--addons-path={addons_path()}", "--log-level=warn"]
    )
    registry = odoo.modules.registry.Registry(db)
    try:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {"lang": "en_US"})
            env["ir.config_parameter"].set_param("connector_b.async_rows", 10**9)  # measure in-process
            supplier = env["res.partner"].create({"name": "Bench Supplier", "is_company": True})
            env["res.currency"].with_context(active_test=False).search([("name", "=", "RUB")]).active = True
            profile = env["connector_b.import.profile"].create(
                {
                    "name": "bench",
                    "partner_id": supplier.id,
                    "file_type": "xlsx",
                    "match_order": "article,ean",
                    "column_ids": [(0, 0, {"field": f, "header": h}) for f, h in COLUMNS.items()],
                }
            )
            cr.commit()

            # 1. first import of 10,000 new products
            rows10 = base_rows(10000)
            data10 = xlsx_bytes(rows10)
            history, t_prev, t_imp = run_ours(env, profile, data10)
            assert history.state == "done" and history.created_count == 10000, (
                history.state,
                history.message,
            )
            ours = t_prev + t_imp
            report("1. first import 10,000 new products: preview", t_prev)
            report("   first import 10,000 new products: import", t_imp)
            report("   first import 10,000 new products: total", ours, 60, cpu=CPU["last"])
            ours_cpu = CPU["last"]
            cr.rollback()
            env.invalidate_all()
            if not os.environ.get("BENCH_SKIP_BASE_IMPORT"):
                b_prev, b_imp = run_base_import(env, rows10)
                report("   base_import same rows: parse + test (preview)", b_prev)
                report("   base_import same rows: import", b_imp)
                report(
                    "   base_import same rows: total",
                    b_prev + b_imp,
                    cpu=CPU["last"],
                    extra=f"ratio base_import / connector_b = {(b_prev + b_imp) / ours:.1f}x wall, "
                    f"{sum(CPU['last']) / sum(ours_cpu):.1f}x cpu (target >= 5x)",
                )
                cr.rollback()
                env.invalidate_all()

            # 2. monthly update of 10,000 existing products
            history, _p, _i = run_ours(env, profile, data10)
            assert history.created_count == 10000
            cr.commit()
            upd = monthly_rows(rows10)
            history, t_prev, t_imp = run_ours(env, profile, xlsx_bytes(upd), mode="partial")
            report(f"2. monthly update {len(upd)} rows: preview", t_prev)
            report("   monthly update: import", t_imp)
            report(
                "   monthly update: preview + import",
                t_prev + t_imp,
                10,
                cpu=CPU["last"],
                extra=f"created {history.created_count} updated {history.updated_count} unchanged "
                f"{history.unchanged_count} errors {history.error_count} duplicates "
                f"{history.skipped_count} warnings {history.warning_count}",
            )
            again, t_prev2, t_imp2 = run_ours(env, profile, xlsx_bytes(upd), mode="partial")
            report(
                "   same update re-imported (must change nothing)",
                t_prev2 + t_imp2,
                cpu=CPU["last"],
                extra=f"created {again.created_count} updated {again.updated_count}",
            )
            assert again.created_count == 0 and again.updated_count == 0
            cr.rollback()
            env.invalidate_all()

            # 3. 100,000 update rows
            if not os.environ.get("BENCH_SKIP_100K"):
                rows100 = base_rows(90000, offset=10000)
                t = time.monotonic()
                data = xlsx_bytes(rows100)
                gen = time.monotonic() - t
                history, t_prev, t_imp = run_ours(env, profile, data)
                assert history.created_count == 90000, (history.state, history.message)
                cr.commit()
                report(
                    "3. setup: first import of 90,000 more new products",
                    t_prev + t_imp,
                    cpu=CPU["last"],
                    extra=f"(file generated in {gen:.0f} s)",
                )
                upd = monthly_rows(rows10 + rows100, seed=2)[:100000]
                data = xlsx_bytes(upd)
                with RssSampler() as mem:
                    history, t_prev, t_imp = run_ours(env, profile, data, mode="partial")
                report("   100,000 update rows: preview", t_prev)
                report("   100,000 update rows: import", t_imp)
                report(
                    "   100,000 update rows: preview + import",
                    t_prev + t_imp,
                    120,
                    cpu=CPU["last"],
                    extra=f"peak RSS {mb(mem.peak)} (+{mb(mem.peak - mem.start)} over the phase); "
                    f"updated {history.updated_count} unchanged {history.unchanged_count} "
                    f"errors {history.error_count}",
                )
                cr.rollback()
    finally:
        print("\n== connector_b price-list import benchmark ==")
        print(
            f"(load average at the end: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores; "
            f"at the start: {LOAD_START:.1f}; wall times include waiting for the CPU; the cpu figures "
            f"are this process plus its PostgreSQL backend)"
        )
        for line in FIGURES:
            print(line)
        if own_db and not os.environ.get("BENCH_KEEP_DB"):
            odoo.sql_db.close_all()
            subprocess.run(["dropdb", "-h", PGHOST, "--if-exists", db], check=False)


if __name__ == "__main__":
    main()
