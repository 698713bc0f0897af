"""Shared set-up of the OFD pipeline tests.

``OfdRunnerCase`` runs the pipeline for real: a mock OFD subprocess speaking the
OFD protocol over TCP, and a second Odoo server (prefork, 2 workers) on the test
database with OCA queue_job's job runner.  Test data is committed through
separate cursors (the job runner only sees committed rows) and removed again in
tearDown; the test's own transaction writes nothing.
"""

import base64
import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid

from odoo import SUPERUSER_ID, api
from odoo.tests import TransactionCase
from odoo.tools import SQL, config

from ..ru54fz import tokens
from ..ru54fz.ofd import protocol
from ..ru54fz.ofd.mock_server import MockOfdProcess

FN = "9999078900012345"
COMPANY_FIELDS = (
    "ru54fz_ofd_host",
    "ru54fz_ofd_port",
    "ru54fz_ofd_connect_timeout",
    "ru54fz_ofd_read_timeout",
    "ru54fz_ofd_batch_size",
    "ru54fz_ofd_max_attempts",
    "ru54fz_breaker_threshold",
    "ru54fz_breaker_cool_down",
)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def odoo_command():
    """How to start an Odoo server: through odoo-bin when it exists, since a prefork
    server starts its gevent process by re-running sys.argv[0] (with ``-m odoo`` that
    is odoo/__main__.py, which cannot run as a script)."""
    import odoo

    odoo_bin = os.path.join(os.path.dirname(os.path.dirname(odoo.__file__)), "odoo-bin")
    return [sys.executable, odoo_bin] if os.path.exists(odoo_bin) else [sys.executable, "-m", "odoo"]


def prefork_command(dbname, port, workers, *options):
    """The command of an Odoo server in prefork mode (``workers``) on the test database, serving
    loopback ``port`` with this server's database credentials; ``options`` add to it (what it
    loads, where it logs)."""
    cmd = [
        *odoo_command(),
        "-d",
        dbname,
        f"--db-filter=^{dbname}$",
        f"--addons-path={config['addons_path']}",
        *options,
        f"--workers={workers}",
        "--max-cron-threads=0",
        f"--http-port={port}",
        "--http-interface=127.0.0.1",
        f"--gevent-port={free_port()}",
        "--log-level=info",
        "--limit-time-real=300",
        "--limit-time-cpu=300",
    ]
    for opt in ("db_host", "db_port", "db_user", "db_password"):
        if config.get(opt):
            cmd.append(f"--{opt}={config[opt]}")
    return cmd


def make_entry(till_code, fd_number, fn=FN, kind="sale", message=None, uid=None, total=10000):
    """A journal entry as the till pushes it (till push format)."""
    msg = message if message is not None else protocol.build_document_message(fn, fd_number)
    return {
        "uuid": uid or str(uuid.uuid4()),
        "hlc": str(1_700_000_000_000 + fd_number),
        "kind": kind,
        "till_code": till_code,
        "pos_reference": f"Order {fd_number:05d}",
        "payload": {"total": total, "operation": 1},
        "state": "fiscalised",
        "fiscal": {
            "fd_number": fd_number,
            "fiscal_sign": 1_000_000 + fd_number,
            "fn_serial": fn,
            "shift_number": 1,
            "doc_time": "2026-11-22T10:00:00",
        },
        "ofd_message": base64.b64encode(msg).decode() if msg else None,
        "created_at": "2026-11-22T10:00:00",
        "error": None,
    }


class OdooServer:
    """A second Odoo server with the queue_job runner, on the test database."""

    def __init__(self, dbname, channels="root:4,root.fiscal_ofd:4", workers=2):
        self.port = free_port()
        self.log = tempfile.NamedTemporaryFile("w+", prefix="ofd_runner_", suffix=".log", delete=False)
        cmd = prefork_command(dbname, self.port, workers, "--load=base,web,queue_job")
        env = dict(os.environ, ODOO_QUEUE_JOB_CHANNELS=channels, PYTHONUNBUFFERED="1")
        env.pop("QUEUE_JOB__NO_DELAY", None)
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, env=env)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo runner server exited: {self.tail()}")
            if "queue job runner ready for db" in self.text():
                return
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"Odoo runner server did not become ready: {self.tail()}")

    def text(self):
        with open(self.log.name) as fh:
            return fh.read()

    def tail(self, n=3000):
        return self.text()[-n:]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        self.log.close()
        with contextlib.suppress(OSError):
            os.unlink(self.log.name)


class CommittedClassData:
    """A test class whose data a server in another process reads: the data are written, and
    dropped at the end, on a cursor of their own that commits (``committed``)."""

    @classmethod
    @contextlib.contextmanager
    def committed(cls):
        """An environment on a new cursor, committed at the end of the block."""
        with cls.registry.cursor() as cr:
            yield api.Environment(cr, SUPERUSER_ID, {})


class OfdRunnerCase(CommittedClassData, TransactionCase):
    """Base class: mock OFD + real job runner + committed test data."""

    batch_size = 2
    max_attempts = 20
    threshold = 3
    cool_down = 2
    read_timeout = 1.0

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.ofd = MockOfdProcess(latency_ms=1)
        cls.addClassCleanup(cls.ofd.stop)
        cls.till_code = f"T-{uuid.uuid4().hex[:8]}"
        cls.token = tokens.generate()
        with cls.committed() as env:
            company = env.company
            cls.company_id = company.id
            cls._saved_company = {f: company[f] for f in COMPANY_FIELDS}
            company.write(cls._company_settings())
            store = env["optics.store"].create({"name": f"OFD test {cls.till_code}", "code": cls.till_code})
            cls.store_id = store.id
            pos = env["pos.config"].create(
                {
                    "name": f"OFD test till {cls.till_code}",
                    "optics_store_id": store.id,
                    "ru54fz_till_code": cls.till_code,
                    "ru54fz_central_token_hash": tokens.hash_token(cls.token),
                }
            )
            cls.config_id = pos.id
        cls.addClassCleanup(cls._drop_class_data)
        cls.server = OdooServer(cls.env.cr.dbname)
        cls.addClassCleanup(cls.server.stop)

    @classmethod
    def _company_settings(cls):
        return {
            "ru54fz_ofd_host": "127.0.0.1",
            "ru54fz_ofd_port": cls.ofd.port,
            "ru54fz_ofd_connect_timeout": 1.0,
            "ru54fz_ofd_read_timeout": cls.read_timeout,
            "ru54fz_ofd_batch_size": cls.batch_size,
            "ru54fz_ofd_max_attempts": cls.max_attempts,
            "ru54fz_breaker_threshold": cls.threshold,
            "ru54fz_breaker_cool_down": cls.cool_down,
        }

    @classmethod
    def _drop_class_data(cls):
        with cls.committed() as env:
            cls._purge(env)
            env["pos.config"].browse(cls.config_id).unlink()
            env["optics.store"].browse(cls.store_id).unlink()
            env["res.company"].browse(cls.company_id).write(cls._saved_company)

    @classmethod
    def _purge(cls, env):
        """Remove every committed row a test left (documents, logs, letters, jobs)."""
        cr = env.cr
        cr.execute(SQL("SELECT id FROM optics_fiscal_document WHERE pos_config_id = %s", cls.config_id))
        ids = tuple(r[0] for r in cr.fetchall()) or (0,)
        cr.execute(SQL("DELETE FROM optics_fiscal_audit WHERE document_id IN %s", ids))
        cr.execute(
            SQL(
                "DELETE FROM mail_activity WHERE res_model = 'optics.fiscal.dead.letter' AND res_id IN "
                "(SELECT id FROM optics_fiscal_dead_letter WHERE document_id IN %s)",
                ids,
            )
        )
        cr.execute(
            SQL(
                "DELETE FROM mail_message WHERE model = 'optics.fiscal.dead.letter' AND res_id IN "
                "(SELECT id FROM optics_fiscal_dead_letter WHERE document_id IN %s)",
                ids,
            )
        )
        cr.execute(SQL("DELETE FROM optics_fiscal_dead_letter WHERE document_id IN %s", ids))
        cr.execute(SQL("DELETE FROM optics_fiscal_document WHERE id IN %s", ids))
        cr.execute(SQL("DELETE FROM optics_fiscal_till WHERE pos_config_id = %s", cls.config_id))
        cr.execute(SQL("DELETE FROM queue_job WHERE model_name = 'optics.fiscal.document'"))
        cr.execute(SQL("DELETE FROM optics_ofd_breaker WHERE company_id = %s", cls.company_id))

    def setUp(self):
        super().setUp()
        self.ofd.control.reset()
        self._purge_retrying()
        self.set_company(**self._company_settings())

    def tearDown(self):
        self._purge_retrying()
        super().tearDown()

    def _purge_retrying(self):
        """Jobs of the finished test may still be running in the runner: retry the
        purge until it does not collide with them."""
        self.set_company(ru54fz_ofd_port=9)  # whatever still runs now fails fast
        deadline = time.time() + 30
        while True:
            try:
                with self.committed() as env:
                    env.cr.execute(
                        SQL(
                            "SELECT count(*) FROM queue_job WHERE model_name = "
                            "'optics.fiscal.document' AND state = 'started'"
                        )
                    )
                    if env.cr.fetchone()[0] and time.time() < deadline:
                        raise RuntimeError("jobs still running")
                    self._purge(env)
                return
            except Exception:  # noqa: BLE001  (serialization failure or running jobs)
                if time.time() > deadline:
                    raise
                time.sleep(0.2)

    # ------------------------------------------------------------------ helpers
    def set_company(self, **vals):
        with self.committed() as env:
            env["res.company"].browse(self.company_id).write(vals)

    def entries(self, fd_numbers, **kw):
        return [make_entry(self.till_code, fd, **kw) for fd in fd_numbers]

    def push(self, entries, token=None, till_code=None, status=None, raw=None):
        """POST to the real ingestion endpoint of the runner server; (status, json)."""
        body = {"till_code": till_code or self.till_code, "entries": entries}
        if status is not None:
            body["status"] = status
        data = raw if raw is not None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.server.url}/optics_pos_ru54fz/central/push",
            data=data,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Till-Token": token or self.token,
                "X-Till-Code": till_code or self.till_code,
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=60) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"{}")

    def docs(self, env):
        return env["optics.fiscal.document"].search(
            [("pos_config_id", "=", self.config_id)], order="fd_number"
        )

    def states(self):
        with self.committed() as env:
            return {d.fd_number: d.ofd_state for d in self.docs(env)}

    def breaker_state(self):
        """The state of the breaker of the company's current OFD endpoint (a job of an earlier
        test, run while the purge pointed the company elsewhere, may have made another row)."""
        with self.committed() as env:
            env.cr.execute(
                SQL(
                    "SELECT b.state FROM optics_ofd_breaker b JOIN res_company c ON c.id = b.company_id"
                    " AND b.host = c.ru54fz_ofd_host AND b.port = c.ru54fz_ofd_port WHERE c.id = %s",
                    self.company_id,
                )
            )
            row = env.cr.fetchone()
            return row[0] if row else None

    def wait_for(self, predicate, timeout=30.0, what="condition", interval=0.1):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(interval)
        self.fail(
            f"timed out after {timeout} s waiting for {what}; states={self.states()} "
            f"breaker={self.breaker_state()} ofd={self.ofd.control.stats()}\n"
            f"runner log tail:\n{self.server.tail(2000)}"
        )

    def wait_all(self, state, count, timeout=30.0):
        return self.wait_for(
            lambda: (lambda s: len(s) == count and all(v == state for v in s.values()))(self.states()),
            timeout,
            f"{count} documents {state}",
        )
