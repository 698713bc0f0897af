#!/usr/bin/env python3
"""A compressed business day of the chain against the real server processes (issue 18).

What runs (loopback only):

* central: Odoo 18 in prefork (``--workers 4``) with OCA queue_job's job runner and one cron
  worker, on a database with the four addons (and their demo data: the POS configuration the
  tills are copied from); and, as in the production topology (docs/deployment.md), a push
  node: a second Odoo in prefork on the same database (``--push-workers 2``; no cron, no job
  runner) to which the tills push, as the reverse proxy routes them;
* the mock OFD as a subprocess (the real OFD session protocol over TCP);
* N tills, each a ``TillService`` (journal in SQLite, the same code a database-less till runs)
  driving its own KKT emulator (the Shtrih-M protocol over TCP) and pushing its journal to
  central in a background thread, exactly as a till does;
* the POS of each store: every receipt is also synced to central as a ``pos.order``
  (``sync_from_ui``, the call the POS makes) carrying the fiscal data the till answered.

The day (business time, compressed ``--compress`` times): each till sells at
``--receipts-per-hour`` (Poisson arrivals; 5-line receipts, 30 % paid in cash); one store
is offline for ``--offline-hours`` (its till keeps fiscalising, its pushes and POS syncs fail
and queue up, then catch up); the OFD refuses connections for ``--ofd-down-minutes``; a
supplier price list of ``--import-rows`` rows is imported in the middle of the day; a store
manager's gross-profit report is read three times.  Afterwards everything drains and the
fiscal documents are reconciled: every FD in each emulator's FN archive must be in its
till's journal, on central (once) and at the OFD, with no FD unknown to the journal.

Printed: tills, receipts, receipts/s sustained; central push latency p50/p95/p99; OFD
delivery lag (fiscalised at the till -> acknowledged on central) p50/p95/max, outside the
outage and overall, and outside the outage split into the documents queued in their FN
behind a document of the outage (an FN hands out one OFD message at a time, oldest first)
and the others; push p95 per wall minute; POS sync latency; GP report and import times under load; errors;
database growth per 1,000 receipts; peak memory per process; lost and duplicate fiscal
documents (both asserted 0: the exit status is 1 otherwise).

    python3 tests/load/chain_day.py --tills 40 --compress 10 --hours 8     # the goal of issue 18
    python3 tests/load/chain_day.py --tills 4 --compress 120 --hours 2 --import-rows 500   # smoke
    make load  (LOAD_ARGS="...")

``--db NAME --reuse`` runs on an existing database that has the addons installed (and keeps
it); otherwise a database ``load_<random>`` is created (about 3 minutes) and dropped.
The library entry point is ``run_day(plan, central)``; the Odoo smoke test
(addons/optics_pos_ru54fz/tests/test_chain_day_smoke.py) calls it with 4 tills.
"""

import argparse
import base64
import dataclasses
import datetime
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from local_odoo import addons_path, free_port  # noqa: E402

ADDON = ROOT / "addons" / "optics_pos_ru54fz"
if str(ADDON) not in sys.path:
    sys.path.insert(0, str(ADDON))

import psutil  # noqa: E402
import psycopg2  # noqa: E402
from ru54fz import errors, tokens  # noqa: E402
from ru54fz.central_client import PUSH_PATH  # noqa: E402
from ru54fz.devices import make_device  # noqa: E402
from ru54fz.emulator.model import KKTModel  # noqa: E402
from ru54fz.emulator.server import Server  # noqa: E402
from ru54fz.journal import Journal  # noqa: E402
from ru54fz.ofd.mock_server import MockOfdProcess  # noqa: E402
from ru54fz.till_service import TillService  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
ADDONS = "optics_core,optics_pos_ru54fz,connector_b,ru_accounting_extras"
PRICE_HEADER = ["Артикул", "Штрихкод", "Наименование", "Цена", "Валюта", "НДС", "Остаток", "Срок"]
PRICE_COLUMNS = {
    "article": "Артикул",
    "ean": "Штрихкод",
    "name": "Наименование",
    "price": "Цена",
    "currency": "Валюта",
    "vat": "НДС",
    "stock": "Остаток",
    "lead_time": "Срок",
}


@dataclasses.dataclass
class DayPlan:
    tills: int = 40
    hours: float = 8.0  # business hours of the day
    compress: float = 10.0  # business seconds per wall second
    receipts_per_hour: float = 30.0  # per till
    lines: int = 5
    cash_share: float = 0.3
    offline_at: float = 0.15  # fraction of the day the offline store goes offline
    offline_hours: float = 2.0
    ofd_down_at: float = 0.5
    ofd_down_minutes: float = 20.0
    import_at: float = 0.45
    import_rows: int = 10000
    gp_at: tuple = (0.3, 0.6, 0.9)
    drain_timeout: float = 600.0  # wall seconds to wait for every document to be acknowledged
    # Odoo's "Update quantities in stock" for the day's sessions: "real" (a picking per order
    # in the POS sync: Odoo's default, and the installed database's), "closing" (one picking
    # per session at its closing); empty keeps the database's setting
    stock_update: str = ""
    # a CSV of every acknowledged document (fiscalised at, seconds into the day; lag; till;
    # outside the outage and the offline store or not), for looking at the lag over the day
    lag_csv: str = ""
    seed: int = 18

    def wall(self, business_seconds):
        return business_seconds / self.compress

    @property
    def day_wall(self):
        return self.wall(self.hours * 3600)


# -- small helpers -------------------------------------------------------------------------------


def pct(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    k = (len(values) - 1) * p / 100
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


def ms(v):
    return f"{v * 1000:.0f} ms" if v == v else "n/a"


def odoo_launcher():
    """odoo-bin when it exists: a prefork server starts its gevent process by re-running argv[0]."""
    import importlib.util

    spec = importlib.util.find_spec("odoo")
    odoo_bin = Path(spec.origin).resolve().parent.parent / "odoo-bin"
    return (
        [sys.executable, str(odoo_bin)] if odoo_bin.exists() else [sys.executable, str(ROOT / "bin" / "odoo")]
    )


def db_args():
    args = [f"--db_host={PGHOST}", f"--db_port={PGPORT}"]
    if os.environ.get("PGUSER"):
        args.append(f"--db_user={os.environ['PGUSER']}")
    return args


def pg_connect(db):
    conn = psycopg2.connect(host=PGHOST, port=PGPORT, dbname=db, user=os.environ.get("PGUSER"))
    conn.autocommit = True
    return conn


# -- central -------------------------------------------------------------------------------------


class Central:
    """Odoo in prefork with the queue_job runner, on loopback, for one database.

    ``push_workers`` > 0 adds a second Odoo node on the same database that serves only the
    tills' pushes, as the reverse proxy of docs/deployment.md routes them
    (``/optics_pos_ru54fz/central/push`` to the ``odoo-push`` nodes): HTTP workers, no cron,
    no job runner (``--load=base,web``; the jobs it enqueues are run by the main node's
    runner, woken by PostgreSQL's NOTIFY).  The tills push to ``push_url``; the POS, the back
    office and the jobs use ``url``."""

    def __init__(self, db, workers=4, log_path=None, data_dir=None, push_workers=0, main_nice=0):
        self.db = db
        self.workers = workers
        self.push_workers = push_workers
        # the main node's CPU priority below the push node's (``nice``): on one shared host,
        # what separate machines (or cpu shares) for the push nodes give in production
        self.main_nice = main_nice
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path or tempfile.mktemp(prefix=f"load_{db}_", suffix=".log")
        env = dict(
            os.environ,
            PYTHONUNBUFFERED="1",
            # 4 HTTP workers serve the tills, the POS and the jobs: leave one for requests
            ODOO_QUEUE_JOB_CHANNELS=f"root:{max(1, workers - 1)},root.fiscal_ofd:2,root.connector_b:1",
        )
        env.pop("QUEUE_JOB__NO_DELAY", None)
        self.proc = self._start(self.port, workers, self.log_path, env, main=True)
        self.push_proc = None
        self.push_url = self.url
        self.push_log_path = None
        if push_workers:
            port = free_port()
            self.push_log_path = self.log_path.replace(".log", "_push.log")
            self.push_proc = self._start(port, push_workers, self.push_log_path, env, main=False)
            self.push_url = f"http://127.0.0.1:{port}"
        ready = {self.log_path: "queue job runner ready for db"}
        if self.push_proc:
            # the werkzeug line of the first request is not there yet: the HTTP server's banner
            ready[self.push_log_path] = "HTTP service (werkzeug) running"
        deadline = time.time() + 180
        while time.time() < deadline:
            for proc in self.procs():
                if proc.poll() is not None:
                    raise RuntimeError(f"central exited: {self.tail()}")
            if all(marker in self.text(path) for path, marker in ready.items()):
                break
            time.sleep(0.3)
        else:
            self.stop()
            raise RuntimeError(f"central did not start: {self.tail()}")

    def _start(self, port, workers, log_path, env, main):
        cmd = [
            *odoo_launcher(),
            *db_args(),
            "-d",
            self.db,
            f"--db-filter=^{self.db}$",
            f"--addons-path={addons_path()}",
            # the job runner is a server-wide module: only the main node runs one
            "--load=base,web,queue_job" if main else "--load=base,web",
            f"--workers={workers}",
            f"--max-cron-threads={1 if main else 0}",
            f"--http-port={port}",
            "--http-interface=127.0.0.1",
            f"--gevent-port={free_port()}",
            "--log-level=warn",
            "--log-handler=odoo.addons.queue_job.jobrunner.runner:INFO",
            "--log-handler=odoo.service.server:INFO",
            # one access-log line per request with its SQL count and time: the cost per endpoint
            "--log-handler=werkzeug:INFO",
            "--limit-time-real=900",
            "--limit-time-cpu=900",
            "--limit-memory-soft=2147483648",
            "--limit-memory-hard=3221225472",
            f"--logfile={log_path}",
        ]
        if self.data_dir:
            cmd.append(f"--data-dir={self.data_dir}")
        nice = self.main_nice if main else 0
        return subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=env,
            preexec_fn=(lambda: os.nice(nice)) if nice else None,  # noqa: PLW1509
        )

    def nodes(self):
        """[(name, master process, log path)] of the nodes running: "central", and "push"
        when there is a push node."""
        out = [("central", self.proc, self.log_path)]
        if self.push_proc is not None:
            out.append(("push", self.push_proc, self.push_log_path))
        return out

    def procs(self):
        return [proc for _name, proc, _log in self.nodes()]

    def text(self, path=None):
        try:
            return Path(path or self.log_path).read_text(errors="replace")
        except OSError:
            return ""

    def tail(self, n=3000):
        return "\n".join(
            (f"-- {name} node --\n" if name != "central" else "") + self.text(log)[-n:]
            for name, _proc, log in self.nodes()
        )

    def request_times(self, since=None):
        """One pass over the access logs of both nodes: ``({path: ([seconds each request
        spent in a worker], mean SQL queries)}, {node: till pushes it served})``.  The
        times (requests from ``since`` on) are the server's side of a request's latency
        (what a client sees beyond it is waiting for a free worker, the network and the
        client's own process); the push counts cover the whole run: which node served them."""
        import re

        stats = {}
        pushes_by_node = {}
        pattern = re.compile(
            r'^(\S+ \S+) \d+ INFO \S+ werkzeug: .*?"(?:GET|POST) (\S+) HTTP/[\d.]+" \d+ - '
            r"(\d+) ([\d.]+) ([\d.]+)",
            re.M,
        )
        for node, _proc, log_path in self.nodes():
            pushes_by_node[node] = 0
            for stamp, path, queries, sql_time, other in pattern.findall(self.text(log_path)):
                path = path.split("?")[0]
                if path == PUSH_PATH:
                    pushes_by_node[node] += 1
                if since and stamp < since:
                    continue
                times, q = stats.setdefault(path, ([], [0]))
                times.append(float(sql_time) + float(other))
                q[0] += int(queries)
        return {p: (times, q[0] / len(times)) for p, (times, q) in stats.items()}, pushes_by_node

    def processes(self):
        """[(node, process)] of both nodes: the master and everything it started."""
        out = []
        for node, proc, _log in self.nodes():
            try:
                root = psutil.Process(proc.pid)
                out += [(node, p) for p in (root, *root.children(recursive=True))]
            except psutil.Error:
                pass
        return out

    def stop(self):
        for proc in self.procs():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs():
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(10)


def create_database(db):
    subprocess.call(["dropdb", "--if-exists", "-h", PGHOST, "-p", PGPORT, db])
    print(f"installing {ADDONS} with demo data in {db} (a few minutes)...", flush=True)
    subprocess.check_call(
        [
            *odoo_launcher(),
            *db_args(),
            "-d",
            db,
            f"--addons-path={addons_path()}",
            "-i",
            ADDONS,
            "--stop-after-init",
            "--workers=0",
            "--max-cron-threads=0",
            f"--http-port={free_port()}",
            "--log-level=warn",
        ]
    )


def drop_database(db):
    subprocess.call(["dropdb", "--if-exists", "-h", PGHOST, "-p", PGPORT, db])
    shutil.rmtree(os.path.expanduser(f"~/.local/share/Odoo/filestore/{db}"), ignore_errors=True)


class Rpc:
    """JSON-RPC (``/jsonrpc``, what XML-RPC clients get, with JSON's null) as the
    administrator (the demo's admin/admin)."""

    def __init__(self, url, db, login="admin", password="admin"):
        self.url, self.db, self.password = url, db, password
        self.uid = self._call("common", "authenticate", db, login, password, {})
        if not self.uid:
            raise RuntimeError(f"cannot log in to {db} as {login}")

    def _call(self, service, method, *args):
        body = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"service": service, "method": method, "args": list(args)},
            }
        ).encode()
        req = urllib.request.Request(
            f"{self.url}/jsonrpc", data=body, method="POST", headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(req, timeout=900) as resp:
            reply = json.loads(resp.read())
        if reply.get("error"):
            data = reply["error"].get("data") or {}
            raise RuntimeError(f"{data.get('name')}: {data.get('message') or reply['error']}")
        return reply.get("result")

    def __call__(self, model, method, *args, **kw):
        return self._call(
            "object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kw
        )


# -- the chain on central ---------------------------------------------------------------------------


@dataclasses.dataclass
class Store:
    index: int
    code: str
    token: str
    config_id: int
    session_id: int
    pricelist_id: int
    cash_method: int
    card_method: int
    store_id: int


class Chain:
    """What the day needs on central: the OFD address, products, one store + till + open
    POS session per till, a supplier with a price-list profile.  Everything it creates is
    recorded, so ``cleanup`` can remove it from a database that is kept."""

    def __init__(self, rpc, conn, ofd_port, run_id, stock_update=""):
        self.rpc, self.conn, self.run_id = rpc, conn, run_id
        cur = conn.cursor()
        cur.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
        self.company_id = cur.fetchone()[0]
        cur.execute(
            "SELECT ru54fz_ofd_host, ru54fz_ofd_port, ru54fz_breaker_cool_down,"
            " point_of_sale_update_stock_quantities FROM res_company WHERE id=%s",
            (self.company_id,),
        )
        self.saved_company = cur.fetchone()
        self.stock_update = stock_update or self.saved_company[3]
        cur.execute(
            "UPDATE res_company SET ru54fz_ofd_host='127.0.0.1', ru54fz_ofd_port=%s,"
            " ru54fz_breaker_cool_down=5, point_of_sale_update_stock_quantities=%s WHERE id=%s",
            (ofd_port, self.stock_update, self.company_id),
        )
        demo = rpc("ir.model.data", "check_object_reference", "optics_pos_ru54fz", "pos_config_tverskaya")
        self.template_config = demo[1]
        methods = rpc("pos.config", "read", [self.template_config], ["payment_method_ids"])[0][
            "payment_method_ids"
        ]
        # a cash method (its drawer) belongs to one point of sale: each store gets its own below
        self.shared_methods = [
            m["id"]
            for m in rpc("pos.payment.method", "read", methods, ["is_cash_count"])
            if not m["is_cash_count"]
        ]
        self.products = rpc(
            "product.product",
            "create",
            [
                {
                    "name": f"Load {run_id} item {i}",
                    "available_in_pos": True,
                    "type": "consu",
                    "lst_price": 500 + 450 * i,
                    "taxes_id": [(5, 0, 0)],
                }
                for i in range(10)
            ],
        )
        self.prices = {pid: 500 + 450 * i for i, pid in enumerate(self.products)}
        self.stores = []
        self.configs, self.journals, self.methods, self.store_ids = [], [], [], []
        self.record_lock = threading.Lock()
        self.notes = set()

    def add_store(self, index):
        code = f"L{self.run_id}-{index:03d}"
        store_id = self.rpc("optics.store", "create", {"name": f"Load store {code}", "code": code})
        with self.record_lock:
            self.store_ids.append(store_id)
        config_id = self.rpc(
            "pos.config",
            "copy",
            self.template_config,
            {
                "name": f"Load till {code}",
                "optics_store_id": store_id,
                "ru54fz_enabled": True,
                "ru54fz_till_code": code,
                "ru54fz_device_address": False,
                "ru54fz_proxy_url": "http://127.0.0.1:9",
                "payment_method_ids": [(6, 0, self.shared_methods)],
            },
        )
        config_id = config_id[0] if isinstance(config_id, list) else config_id  # copy() returns ids
        with self.record_lock:
            self.configs.append(config_id)
        # a cash payment method (and its drawer journal) belongs to one point of sale
        journal = self.rpc(
            "account.journal",
            "create",
            {"name": f"Load cash {code}", "type": "cash", "code": f"Z{self.run_id[:1]}{index:03d}"},
        )
        with self.record_lock:
            self.journals.append(journal)
        cash = self.rpc(
            "pos.payment.method",
            "create",
            {"name": f"Cash {code}", "journal_id": journal, "is_cash_count": True},
        )
        with self.record_lock:
            self.methods.append(cash)
        self.rpc("pos.config", "write", [config_id], {"payment_method_ids": [(4, cash)]})
        token = tokens.generate()
        self.conn.cursor().execute(
            "UPDATE pos_config SET ru54fz_central_token_hash=%s WHERE id=%s",
            (tokens.hash_token(token), config_id),
        )
        self.rpc("pos.config", "open_ui", [config_id])
        cfg = self.rpc(
            "pos.config", "read", [config_id], ["current_session_id", "pricelist_id", "payment_method_ids"]
        )[0]
        # the cashier counts the opening float (cash control): the session is then "opened".
        # Orders sync into a session still in "opening_control" too, so a database whose
        # demo names a language it has not loaded (chatter messages) is no obstacle.
        try:
            self.rpc("pos.session", "set_opening_control", [cfg["current_session_id"][0]], 0, "")
        except RuntimeError as exc:
            self.notes.add(f"opening control skipped: {exc}")
        methods = self.rpc("pos.payment.method", "read", cfg["payment_method_ids"], ["is_cash_count"])
        cash = next(m["id"] for m in methods if m["is_cash_count"])
        card = next(m["id"] for m in methods if not m["is_cash_count"])
        store = Store(
            index,
            code,
            token,
            config_id,
            cfg["current_session_id"][0],
            (cfg["pricelist_id"] or [False])[0],
            cash,
            card,
            store_id,
        )
        with self.record_lock:
            self.stores.append(store)
        return store

    def cleanup(self):
        """Remove what this run created (for a database that is kept)."""
        cur = self.conn.cursor()
        codes = [f"L{self.run_id}-{i:03d}" for i in range(max(len(self.configs), len(self.store_ids)) + 4)]
        configs = self.configs or [0]
        cur.execute(
            "DELETE FROM optics_fiscal_document_log WHERE document_id IN"
            " (SELECT id FROM optics_fiscal_document WHERE till_code = ANY(%s))",
            (codes,),
        )
        for table in ("optics_fiscal_dead_letter", "optics_fiscal_audit"):
            cur.execute(
                f"DELETE FROM {table} WHERE document_id IN"  # noqa: S608
                " (SELECT id FROM optics_fiscal_document WHERE till_code = ANY(%s))",
                (codes,),
            )
        cur.execute("DELETE FROM optics_fiscal_document WHERE till_code = ANY(%s)", (codes,))
        cur.execute("DELETE FROM optics_fiscal_till WHERE pos_config_id = ANY(%s)", (configs,))
        cur.execute(
            "DELETE FROM queue_job WHERE model_name IN ('optics.fiscal.document', "
            "'connector_b.import.history')"
            " AND state IN ('done', 'failed', 'cancelled')"
        )
        cur.execute(
            "DELETE FROM optics_cash_movement WHERE config_id = ANY(%s) OR session_id IN"
            " (SELECT id FROM pos_session WHERE config_id = ANY(%s))",
            (configs, configs),
        )
        cur.execute("DELETE FROM optics_shift_report WHERE config_id = ANY(%s)", (configs,))
        cur.execute(
            "DELETE FROM pos_payment WHERE pos_order_id IN (SELECT id FROM pos_order WHERE config_id = "
            "ANY(%s))",
            (configs,),
        )
        cur.execute(
            "DELETE FROM pos_order_line WHERE order_id IN (SELECT id FROM pos_order WHERE config_id = "
            "ANY(%s))",
            (configs,),
        )
        cur.execute("DELETE FROM pos_order WHERE config_id = ANY(%s)", (configs,))
        cur.execute("DELETE FROM pos_session WHERE config_id = ANY(%s)", (configs,))
        cur.execute("DELETE FROM pos_config WHERE id = ANY(%s)", (configs,))
        cur.execute("DELETE FROM pos_payment_method WHERE id = ANY(%s)", (self.methods or [0],))
        cur.execute("DELETE FROM account_journal WHERE id = ANY(%s)", (self.journals or [0],))
        cur.execute("DELETE FROM optics_store WHERE id = ANY(%s)", (self.store_ids or [0],))
        # the day's goods and what its price-list import created leave the POS product list: a
        # kept database (the smoke test's) would otherwise show them to every later POS session
        cur.execute(
            "SELECT id FROM product_template WHERE id IN (SELECT product_tmpl_id FROM product_product"
            " WHERE id = ANY(%s)) OR id IN (SELECT s.product_tmpl_id FROM product_supplierinfo s"
            " JOIN res_partner p ON p.id = s.partner_id WHERE p.name = %s)",
            (self.products or [0], f"Load supplier {self.run_id}"),
        )
        templates = [row[0] for row in cur.fetchall()] or [0]
        cur.execute("UPDATE product_product SET active = false WHERE product_tmpl_id = ANY(%s)", (templates,))
        cur.execute(
            "UPDATE product_template SET active = false, available_in_pos = false WHERE id = ANY(%s)",
            (templates,),
        )
        cur.execute(
            "UPDATE res_company SET ru54fz_ofd_host=%s, ru54fz_ofd_port=%s, ru54fz_breaker_cool_down=%s,"
            " point_of_sale_update_stock_quantities=%s WHERE id=%s",
            (*self.saved_company, self.company_id),
        )


# -- the tills ----------------------------------------------------------------------------------------


class Till:
    """One store's till: KKT emulator (in-process server over TCP), journal, TillService."""

    def __init__(self, store, workdir, central_url, plan):
        self.store = store
        fn_serial = f"99990789{store.index + 1:04d}{int(time.time()) % 10000:04d}"
        self.model = KKTModel(
            str(workdir / f"kkt_{store.code}.json"), fn_serial=fn_serial, inn="7701234567", tax_systems=0x03
        )
        self.server = Server(self.model, "127.0.0.1", 0, 0)
        self.server.start()
        self.journal = Journal(workdir / f"journal_{store.code}.sqlite", till_code=store.code)
        device = make_device({"type": "emulator", "address": f"tcp://127.0.0.1:{self.server.port}"})
        self.svc = TillService(
            self.journal,
            device,
            {
                "till_code": store.code,
                "central_url": central_url,
                "central_token": store.token,
                "push_interval": 5.0,
                "push_timeout": 60.0,
                "push_backoff_max": 10.0,
            },
        )
        self.central_url = self.svc.central.url
        self.push_times = []  # (wall time, seconds, entries) of successful pushes
        self.push_errors = 0
        self.offline = False
        real_push = self.svc.central.push

        def timed_push(entries, status=None, tickets_written=None):
            if self.offline:
                raise errors.TransportError("the store is offline (load plan)")
            t0 = time.perf_counter()
            try:
                reply = real_push(entries, status=status, tickets_written=tickets_written)
            except errors.FiscalError:
                self.push_errors += 1
                raise
            self.push_times.append((time.time(), time.perf_counter() - t0, len(entries)))
            return reply

        self.svc.central.push = timed_push
        self.svc.start()
        self.fn_serial = self.svc.device.fn_status().fn_serial
        self.first_fd = self.svc.device.fn_status().last_fd_number
        self.svc.open_shift({"uuid": str(uuid.uuid4()), "cashier": {"name": "Анна Кассирова"}})

    def stop(self):
        self.svc.stop()
        try:
            self.svc.device.close()
        finally:
            self.journal.close()
            self.server.stop()


def receipt_payload(rnd, plan, chain):
    products = rnd.sample(chain.products, plan.lines)
    lines, pos_lines, total = [], [], 0
    for pid in products:
        price = chain.prices[pid]
        total += price
        lines.append(
            {
                "name": f"Товар {pid}",
                "quantity": "1.000",
                "price": f"{price}.00",
                "amount": f"{price}.00",
                "vat_code": 6,
                "payment_method": 4,
                "subject": 1,
                "measure": 0,
                "barcode": "",
            }
        )
        pos_lines.append((pid, price))
    cash = rnd.random() < plan.cash_share
    uid = str(uuid.uuid4())
    payload = {
        "uuid": uid,
        "pos_reference": f"Order {uid[:8]}",
        "operation": "sale",
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": lines,
        "payments": [{"kind": "cash" if cash else "card", "amount": f"{total}.00"}],
        "refund_of": None,
    }
    return payload, pos_lines, cash, total


def pos_order_data(store, payload, pos_lines, cash, total, fiscal, uid_user):
    return {
        "amount_paid": total,
        "amount_return": 0,
        "amount_tax": 0,
        "amount_total": total,
        "date_order": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
        "fiscal_position_id": False,
        "pricelist_id": store.pricelist_id,
        "name": payload["pos_reference"],
        "last_order_preparation_change": "{}",
        "partner_id": False,
        "session_id": store.session_id,
        "sequence_number": 1,
        "uuid": payload["uuid"],
        "user_id": uid_user,
        "to_invoice": False,
        "lines": [
            (
                0,
                0,
                {
                    "id": random.randint(1, 10**9),
                    "pack_lot_ids": [],
                    "price_unit": price,
                    "product_id": pid,
                    "price_subtotal": price,
                    "price_subtotal_incl": price,
                    "qty": 1,
                    "tax_ids": [(6, 0, [])],
                },
            )
            for pid, price in pos_lines
        ],
        "payment_ids": [
            (
                0,
                0,
                {
                    "amount": total,
                    "name": time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime()),
                    "payment_method_id": store.cash_method if cash else store.card_method,
                },
            )
        ],
        "ru54fz_uuid": payload["uuid"],
        "ru54fz_fd_number": fiscal["fd_number"],
        "ru54fz_fiscal_sign": str(fiscal["fiscal_sign"]),
        "ru54fz_fn_serial": fiscal["fn_serial"],
        "ru54fz_shift_number": fiscal["shift_number"],
        "ru54fz_qr": fiscal.get("qr") or "",
    }


def price_list_xlsx(rows, offset):
    import openpyxl

    wb = openpyxl.Workbook(write_only=True)
    ws = wb.create_sheet("Прайс")
    ws.append(PRICE_HEADER)
    for i in range(rows):
        n = offset + i
        body = f"46{n:010d}"
        check = (10 - sum(int(c) * (3 if k % 2 else 1) for k, c in enumerate(body)) % 10) % 10
        ws.append(
            [
                f"LD-{n:07d}",
                body + str(check),
                f"Оправа нагрузочная {n}",
                500 + (n * 37) % 9000,
                "RUB",
                "20%",
                n % 50,
                3 + n % 5,
            ]
        )
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# -- the day ----------------------------------------------------------------------------------------


class Day:
    def __init__(self, plan, central, workdir, log=print):
        self.plan, self.central, self.workdir, self.log = plan, central, Path(workdir), log
        self.rnd = random.Random(plan.seed)
        self.run_id = uuid.uuid4().hex[:4].upper()
        self.conn = pg_connect(central.db)
        self.rpc = Rpc(central.url, central.db)
        self.ofd = None
        self.chain = None
        self.tills = []
        self.lock = threading.Lock()
        self.sale_times, self.sync_times, self.gp_times = [], [], []
        self.import_result = None
        self.errors = {"sale": 0, "sync": 0, "gp": 0, "import": 0}
        self.error_samples = []
        self.backlog = {}  # store code -> POS orders waiting for the network
        self.sync_locks = {}  # store code -> lock: one POS queue flush at a time
        self.sync_wake = {}  # store code -> event: an order is waiting
        self.receipts = 0
        self.outage = None  # (wall start, wall end) of the OFD outage
        self.offline_window = None
        self.mem_peak = {}
        self.cpu_first, self.cpu_last = {}, {}  # (role, pid) -> CPU seconds (user + system)
        self.sampling_started = False
        self.stop_event = threading.Event()

    # ------------------------------------------------------------------ set-up
    def setup(self):
        # built before the day: openpyxl holds the driver's GIL for seconds, which every till
        # thread of this process would see as push latency
        self.import_file = price_list_xlsx(self.plan.import_rows, offset=int(self.run_id, 16) * 100000)
        self.ofd = MockOfdProcess(latency_ms=5)
        self.chain = Chain(self.rpc, self.conn, self.ofd.port, self.run_id, self.plan.stock_update)
        t0 = time.time()
        # the back office set-up of the stores, four at a time (one RPC each step)
        import concurrent.futures

        with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
            stores = list(pool.map(self.chain.add_store, range(self.plan.tills)))
        for store in stores:
            self.tills.append(Till(store, self.workdir, self.central.push_url, self.plan))
        self.log(f"set up {self.plan.tills} stores, tills and POS sessions in {time.time() - t0:.0f} s")

    def teardown(self, cleanup=False):
        self.stop_event.set()
        for till in self.tills:
            try:
                till.stop()
            except Exception as exc:  # noqa: BLE001 - stop the others anyway
                self.log(f"till {till.store.code} did not stop cleanly: {exc}")
        if self.ofd is not None:
            self.ofd.stop()
        if cleanup and self.chain is not None:
            self.chain.cleanup()
        self.conn.close()

    # ------------------------------------------------------------------ drivers
    def _error(self, kind, exc):
        with self.lock:
            self.errors[kind] += 1
            if len(self.error_samples) < 10:
                self.error_samples.append(f"{kind}: {exc}")

    def _sell(self, till):
        plan = self.plan
        rnd = random.Random(plan.seed * 1000 + till.store.index)
        mean_gap = plan.wall(3600 / plan.receipts_per_hour)
        next_at = self.t0 + rnd.expovariate(1 / mean_gap)
        while not self.stop_event.is_set():
            now = time.time()
            if now >= self.t_end:
                return
            if now < next_at:
                self.stop_event.wait(min(next_at - now, 0.5))
                continue
            next_at += rnd.expovariate(1 / mean_gap)
            payload, pos_lines, cash, total = receipt_payload(rnd, plan, self.chain)
            t0 = time.perf_counter()
            try:
                answer = till.svc.sale(payload)
            except errors.FiscalError as exc:
                self._error("sale", exc)
                continue
            with self.lock:
                self.sale_times.append(time.perf_counter() - t0)
                self.receipts += 1
            order = pos_order_data(
                till.store, payload, pos_lines, cash, total, answer["fiscal"], self.rpc.uid
            )
            with self.lock:
                self.backlog.setdefault(till.store.code, []).append(order)
            # the POS syncs in the background (Odoo's order queue): the next customer does not wait
            self.sync_wake[till.store.code].set()

    def _sync_loop(self, till):
        code = till.store.code
        wake = self.sync_wake[code]
        while not self.stop_event.is_set():
            wake.wait(1.0)
            wake.clear()
            if not till.offline:
                self._sync(code)

    def _sync(self, code):
        """The POS sends its queued orders (one call, like Odoo's offline order queue)."""
        with self.lock:
            lock = self.sync_locks.setdefault(code, threading.Lock())
        with lock:
            with self.lock:
                batch, self.backlog[code] = list(self.backlog.get(code) or []), []
            if not batch:
                return
            t0 = time.perf_counter()
            try:
                self.rpc("pos.order", "sync_from_ui", batch)
            except Exception as exc:  # noqa: BLE001 - counted; the orders stay queued
                self._error("sync", exc)
                with self.lock:
                    self.backlog[code] = batch + self.backlog[code]
                return
            with self.lock:
                self.sync_times.append((time.perf_counter() - t0, len(batch)))

    def _events(self):
        plan = self.plan
        day = plan.day_wall
        events = [
            (plan.offline_at * day, "offline_start"),
            (plan.offline_at * day + plan.wall(plan.offline_hours * 3600), "offline_end"),
            (plan.ofd_down_at * day, "ofd_down"),
            (plan.ofd_down_at * day + plan.wall(plan.ofd_down_minutes * 60), "ofd_up"),
            (plan.import_at * day, "import"),
        ]
        events += [(at * day, "gp") for at in plan.gp_at]
        for at, what in sorted(events):
            if self.stop_event.wait(max(0.0, self.t0 + at - time.time())):
                return
            self.log(f"  [{time.time() - self.t0:6.0f} s] {what}")
            if what == "offline_start":
                self.tills[0].offline = True
                self.offline_window = [time.time(), None]
            elif what == "offline_end":
                till = self.tills[0]
                till.offline = False
                self.offline_window[1] = time.time()
                till.svc._wake.set()
                self.sync_wake[till.store.code].set()
            elif what == "ofd_down":
                self.ofd.control.set_mode("refuse")
                self.outage = [time.time(), None]
            elif what == "ofd_up":
                self.ofd.control.set_mode("online")
                self.outage[1] = time.time()
            elif what == "import":
                threading.Thread(target=self._import, name="load-import", daemon=True).start()
            elif what == "gp":
                threading.Thread(target=self._gp_report, name="load-gp", daemon=True).start()

    def _import(self):
        try:
            partner = self.rpc(
                "res.partner", "create", {"name": f"Load supplier {self.run_id}", "is_company": True}
            )
            profile = self.rpc(
                "connector_b.import.profile",
                "create",
                {
                    "name": f"load {self.run_id}",
                    "partner_id": partner,
                    "file_type": "xlsx",
                    "match_order": "article,ean",
                    "column_ids": [(0, 0, {"field": f, "header": h}) for f, h in PRICE_COLUMNS.items()],
                },
            )
            data = self.import_file
            t0 = time.perf_counter()
            wizard = self.rpc(
                "connector_b.import.wizard",
                "create",
                {
                    "profile_id": profile,
                    "file": base64.b64encode(data).decode(),
                    "file_name": "load.xlsx",
                    "mode": "all",
                },
            )
            self.rpc("connector_b.import.wizard", "action_preview", [wizard])
            action = self.rpc("connector_b.import.wizard", "action_import", [wizard])
            history = action["res_id"]
            while True:
                state = self.rpc("connector_b.import.history", "read", [history], ["state", "created_count"])[
                    0
                ]
                if state["state"] not in ("queued", "running"):
                    break
                time.sleep(0.5)
            self.import_result = (time.perf_counter() - t0, state["state"], state.get("created_count"))
            if state["state"] != "done":
                self._error("import", f"import ended {state['state']}")
        except Exception as exc:  # noqa: BLE001
            self._error("import", exc)

    def _gp_report(self):
        t0 = time.perf_counter()
        try:
            self.rpc(
                "ru.pos.gross.profit.report",
                "read_group",
                [],
                ["revenue:sum", "qty:sum"],
                ["store_id"],
                lazy=False,
            )
            self.rpc(
                "ru.pos.gross.profit.report",
                "read_group",
                [],
                ["revenue:sum"],
                ["product_id"],
                lazy=False,
                limit=80,
            )
        except Exception as exc:  # noqa: BLE001
            self._error("gp", exc)
            return
        with self.lock:
            self.gp_times.append(time.perf_counter() - t0)

    def _sample_memory(self):
        me = psutil.Process()
        while not self.stop_event.wait(2.0):
            self._memory_once(me)

    def _memory_once(self, me):
        procs = [("load driver (tills + KKT emulators)", me)]
        masters = {proc.pid for proc in self.central.procs()}
        for node, p in self.central.processes():
            try:
                cmd = p.cmdline()
            except psutil.Error:
                continue
            # the gevent process is odoo-bin re-run as `odoo-bin gevent ...`; the HTTP workers,
            # the cron worker and the job runner are forked children of the master
            if node == "push":
                kind = "gevent" if "gevent" in cmd[:3] else "master" if p.pid in masters else "workers"
                procs.append((f"odoo push node {kind}", p))
                continue
            role = (
                "odoo gevent (websocket)"
                if "gevent" in cmd[:3]
                else "odoo master"
                if p.pid in masters
                else "odoo worker / cron / job runner"
            )
            procs.append((role, p))
        if self.ofd is not None:
            try:
                procs.append(("mock OFD", psutil.Process(self.ofd.proc.pid)))
            except psutil.Error:
                pass
        for proc in psutil.process_iter(["name", "cmdline"]):
            # PostgreSQL backends serving this database (their CPU is central's too)
            cmd = proc.info.get("cmdline") or []
            if proc.info.get("name") == "postgres" and cmd and f" {self.central.db} " in f" {cmd[0]} ":
                procs.append(("postgres backends (this db)", proc))
        for role, p in procs:
            try:
                rss = p.memory_info().rss
                times = p.cpu_times()
            except psutil.Error:
                continue
            if not role.startswith("postgres"):
                self.mem_peak[role] = max(self.mem_peak.get(role, 0), rss)
            cpu = times.user + times.system
            key = (role, p.pid)
            self.cpu_first.setdefault(key, cpu if self.sampling_started else 0.0)
            self.cpu_last[key] = cpu

    def cpu_by_role(self):
        out = {}
        for (role, pid), last in self.cpu_last.items():
            out[role] = out.get(role, 0.0) + last - self.cpu_first.get((role, pid), 0.0)
        return out

    def db_size(self):
        cur = self.conn.cursor()
        cur.execute("SELECT pg_database_size(current_database())")
        return cur.fetchone()[0]

    # ------------------------------------------------------------------ the run
    def run(self):
        plan = self.plan
        size0 = self.db_size()
        self.log_since = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime())
        self.t0 = time.time()
        self.t_end = self.t0 + plan.day_wall
        self.log(
            f"day: {plan.tills} tills, {plan.hours:g} business hours compressed {plan.compress:g}x "
            f"= {plan.day_wall:.0f} s wall, {plan.receipts_per_hour:g} receipts/h per till"
        )
        # baseline: CPU already spent by the processes alive now does not count
        self._memory_once(psutil.Process())
        self.sampling_started = True
        sampler = threading.Thread(target=self._sample_memory, name="load-mem", daemon=True)
        sampler.start()
        events = threading.Thread(target=self._events, name="load-events", daemon=True)
        events.start()
        for till in self.tills:
            self.sync_wake[till.store.code] = threading.Event()
            threading.Thread(
                target=self._sync_loop, args=(till,), name=f"load-pos-{till.store.code}", daemon=True
            ).start()
        sellers = [
            threading.Thread(target=self._sell, args=(t,), name=f"load-{t.store.code}", daemon=True)
            for t in self.tills
        ]
        for t in sellers:
            t.start()
        for t in sellers:
            t.join()
        t_sold = time.time()
        events.join(timeout=max(0.0, self.t_end - time.time()) + 5)
        # the end of the day: everything back online, the POS queues flushed
        for till in self.tills:
            till.offline = False
            till.svc._wake.set()
        self.ofd.control.set_mode("online")
        if self.outage and self.outage[1] is None:
            self.outage[1] = time.time()
        if self.offline_window and self.offline_window[1] is None:
            self.offline_window[1] = time.time()
        for till in self.tills:
            self._sync(till.store.code)
        for _ in range(120):
            if any(t.name == "load-import" and t.is_alive() for t in threading.enumerate()):
                time.sleep(1)
        drained = self._drain()
        t_drained = time.time()
        self._memory_once(psutil.Process())
        size1 = self.db_size()
        return self.report(t_sold, t_drained, drained, size0, size1)

    def _drain(self):
        """Wait until every till delivered its journal and central has every document acknowledged."""
        deadline = time.time() + self.plan.drain_timeout
        codes = [t.store.code for t in self.tills]
        cur = self.conn.cursor()
        while time.time() < deadline:
            for till in self.tills:
                till.svc._wake.set()
            undelivered = sum(
                t.journal.counts()["fiscalised"]
                + t.journal.counts()["journaled"]
                + t.journal.counts()["sent"]
                for t in self.tills
            )
            cur.execute(
                "SELECT count(*) FILTER (WHERE ofd_state <> 'acknowledged'), count(*)"
                " FROM optics_fiscal_document WHERE till_code = ANY(%s)",
                (codes,),
            )
            pending, total = cur.fetchone()
            with self.lock:
                pos_queued = sum(len(v) for v in self.backlog.values())
            if not undelivered and not pending and total and not pos_queued:
                return True
            time.sleep(1.0)
        self.log(
            f"drain timed out: {undelivered} entries undelivered at the tills, {pending} documents "
            f"not acknowledged on central"
        )
        return False

    # ------------------------------------------------------------------ reconciliation and figures
    def reconcile(self):
        """FN archives vs journals vs central vs OFD."""
        cur = self.conn.cursor()
        codes = [t.store.code for t in self.tills]
        cur.execute(
            "SELECT uuid, till_code, fn_serial, fd_number, ofd_state, ofd_confirmed_at"
            " FROM optics_fiscal_document WHERE till_code = ANY(%s) AND fd_number IS NOT NULL",
            (codes,),
        )
        central_rows = cur.fetchall()
        central_keys = [(r[2], r[3]) for r in central_rows]
        central_set = set(central_keys)
        acknowledged = {(r[2], r[3]): r[5] for r in central_rows if r[4] == "acknowledged"}
        submissions = self.ofd.control.stats()["submissions"]
        ofd_set = {tuple([k.split(":")[0], int(k.split(":")[1])]) for k in submissions}
        fn_set, unknown, journal_fd = set(), [], {}
        for till in self.tills:
            rows = till.journal._rows(
                "SELECT uuid, fd_number, fn_serial, fiscalised_ts FROM entries WHERE fd_number IS NOT NULL"
            )
            by_fd = {r["fd_number"]: r for r in rows}
            with till.svc._device_lock:
                last = till.svc.device.fn_status().last_fd_number
                for fd in range(till.first_fd + 1, last + 1):
                    doc = till.svc.device.find_document(fd)
                    if doc is None:
                        continue
                    fn_set.add((till.fn_serial, fd))
                    if fd not in by_fd:
                        unknown.append((till.store.code, fd))
                    else:
                        journal_fd[(till.fn_serial, fd)] = by_fd[fd]
        lost_central = sorted(fn_set - central_set)
        lost_ofd = sorted(fn_set - ofd_set)
        not_acknowledged = sorted(fn_set - set(acknowledged))
        dup_central = len(central_keys) - len(central_set)
        dup_uuid = len(central_rows) - len({r[0] for r in central_rows})
        resubmitted = sum(n - 1 for n in submissions.values() if n > 1)
        lag_rows = []  # (fiscalised, lag, fn serial, outside the disturbances, behind the outage)
        # an FN hands out its OFD messages one at a time, oldest first: a document fiscalised
        # after the outage still waits for its FN's outage documents to be acknowledged
        backlog_cleared = {}  # fn serial -> when its last disturbed document was acknowledged
        disturbed_from = {}  # fn serial -> when its first disturbed document was fiscalised
        timed = []
        for key, confirmed_at in acknowledged.items():
            entry = journal_fd.get(key)
            if entry is None or not entry["fiscalised_ts"] or confirmed_at is None:
                continue
            # central stores naive UTC datetimes
            acked = confirmed_at.replace(tzinfo=datetime.timezone.utc).timestamp()
            disturbed = self._in_disturbance(entry["fiscalised_ts"], key)
            timed.append((entry["fiscalised_ts"], acked, key[0], disturbed))
            if disturbed:
                backlog_cleared[key[0]] = max(backlog_cleared.get(key[0], 0.0), acked)
                first = disturbed_from.get(key[0], entry["fiscalised_ts"])
                disturbed_from[key[0]] = min(first, entry["fiscalised_ts"])
        for fiscalised, acked, fn_serial, disturbed in timed:
            lag = acked - fiscalised
            start, cleared = disturbed_from.get(fn_serial, float("inf")), backlog_cleared.get(fn_serial, 0.0)
            behind = not disturbed and start < fiscalised < cleared
            lag_rows.append((fiscalised, lag, fn_serial, not disturbed, behind))
        return {
            "fn": len(fn_set),
            "central": len(central_set),
            "ofd": len(ofd_set & fn_set),
            "lost_central": lost_central,
            "lost_ofd": lost_ofd,
            "not_acknowledged": not_acknowledged,
            "unknown_to_journal": unknown,
            "dup_central": dup_central,
            "dup_uuid": dup_uuid,
            "resubmitted": resubmitted,
            "lags": [lag for _ts, lag, _fn, _out, _behind in lag_rows],
            "lags_outside": [lag for _ts, lag, _fn, out, _behind in lag_rows if out],
            "lag_rows": sorted(lag_rows),
            "lags_behind": [lag for _ts, lag, _fn, _out, behind in lag_rows if behind],
            "lags_clear": [lag for _ts, lag, _fn, out, behind in lag_rows if out and not behind],
        }

    def _in_disturbance(self, fiscalised_ts, key):
        """Documents fiscalised during the OFD outage (or while their store was offline), or
        queued behind them: their lag measures the outage, not the pipeline."""
        if self.outage and self.outage[0] - 5 <= fiscalised_ts <= (self.outage[1] or time.time()) + 5:
            return True
        if (
            self.offline_window
            and key[0] == self.tills[0].fn_serial
            and self.offline_window[0] - 5 <= fiscalised_ts <= (self.offline_window[1] or time.time()) + 5
        ):
            return True
        return False

    def report(self, t_sold, t_drained, drained, size0, size1):
        plan = self.plan
        rec = self.reconcile()
        # the day's pushes (the set-up's, the shift openings, are not the day's load)
        pushes = [s for t in self.tills for (w, s, n) in t.push_times if n and w >= self.t0]
        all_pushes = [s for t in self.tills for (w, s, _n) in t.push_times if w >= self.t0]
        sync = [s for s, _n in self.sync_times]
        sold_wall = max(t_sold - self.t0, 1e-9)
        push_errors = sum(t.push_errors for t in self.tills)
        out = []
        p = out.append
        p(
            f"== chain day: {plan.tills} tills, {plan.hours:g} h compressed {plan.compress:g}x "
            f"({plan.receipts_per_hour:g} receipts/h/till, {plan.lines} lines, {plan.cash_share:.0%} cash), "
            f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; "
            f"stock updated {'per order' if self.chain.stock_update == 'real' else 'at session closing'} "
            f"({self.chain.stock_update}); central {self.central.workers} workers"
            + (f" + push node {self.central.push_workers} workers" if self.central.push_workers else "")
            + (f" (main node at nice {self.central.main_nice})" if self.central.main_nice else "")
        )
        p(
            f"receipts: {self.receipts} in {sold_wall:.0f} s -> {self.receipts / sold_wall:.2f} receipts/s "
            "sustained "
            f"(the plan's rate: {plan.tills * plan.receipts_per_hour * plan.compress / 3600:.2f}/s)"
        )
        p(
            f"till sale (journal + KKT) p50/p95/p99: {ms(pct(self.sale_times, 50))} / "
            f"{ms(pct(self.sale_times, 95))} / "
            f"{ms(pct(self.sale_times, 99))}"
        )
        p(
            f"central push latency (pushes carrying entries: {len(pushes)}) p50/p95/p99: "
            f"{ms(pct(pushes, 50))} / "
            f"{ms(pct(pushes, 95))} / {ms(pct(pushes, 99))}; all pushes incl. status-only "
            f"({len(all_pushes)}): "
            f"p95 {ms(pct(all_pushes, 95))}"
        )
        p(
            f"OFD delivery lag (fiscalised -> acknowledged) outside the outage/offline store "
            f"({len(rec['lags_outside'])} docs) p50/p95/max: {pct(rec['lags_outside'], 50):.1f} / "
            f"{pct(rec['lags_outside'], 95):.1f} / {max(rec['lags_outside'] or [float('nan')]):.1f} s; "
            f"all ({len(rec['lags'])}) p50/p95/max: {pct(rec['lags'], 50):.1f} / {pct(rec['lags'], 95):.1f} "
            "/ "
            f"{max(rec['lags'] or [float('nan')]):.1f} s"
        )
        by_minute = {}
        for t in self.tills:
            for wall, secs, n in t.push_times:
                if n and wall >= self.t0:
                    by_minute.setdefault(int((wall - self.t0) // 60), []).append(secs)
        p(
            "push p95 by wall minute of the day (pushes carrying entries): "
            + ", ".join(f"{m}: {ms(pct(v, 95))}" for m, v in sorted(by_minute.items()))
        )
        behind, clear = rec["lags_behind"], rec["lags_clear"]
        p(
            f"  of these, queued in their FN behind a document of the outage ({len(behind)} docs) "
            f"p50/p95/max: {pct(behind, 50):.1f} / {pct(behind, 95):.1f} / "
            f"{max(behind or [float('nan')]):.1f} s; the others ({len(clear)}) p50/p95/max: "
            f"{pct(clear, 50):.1f} / {pct(clear, 95):.1f} / {max(clear or [float('nan')]):.1f} s"
        )
        if plan.lag_csv:
            with open(plan.lag_csv, "w") as out_csv:
                out_csv.write("fiscalised_s,lag_s,fn_serial,outside,behind_outage\n")
                for ts, lag, fn_serial, outside, behind_outage in rec["lag_rows"]:
                    out_csv.write(
                        f"{ts - self.t0:.2f},{lag:.2f},{fn_serial},{int(outside)},{int(behind_outage)}\n"
                    )
        p(
            f"POS sync (sync_from_ui, {len(sync)} calls, {sum(n for _s, n in self.sync_times)} orders) "
            f"p50/p95/max: {ms(pct(sync, 50))} / {ms(pct(sync, 95))} / {ms(max(sync or [float('nan')]))}"
        )
        p(
            "GP report under load (2 grouped reads): "
            f"{', '.join(f'{s:.2f} s' for s in self.gp_times) or 'n/a'}"
        )
        if self.import_result:
            secs, state, created = self.import_result
            p(
                f"price-list import of {plan.import_rows} rows under load: {secs:.1f} s ({state}, {created} "
                "created)"
            )
        p(
            f"errors: sales {self.errors['sale']}, POS sync {self.errors['sync']}, GP {self.errors['gp']}, "
            f"import {self.errors['import']}; failed pushes {push_errors} (the offline store's are planned)"
            + (f"; first: {self.error_samples[:3]}" if self.error_samples else "")
        )
        p(f"drained {'yes' if drained else 'NO'} {t_drained - t_sold:.0f} s after the last sale")
        growth = (size1 - size0) / max(self.receipts, 1) * 1000
        p(
            f"database growth: {(size1 - size0) / 2**20:.1f} MiB, {growth / 2**20:.2f} MiB per 1,000 "
            "receipts "
            f"(with the POS orders, fiscal documents, jobs, logs, and the {plan.import_rows}-row import)"
        )
        cpu = self.cpu_by_role()
        central_cpu = sum(v for k, v in cpu.items() if k.startswith(("odoo", "postgres")))
        p(
            "CPU seconds from the first sale to the end of the drain: "
            + ", ".join(f"{role} {secs:.0f}" for role, secs in sorted(cpu.items()))
            + f"; central (Odoo + PostgreSQL) {central_cpu / max(self.receipts, 1) * 1000:.0f} ms per "
            "receipt "
            f"(everything included: push, POS sync, OFD delivery, import, reports)"
        )
        self.central_cpu_per_receipt = central_cpu / max(self.receipts, 1)
        # one pass over the access logs
        times, pushes_by_node = self.central.request_times(since=self.log_since)
        costs = {path: (len(t), sum(t) / len(t), q) for path, (t, q) in times.items()}
        served = times.get(PUSH_PATH, ([], 0))[0]
        p(
            f"push time inside central (a worker's share of the push latency, {len(served)} pushes) "
            f"p50/p95/p99: {ms(pct(served, 50))} / {ms(pct(served, 95))} / {ms(pct(served, 99))}"
        )
        p(
            "central requests during the day (count, mean time, mean SQL queries): "
            + "; ".join(
                f"{path} {n} x {t * 1000:.0f} ms / {q:.0f} q"
                for path, (n, t, q) in sorted(costs.items(), key=lambda kv: -kv[1][0] * kv[1][1])[:6]
            )
        )
        p(
            "peak memory: "
            + ", ".join(f"{role} {rss / 2**20:.0f} MiB" for role, rss in sorted(self.mem_peak.items()))
        )
        p(
            f"fiscal documents: FN {rec['fn']}, central {rec['central']}, OFD {rec['ofd']}; lost (FN not on "
            "central) "
            f"{len(rec['lost_central'])}, lost (FN not at the OFD) {len(rec['lost_ofd'])}, not acknowledged "
            f"{len(rec['not_acknowledged'])}, unknown to the journal {len(rec['unknown_to_journal'])}, "
            "duplicates "
            f"on central {rec['dup_central']} (uuid {rec['dup_uuid']}); OFD resubmissions (same FD sent "
            "again "
            f"after a lost answer, deduplicated by the OFD) {rec['resubmitted']}"
        )
        ok = (
            drained
            and not rec["lost_central"]
            and not rec["lost_ofd"]
            and not rec["not_acknowledged"]
            and not rec["unknown_to_journal"]
            and rec["dup_central"] == 0
            and rec["dup_uuid"] == 0
            and rec["fn"] >= self.receipts
        )
        push_ok = pct(pushes, 95) <= 0.2
        lag_ok = pct(rec["lags_outside"], 95) <= 10
        lag_clear_ok = pct(rec["lags_clear"], 95) <= 10
        goal = push_ok and lag_ok

        def verdict(met):
            return "met" if met else "NOT met"

        p(
            f"0 lost / 0 duplicate: {'YES' if ok else 'NO'}; goal push p95 <= 200 ms: {verdict(push_ok)}; "
            f"OFD lag p95 <= 10 s outside the outage: {verdict(lag_ok)} (outside the outage and the "
            f"outage's backlog in each FN: {verdict(lag_clear_ok)}); both: {'MET' if goal else 'NOT MET'}"
        )
        for line in out:
            self.log(line)
        return {
            "ok": ok,
            "goal": goal,
            "lines": out,
            "reconcile": rec,
            "receipts": self.receipts,
            "central_cpu_per_receipt": self.central_cpu_per_receipt,
            "mem_peak": dict(self.mem_peak),
            "push_p95": pct(pushes, 95),
            "lag_p95": pct(rec["lags_outside"], 95),
            "lag_clear_p95": pct(rec["lags_clear"], 95),
            "pushes_by_node": pushes_by_node,
        }


def run_day(plan, central, workdir=None, cleanup=False, log=print):
    """Set up the chain on ``central``, run the day, reconcile; returns the report dict."""
    own_dir = workdir is None
    workdir = Path(workdir or tempfile.mkdtemp(prefix="chain_day_"))
    day = Day(plan, central, workdir, log=log)
    try:
        day.setup()
        return day.run()
    finally:
        day.teardown(cleanup=cleanup)
        if own_dir:
            shutil.rmtree(workdir, ignore_errors=True)


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    plan = DayPlan()
    for field in dataclasses.fields(DayPlan):
        if field.name == "gp_at":
            continue
        parser.add_argument(
            "--" + field.name.replace("_", "-"),
            type=type(getattr(plan, field.name)),
            default=getattr(plan, field.name),
        )
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument(
        "--push-workers",
        type=int,
        default=2,
        help="HTTP workers of a second Odoo node that serves only the tills' pushes, as the "
        "production topology has it (the odoo-push service of docker/); 0 runs everything on one node",
    )
    parser.add_argument(
        "--main-nice",
        type=int,
        default=0,
        help="run the main node (POS, back office, jobs) at this nice level, below the push node: "
        "on one host, what the push nodes' own machines (or cpu_shares) give in production",
    )
    parser.add_argument("--db", default=f"load_{uuid.uuid4().hex[:6]}")
    parser.add_argument("--reuse", action="store_true", help="the database exists: use it and keep it")
    args = parser.parse_args(argv)
    if args.stock_update not in ("", "real", "closing"):
        parser.error("--stock-update is 'real' or 'closing'")
    plan = DayPlan(
        **{f.name: getattr(args, f.name) for f in dataclasses.fields(DayPlan) if f.name != "gp_at"}
    )
    if not args.reuse:
        create_database(args.db)
    central = None
    try:
        central = Central(
            args.db, workers=args.workers, push_workers=args.push_workers, main_nice=args.main_nice
        )
        print(
            f"central: {central.url} (prefork, {args.workers} workers, queue_job runner); log "
            f"{central.log_path}",
            flush=True,
        )
        if args.push_workers:
            print(
                f"push node: {central.push_url} (prefork, {args.push_workers} workers, no cron, no "
                f"job runner); log {central.push_log_path}",
                flush=True,
            )
        result = run_day(plan, central, cleanup=args.reuse, log=lambda s: print(s, flush=True))
        return 0 if result["ok"] else 1
    finally:
        if central is not None:
            central.stop()
        if not args.reuse:
            time.sleep(1)
            drop_database(args.db)


if __name__ == "__main__":
    sys.exit(main())
