"""One owner per till across real Odoo workers (issue 13, item 8).

A till served by the central server (a one-machine store) is reached by every
worker of a prefork Odoo, and by every Odoo node on the database.  Here two
prefork servers (2 workers each, real HTTP on loopback) serve the same
database; each sale is posted to all of them at once, several times (a POS
retrying on another worker).  The KKT is the emulator process: its fiscal drive
must hold exactly one document per sale, each known to the till journal.

Test data is committed through separate cursors (the servers only see
committed rows) and removed at the end.
"""

import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator
from .ofd_common import CommittedClassData, free_port, prefork_command

TOKEN = "owner-workers-pairing-token"
CENTRAL_TOKEN = "owner-workers-central-token"
ALLOWLIST = "optics_pos_ru54fz.kkt_address_allowlist"


def _order():
    return {
        "uuid": str(uuid.uuid4()),
        "pos_reference": "Order 00009-001-0001",
        "operation": "sale",
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": [
            {
                "name": "Линза очковая 1.6",
                "quantity": "1.000",
                "price": "2500.00",
                "amount": "2500.00",
                "vat_code": 6,
                "payment_method": 4,
                "subject": 1,
                "measure": 0,
                "barcode": "",
            }
        ],
        "payments": [{"kind": "card", "amount": "2500.00"}],
        "refund_of": None,
    }


class PreforkServer:
    """``odoo-bin --workers=N`` on the test database, without the job runner."""

    def __init__(self, dbname, workers=2):
        self.port = free_port()
        self.log_path = tempfile.mktemp(prefix="till_owner_", suffix=".log")
        cmd = prefork_command(
            dbname,
            self.port,
            workers,
            "--load=base,web",
            f"--data-dir={config['data_dir']}",
            f"--logfile={self.log_path}",
        )
        self.proc = subprocess.Popen(
            cmd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            env=dict(os.environ, PYTHONUNBUFFERED="1"),
        )
        self.url = f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout=120):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo server exited: {self.tail()}")
            with contextlib.suppress(OSError):
                status, _body = call(self.url, "status")
                if status == 200:
                    return
            time.sleep(0.5)
        raise RuntimeError(f"Odoo server did not answer: {self.tail()}")

    def text(self):
        with contextlib.suppress(OSError), open(self.log_path) as fh:
            return fh.read()
        return ""

    def tail(self, n=3000):
        return self.text()[-n:]

    def receipt_pids(self):
        """Pids of the worker processes that answered a receipt POST (werkzeug's access log)."""
        return set(
            re.findall(
                r"^\S+ \S+ (\d+) INFO \S+ werkzeug: .*\"POST /hw_proxy/ru54fz/receipt ", self.text(), re.M
            )
        )

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)
        with contextlib.suppress(OSError):
            os.unlink(self.log_path)


def call(url, action, body=None, timeout=60):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        f"{url}/hw_proxy/ru54fz/{action}",
        data=data,
        method="POST" if data is not None else "GET",
        headers={"Content-Type": "application/json", "X-Till-Token": TOKEN},
    )
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")


@tagged("post_install", "-at_install")
class TestTillOwnerAcrossWorkers(CommittedClassData, TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="till-owner-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.emu = start_emulator(cls.tmp)
        cls.addClassCleanup(cls.emu.stop)
        cls.dbname = cls.env.cr.dbname
        cls.till_code = f"OWN-{uuid.uuid4().hex[:8]}"
        with cls.committed() as env:
            cls.company_id = env.company.id
            cls.saved_policy = env.company.ru54fz_refund_requires_ofd
            params = env["ir.config_parameter"]
            cls.saved_allowlist = params.get_param(ALLOWLIST)
            # a central-served till may only drive an allowlisted KKT address
            params.set_param(ALLOWLIST, " ".join(filter(None, [cls.saved_allowlist, cls.emu.url])))
            pos = env["pos.config"].create(
                {
                    "name": f"Owner test till {cls.till_code}",
                    "ru54fz_enabled": True,
                    "ru54fz_till_code": cls.till_code,
                    "ru54fz_device_type": "emulator",
                    "ru54fz_device_address": cls.emu.url,
                    "ru54fz_pairing_token_hash": tokens.hash_token(TOKEN),
                    "ru54fz_central_token_hash": tokens.hash_token(CENTRAL_TOKEN),
                }
            )
            cls.config_id = pos.id
        cls.addClassCleanup(cls._drop_class_data)
        cls.journal_path = Path(config["data_dir"]) / "ru54fz" / cls.dbname / f"{cls.till_code}.sqlite"
        cls.servers = [PreforkServer(cls.dbname), PreforkServer(cls.dbname)]
        for server in cls.servers:
            cls.addClassCleanup(server.stop)
        for server in cls.servers:
            server.wait_ready()
        status, body = call(
            cls.servers[0].url,
            "open_shift",
            {"uuid": str(uuid.uuid4()), "cashier": {"name": "Анна Кассирова"}},
        )
        assert status == 200, body

    @classmethod
    def _drop_class_data(cls):
        with cls.committed() as env:
            env["optics.fiscal.document"].search([("pos_config_id", "=", cls.config_id)]).unlink()
            env["optics.fiscal.till"].search([("pos_config_id", "=", cls.config_id)]).unlink()
            env["pos.config"].browse(cls.config_id).unlink()
            env["res.company"].browse(cls.company_id).ru54fz_refund_requires_ofd = cls.saved_policy
            env["ir.config_parameter"].set_param(ALLOWLIST, cls.saved_allowlist or False)
        for suffix in ("", "-wal", "-shm"):
            with contextlib.suppress(OSError):
                os.unlink(f"{cls.journal_path}{suffix}")

    def _last_fd(self):
        return self.emu.control.state()["last_fd"]

    def _journal_by_fd(self):
        db = sqlite3.connect(f"file:{self.journal_path}?mode=ro", uri=True)
        try:
            return dict(
                db.execute("SELECT fd_number, uuid FROM entries WHERE fd_number IS NOT NULL").fetchall()
            )
        finally:
            db.close()

    def test_each_sale_posted_to_every_worker_is_fiscalised_once(self):
        before = self._last_fd()
        sales = [_order() for _ in range(5)]
        copies_per_server = 3
        answers = {}
        with concurrent.futures.ThreadPoolExecutor(max_workers=2 * copies_per_server) as pool:
            for sale in sales:
                futures = [
                    pool.submit(self._post_until_done, server.url, sale)
                    for server in self.servers
                    for _ in range(copies_per_server)
                ]
                answers[sale["uuid"]] = [f.result() for f in futures]
        for uid, replies in answers.items():
            self.assertEqual(len(replies), 2 * copies_per_server)
            self.assertTrue(all(r == replies[0] for r in replies), f"different answers for {uid}: {replies}")
        after = self._last_fd()
        # exactly one fiscal document per sale on the FN ...
        self.assertEqual(after - before, len(sales))
        # ... each one known to the journal, under the sale it belongs to
        by_fd = self._journal_by_fd()
        for fd in range(before + 1, after + 1):
            self.assertIn(fd, by_fd, f"FD {fd} is on the FN but unknown to the till journal")
        self.assertEqual({by_fd[fd] for fd in range(before + 1, after + 1)}, set(answers))
        for uid, replies in answers.items():
            self.assertEqual(by_fd[replies[0]["fiscal"]["fd_number"]], uid)
        # and more than one worker process really served these receipts
        pids = set().union(*(server.receipt_pids() for server in self.servers))
        self.assertGreaterEqual(len(pids), 2, "the sales did not reach several workers")

    def _post_until_done(self, url, sale):
        """The POS's behaviour: a 503 (till busy, KKT unreachable) is retried with the same uuid."""
        deadline = time.time() + 120
        while True:
            status, body = call(url, "receipt", sale)
            if status == 200:
                return body
            if status != 503 or time.time() > deadline:
                raise AssertionError(f"receipt answered {status}: {body}")
            time.sleep(0.2)

    def test_push_reply_carries_the_refund_policy(self):
        def push():
            req = urllib.request.Request(
                f"{self.servers[1].url}/optics_pos_ru54fz/central/push",
                method="POST",
                data=json.dumps({"till_code": self.till_code, "entries": []}).encode(),
                headers={
                    "Content-Type": "application/json",
                    "X-Till-Code": self.till_code,
                    "X-Till-Token": CENTRAL_TOKEN,
                },
            )
            with urllib.request.urlopen(req, timeout=60) as resp:
                return json.loads(resp.read())

        with self.committed() as env:
            env["res.company"].browse(self.company_id).ru54fz_refund_requires_ofd = True
        self.assertEqual(push()["settings"], {"refund_requires_ofd_confirmation": True})
        with self.committed() as env:
            env["res.company"].browse(self.company_id).ru54fz_refund_requires_ofd = False
        self.assertEqual(push()["settings"], {"refund_requires_ofd_confirmation": False})
