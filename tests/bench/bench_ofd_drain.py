#!/usr/bin/env python3
"""Benchmark: drain a backlog of fiscal documents to the mock OFD through the REAL
queue_job runner.

    python3 tests/bench/bench_ofd_drain.py [--docs 10000] [--batch-size 50] [--push-docs 2000]
                                           [--workers 4] [--template-db DB] [--keep-db]

What it does:
1. creates a throwaway database with optics_pos_ru54fz (or copies --template-db, which must
   have the addon installed), starts the mock OFD (1 ms answers) as a subprocess;
2. starts Odoo in prefork mode (--workers=4, server_wide_modules with queue_job, so the job
   runner runs as its own process) on a free port;
3. phase "backlog": inserts N pending documents (each with a real FN message container),
   triggers the requeue cron (which claims and enqueues them on root.fiscal_ofd) and
   measures until the last one is acknowledged by the OFD;
4. phase "push": pushes M more entries through the real HTTP ingestion endpoint (till
   push format, batches of 250, like a till) and measures from the first push to the last OFD
   confirmation;
5. checks that the OFD received every document exactly once, and prints documents per
   second and the peak memory (RSS of all Odoo processes together and of the largest one).
"""

import argparse
import base64
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
import xmlrpc.client
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "tools"))
from local_odoo import addons_path, free_port  # noqa: E402

ADDON = ROOT / "addons" / "optics_pos_ru54fz"
sys.path.insert(0, str(ADDON))

import psutil  # noqa: E402
import psycopg2  # noqa: E402
from ru54fz import tokens  # noqa: E402
from ru54fz.ofd import protocol  # noqa: E402
from ru54fz.ofd.mock_server import MockOfdProcess  # noqa: E402

PGHOST = os.environ.get("PGHOST", "127.0.0.1")
PGPORT = os.environ.get("PGPORT", "5432")
FN = "9999078900077777"


def db_args():
    args = [f"--db_host={PGHOST}", f"--db_port={PGPORT}"]
    if os.environ.get("PGUSER"):
        args.append(f"--db_user={os.environ['PGUSER']}")
    return args


def connect(db):
    conn = psycopg2.connect(host=PGHOST, port=PGPORT, dbname=db, user=os.environ.get("PGUSER"))
    conn.autocommit = True
    return conn


def make_db(db, template):
    subprocess.call(["dropdb", "--if-exists", "-h", PGHOST, "-p", PGPORT, db])
    if template:
        subprocess.check_call(["createdb", "-h", PGHOST, "-p", PGPORT, "-T", template, db])
        return
    print(f"installing optics_pos_ru54fz in {db} (about 2 minutes)...", flush=True)
    subprocess.check_call(
        [
            sys.executable,
            "-m",
            "odoo",
            *db_args(),
            "-d",
            db,
            f"--addons-path={addons_path()}",
            "-i",
            "optics_pos_ru54fz",
            "--without-demo=all",
            "--stop-after-init",
            "--workers=0",
            "--max-cron-threads=0",
            f"--http-port={free_port()}",
            "--log-level=warn",
        ]
    )


def start_odoo(db, workers, log_path):
    port = free_port()
    import odoo

    odoo_bin = Path(odoo.__file__).resolve().parent.parent / "odoo-bin"
    # a prefork server starts its gevent process by re-running sys.argv[0]: use odoo-bin
    launcher = [sys.executable, str(odoo_bin)] if odoo_bin.exists() else [sys.executable, "-m", "odoo"]
    cmd = [
        *launcher,
        *db_args(),
        "-d",
        db,
        f"--db-filter=^{db}$",
        f"--addons-path={addons_path()}",
        "--load=base,web,queue_job",
        f"--workers={workers}",
        "--max-cron-threads=0",
        f"--http-port={port}",
        "--http-interface=127.0.0.1",
        f"--gevent-port={free_port()}",
        "--log-level=warn",
        "--log-handler=odoo.addons.queue_job:INFO",
        "--limit-time-real=600",
        "--limit-time-cpu=600",
        "--limit-memory-soft=4294967296",
        "--limit-memory-hard=5368709120",
    ]
    env = dict(
        os.environ, ODOO_QUEUE_JOB_CHANNELS=f"root:{workers},root.fiscal_ofd:{workers}", PYTHONUNBUFFERED="1"
    )
    env.pop("QUEUE_JOB__NO_DELAY", None)
    log = open(log_path, "w")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    deadline = time.time() + 120
    while time.time() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Odoo exited: {Path(log_path).read_text()[-2000:]}")
        if "queue job runner ready for db" in Path(log_path).read_text():
            return proc, port
        time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"Odoo did not start: {Path(log_path).read_text()[-2000:]}")


class MemorySampler:
    def __init__(self, root_pid):
        self.root = psutil.Process(root_pid)
        self.peak_total = 0
        self.peak_single = 0

    def sample(self):
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.Error:
            return
        total = 0
        for proc in procs:
            try:
                rss = proc.memory_info().rss
            except psutil.Error:
                continue
            total += rss
            self.peak_single = max(self.peak_single, rss)
        self.peak_total = max(self.peak_total, total)


def wait_acknowledged(conn, expected_total, sampler, timeout, label):
    cur = conn.cursor()
    started = time.time()
    first_ack = None
    last_report = 0
    while True:
        cur.execute(
            "SELECT count(*) FILTER (WHERE ofd_state='acknowledged'),"
            " count(*) FILTER (WHERE ofd_state IN ('failed','dead_lettered')) FROM optics_fiscal_document"
        )
        acked, bad = cur.fetchone()
        now = time.time()
        if acked and first_ack is None:
            first_ack = now
        sampler.sample()
        if acked >= expected_total:
            return now, first_ack, bad
        if now - started > timeout:
            raise SystemExit(f"{label}: timed out with {acked}/{expected_total} acknowledged, {bad} failed")
        if now - last_report > 10:
            print(f"  {label}: {acked}/{expected_total} acknowledged after {now - started:.0f} s", flush=True)
            last_report = now
        time.sleep(0.25)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--docs", type=int, default=10000)
    parser.add_argument("--push-docs", type=int, default=2000)
    parser.add_argument("--batch-size", type=int, default=50)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--latency-ms", type=float, default=1.0)
    parser.add_argument("--template-db", default=os.environ.get("BENCH_TEMPLATE_DB"))
    parser.add_argument("--db", default=f"bench_ofd_{uuid.uuid4().hex[:6]}")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--timeout", type=float, default=1800)
    args = parser.parse_args()

    make_db(args.db, args.template_db)
    ofd = MockOfdProcess(latency_ms=args.latency_ms)
    log_path = f"/tmp/{args.db}.log"
    odoo = conn = None
    try:
        conn = connect(args.db)
        cur = conn.cursor()
        till_token = tokens.generate()
        cur.execute("SELECT id FROM res_company ORDER BY id LIMIT 1")
        company_id = cur.fetchone()[0]
        cur.execute(
            "UPDATE res_company SET ru54fz_ofd_host='127.0.0.1', ru54fz_ofd_port=%s,"
            " ru54fz_ofd_batch_size=%s, ru54fz_ofd_max_attempts=20, ru54fz_ofd_read_timeout=10,"
            " ru54fz_ofd_connect_timeout=5, ru54fz_breaker_threshold=5, ru54fz_breaker_cool_down=5"
            " WHERE id=%s",
            (ofd.port, args.batch_size, company_id),
        )
        for table in (
            "optics_fiscal_document_log",
            "optics_fiscal_dead_letter",
            "optics_fiscal_audit",
            "optics_fiscal_document",
            "optics_fiscal_till",
            "optics_ofd_breaker",
        ):
            cur.execute(f"DELETE FROM {table}")  # noqa: S608  (template copies may hold rows)
        cur.execute("DELETE FROM queue_job")
        odoo, port = start_odoo(args.db, args.workers, log_path)
        base = f"http://127.0.0.1:{port}"
        rpc = xmlrpc.client.ServerProxy(f"{base}/xmlrpc/2/object", allow_none=True)
        uid = xmlrpc.client.ServerProxy(f"{base}/xmlrpc/2/common").authenticate(args.db, "admin", "admin", {})
        if not uid:
            raise SystemExit("cannot log in as admin/admin")
        till_code = f"BENCH-{uuid.uuid4().hex[:6]}"
        config_id = rpc.execute_kw(
            args.db,
            uid,
            "admin",
            "pos.config",
            "create",
            [{"name": f"Bench till {till_code}", "ru54fz_till_code": till_code}],
        )
        cur.execute(
            "UPDATE pos_config SET ru54fz_central_token_hash=%s WHERE id=%s",
            (tokens.hash_token(till_token), config_id),
        )
        sampler = MemorySampler(odoo.pid)

        # ---------------------------------------------------------------- backlog
        print(f"inserting a backlog of {args.docs} fiscal documents...", flush=True)
        rows = []
        for fd in range(1, args.docs + 1):
            msg = base64.b64encode(protocol.build_document_message(FN, fd, fiscal_sign=500000 + fd))
            rows.append(
                cur.mogrify(
                    "(%s,'sale','till',%s,%s,%s,%s,%s,%s,1,now() at time zone "
                    "'UTC',%s,'pending',true,0,false,"
                    "1,now() at time zone 'UTC',1,now() at time zone 'UTC',%s)",
                    (
                        str(uuid.uuid4()),
                        company_id,
                        config_id,
                        till_code,
                        fd,
                        str(500000 + fd),
                        FN,
                        psycopg2.Binary(msg),
                        f"Sale · FD {fd}",
                    ),
                ).decode()
            )
        for start in range(0, len(rows), 2000):
            cur.execute(
                "INSERT INTO optics_fiscal_document (uuid, kind, source, company_id, pos_config_id,"
                " till_code, fd_number, fiscal_sign, fn_serial, shift_number, doc_time, ofd_message,"
                " ofd_state, has_ofd_message, attempts, till_confirmed, create_uid, create_date,"
                " write_uid, write_date, name) VALUES " + ",".join(rows[start : start + 2000])
            )
        cron_id = rpc.execute_kw(
            args.db,
            uid,
            "admin",
            "ir.model.data",
            "check_object_reference",
            ["optics_pos_ru54fz", "ir_cron_ofd_requeue"],
        )[1]
        t0 = time.time()
        rpc.execute_kw(args.db, uid, "admin", "ir.cron", "method_direct_trigger", [[cron_id]])
        t_enqueued = time.time()
        t_end, t_first, bad = wait_acknowledged(conn, args.docs, sampler, args.timeout, "backlog")
        backlog = {
            "docs": args.docs,
            "enqueue_s": t_enqueued - t0,
            "total_s": t_end - t0,
            "drain_s": t_end - (t_first or t0),
            "failed": bad,
        }
        cur.execute("SELECT count(*), count(DISTINCT identity_key) FROM queue_job")
        backlog["jobs"], _ = cur.fetchone()

        # ------------------------------------------------------------------- push
        push = None
        if args.push_docs:
            print(
                f"pushing {args.push_docs} more entries through /optics_pos_ru54fz/central/push...",
                flush=True,
            )
            entries = [
                {
                    "uuid": str(uuid.uuid4()),
                    "hlc": str(10**12 + fd),
                    "kind": "sale",
                    "till_code": till_code,
                    "pos_reference": f"Order {fd}",
                    "payload": {"total": 100000},
                    "state": "fiscalised",
                    "fiscal": {
                        "fd_number": fd,
                        "fiscal_sign": 600000 + fd,
                        "fn_serial": FN,
                        "shift_number": 2,
                        "doc_time": "2026-11-22T10:00:00",
                    },
                    "ofd_message": base64.b64encode(protocol.build_document_message(FN, fd)).decode(),
                    "created_at": "2026-11-22T10:00:00",
                }
                for fd in range(args.docs + 1, args.docs + 1 + args.push_docs)
            ]
            t0 = time.time()
            for start in range(0, len(entries), 250):
                body = json.dumps({"till_code": till_code, "entries": entries[start : start + 250]}).encode()
                req = urllib.request.Request(
                    f"{base}/optics_pos_ru54fz/central/push",
                    data=body,
                    method="POST",
                    headers={
                        "Content-Type": "application/json",
                        "X-Till-Token": till_token,
                        "X-Till-Code": till_code,
                    },
                )
                with urllib.request.urlopen(req, timeout=300) as resp:
                    assert len(json.loads(resp.read())["accepted"]) == len(entries[start : start + 250])
                sampler.sample()
            t_pushed = time.time()
            t_end, _first, bad = wait_acknowledged(
                conn, args.docs + args.push_docs, sampler, args.timeout, "push"
            )
            push = {"docs": args.push_docs, "push_s": t_pushed - t0, "total_s": t_end - t0, "failed": bad}

        stats = ofd.control.stats()
        dupes = sum(1 for n in stats["submissions"].values() if n != 1)
        expected = args.docs + (args.push_docs or 0)

        print()
        print(
            f"== OFD drain benchmark (batch size {args.batch_size}, {args.workers} Odoo workers, "
            f"mock OFD answering in {args.latency_ms:g} ms, {os.cpu_count()} CPUs)"
        )
        print(
            f"backlog: {backlog['docs']} documents, {backlog['jobs']} jobs; enqueue "
            f"{backlog['enqueue_s']:.1f} s; "
            f"drained in {backlog['total_s']:.1f} s end to end -> "
            f"{backlog['docs'] / backlog['total_s']:.0f} docs/s "
            f"(after the first ack: {backlog['docs'] / max(backlog['drain_s'], 1e-6):.0f} docs/s)"
        )
        if push:
            print(
                f"push:    {push['docs']} documents through HTTP in {push['push_s']:.1f} s; confirmed by the "
                "OFD "
                f"{push['total_s']:.1f} s after the first push -> {push['docs'] / push['total_s']:.0f} "
                "docs/s end to end"
            )
        print(
            f"OFD submissions: {stats['total_submissions']} for {expected} documents; "
            f"documents not submitted exactly once: {dupes}"
        )
        print(
            f"peak memory: all Odoo processes {sampler.peak_total / 2**20:.0f} MiB, "
            f"largest single process {sampler.peak_single / 2**20:.0f} MiB"
        )
        ok = (
            stats["total_submissions"] == expected
            and dupes == 0
            and backlog["docs"] / backlog["total_s"] >= 100
        )
        print("target >= 100 docs/s:", "MET" if backlog["docs"] / backlog["total_s"] >= 100 else "NOT MET")
        return 0 if ok else 1
    finally:
        if conn is not None:
            conn.close()
        if odoo is not None:
            odoo.terminate()
            try:
                odoo.wait(30)
            except subprocess.TimeoutExpired:
                odoo.kill()
        ofd.stop()
        if not args.keep_db:
            time.sleep(1)
            subprocess.call(["dropdb", "--if-exists", "-h", PGHOST, "-p", PGPORT, args.db])
            subprocess.call(["rm", "-rf", os.path.expanduser(f"~/.local/share/Odoo/filestore/{args.db}")])


if __name__ == "__main__":
    sys.exit(main())
