"""Central's till push endpoint under attack and under poison (issue 12, items 6 and 9).

* A stranger's push is refused on its headers, before its body is read: the test sends
  the headers of an 8 MiB push and no body at all, and gets the 401 back.
* A fiscalised cash-in of 25,000,000 RUB (2,500,000,000 kopecks, more than int4) is stored.
* An entry central cannot store is refused with its uuid named and nothing stored; the
  real till then sets that entry aside and delivers the others (real TillService, KKT
  emulator, this central over HTTP).
"""

import json
import shutil
import socket
import sqlite3
import tempfile
import uuid
from urllib.parse import urlparse

from odoo.tests import HttpCase, tagged

from ..controllers.central import MAX_BODY
from ..ru54fz import tokens
from ..ru54fz.devices import make_device
from ..ru54fz.emulator.harness import start_emulator
from ..ru54fz.journal import Journal
from ..ru54fz.till_service import TillService

PUSH = "/optics_pos_ru54fz/central/push"
BIG_CASH_IN = 2_500_000_000


def _entry(kind="sale", uid=None, total=10000, fd=None, **fiscal):
    uid = uid or str(uuid.uuid4())
    payload = (
        {"amount": total, "kind": kind}
        if kind in ("cash_in", "cash_out")
        else {"total": total, "operation": 1}
    )
    return {
        "uuid": uid,
        "hlc": "1700000000000",
        "kind": kind,
        "pos_reference": "",
        "payload": payload,
        "state": "fiscalised",
        "ofd_message": None,
        "created_at": "2026-12-01T10:00:00",
        "error": None,
        "fiscal": dict(
            {
                "fd_number": fd,
                "fn_serial": "9999078900012345",
                "shift_number": 1,
                "doc_time": "2026-12-01T10:00:00",
            },
            **fiscal,
        )
        if fd
        else {"counters": {}},
    }


@tagged("post_install", "-at_install")
class TestSecurityPushInput(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.till_code = f"SEC-{uuid.uuid4().hex[:8]}"
        cls.token = tokens.generate()
        cls.config = cls.env["pos.config"].create(
            {
                "name": "Push security test",
                "ru54fz_till_code": cls.till_code,
                "ru54fz_central_token_hash": tokens.hash_token(cls.token),
            }
        )
        cls.Doc = cls.env["optics.fiscal.document"].sudo()

    def _push(self, entries, status=None, token=None, till_code=None, headers=None):
        body = {"till_code": self.till_code, "entries": entries}
        if status is not None:
            body["status"] = status
        hdrs = {
            "Content-Type": "application/json",
            "X-Till-Token": token or self.token,
            "X-Till-Code": till_code or self.till_code,
            **(headers or {}),
        }
        resp = self.opener.post(self.base_url() + PUSH, data=json.dumps(body), headers=hdrs, timeout=60)
        return resp.status_code, resp.json()

    def _docs(self):
        return self.Doc.search([("pos_config_id", "=", self.config.id)])

    def _raw_exchange(self, head_lines):
        """Send only a request's head on a raw socket and read the answer's status line.
        The body the head announces is never sent: a server that reads it first never
        answers (the socket times out)."""
        url = urlparse(self.base_url())
        cookie = "; ".join(f"{k}={v}" for k, v in self.opener.cookies.items())
        head = [
            f"POST {PUSH} HTTP/1.1",
            f"Host: {url.netloc}",
            "Content-Type: application/json",
            *head_lines,
            *([f"Cookie: {cookie}"] if cookie else []),
            "Connection: close",
            "",
            "",
        ]
        with socket.create_connection((url.hostname, url.port), timeout=60) as sock:
            sock.sendall("\r\n".join(head).encode())
            sock.sendall(b'{"till_code": "' + self.till_code.encode() + b'", "entries": [')  # and no more
            data = b""
            while b"\r\n\r\n" not in data:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                data += chunk
            while True:  # the rest of the answer (its JSON body)
                try:
                    chunk = sock.recv(65536)
                except OSError:
                    break
                if not chunk:
                    break
                data += chunk
        status = int(data.split(b" ", 2)[1])
        body = data.split(b"\r\n\r\n", 1)[1]
        return status, body

    # ---------------------------------------------------------------- item 9
    def test_a_stranger_is_refused_on_the_headers_before_the_body_is_read(self):
        for head in (
            [f"X-Till-Code: {self.till_code}", "X-Till-Token: wrong-token"],
            ["X-Till-Code: NO-SUCH-TILL", f"X-Till-Token: {self.token}"],
            [f"X-Till-Token: {self.token}"],
        ):  # the till named only in the body
            status, body = self._raw_exchange([*head, f"Content-Length: {8 * 1024 * 1024}"])
            self.assertEqual(status, 401, body)
            self.assertEqual(json.loads(body)["error"]["code"], "unauthorized")
        self.assertFalse(self._docs())

    def test_an_oversized_push_is_refused_unread_even_from_the_till(self):
        status, body = self._raw_exchange(
            [
                f"X-Till-Code: {self.till_code}",
                f"X-Till-Token: {self.token}",
                f"Content-Length: {MAX_BODY + 1}",
            ]
        )
        self.assertEqual(status, 413, body)
        self.assertIn(b"too_large", body)
        self.assertFalse(self._docs())

    def test_the_body_cannot_name_another_till(self):
        status, reply = self._push([_entry(fd=1)], headers={})
        self.assertEqual(status, 200, reply)
        body = {"till_code": "SOMEONE-ELSE", "entries": [_entry(fd=2)]}
        resp = self.opener.post(
            self.base_url() + PUSH,
            data=json.dumps(body),
            timeout=60,
            headers={
                "Content-Type": "application/json",
                "X-Till-Token": self.token,
                "X-Till-Code": self.till_code,
            },
        )
        self.assertEqual(resp.status_code, 400)
        self.assertEqual(len(self._docs()), 1)

    # ---------------------------------------------------------------- item 6
    def test_a_cash_in_beyond_int4_is_stored_in_64_bits(self):
        cash = _entry("cash_in", total=BIG_CASH_IN)
        sale = _entry(fd=7, total=2**40 - 1)  # the largest sum the till accepts
        status, reply = self._push([cash, sale])
        self.assertEqual(status, 200, reply)
        self.assertEqual(sorted(reply["accepted"]), sorted([cash["uuid"], sale["uuid"]]))
        docs = {d.uuid: d for d in self._docs()}
        self.assertEqual(docs[cash["uuid"]].total, BIG_CASH_IN)
        self.assertEqual(docs[cash["uuid"]].amount_total, 25_000_000.0)
        self.assertEqual(docs[sale["uuid"]].total, 2**40 - 1)
        self.env.cr.execute(
            "SELECT data_type FROM information_schema.columns"
            " WHERE table_name = 'optics_fiscal_document' AND column_name = 'total'"
        )
        self.assertEqual(self.env.cr.fetchone()[0], "bigint")

    def test_an_entry_central_cannot_store_is_named_and_nothing_is_stored(self):
        good = _entry(fd=11)
        for bad in (
            _entry(fd=2**40),
            _entry(fd=12, shift_number="1; DROP TABLE"),
            _entry(total=2**70),
            dict(_entry(fd=13), kind="teleport"),
        ):
            status, reply = self._push([good, bad])
            self.assertEqual(status, 400, reply)
            self.assertEqual(reply["error"]["code"], "entry_invalid")
            self.assertEqual(reply["error"]["uuid"], bad["uuid"], reply)
            self.assertIn(bad["uuid"], reply["error"]["message"])
            self.assertFalse(self._docs(), "a refused push stores nothing")

    def test_entries_set_aside_on_the_till_are_visible_on_central(self):
        status, reply = self._push(
            [],
            status={
                "journal": {
                    "undelivered": 0,
                    "dead_letter": 2,
                    "set_aside": [
                        {"uuid": "x" * 36, "kind": "sale", "fd_number": 5, "reason": "central refused"}
                    ],
                }
            },
        )
        self.assertEqual(status, 200, reply)
        till = self.env["optics.fiscal.till"].sudo().search([("pos_config_id", "=", self.config.id)])
        self.assertEqual(till.journal_set_aside, 2)
        self.assertEqual(till.health, "alarm")
        self.assertIn("central refused", till.status_json)

    def test_real_till_sets_a_refused_entry_aside_and_delivers_the_rest(self):
        tmp = tempfile.mkdtemp(prefix="ru54fz-sec-")
        self.addCleanup(shutil.rmtree, tmp, True)
        emu = start_emulator(tmp)
        self.addCleanup(emu.stop)
        journal = Journal(f"{tmp}/journal.sqlite", till_code=self.till_code)
        svc = TillService(
            journal,
            make_device(emu.config),
            {
                "till_code": self.till_code,
                "central_url": self.base_url(),
                "central_token": self.token,
                "autopush": False,
                "push_timeout": 60,
            },
        )
        self.addCleanup(journal.close)
        self.addCleanup(svc.device.close)
        svc.start()
        cashier = {"name": "Анна Кассирова"}
        svc.open_shift({"uuid": f"shift-{uuid.uuid4()}", "cashier": cashier})
        cash = svc.cash_in({"uuid": f"cash-{uuid.uuid4()}", "amount": BIG_CASH_IN, "cashier": cashier})
        line = {
            "name": "Линза очковая 1.6",
            "quantity": "1",
            "price": "1500.00",
            "amount": "1500.00",
            "vat_code": 6,
        }

        def sale():
            return svc.sale(
                {
                    "uuid": str(uuid.uuid4()),
                    "operation": "sale",
                    "cashier": cashier,
                    "tax_system": 1,
                    "lines": [line],
                    "payments": [{"kind": "card", "amount": "1500.00"}],
                }
            )["uuid"]

        first, poisoned, last = sale(), sale(), sale()
        # the poisoned entry: its journal row carries a shift number central cannot store
        db = sqlite3.connect(journal.path)
        fiscal = json.loads(db.execute("SELECT fiscal FROM entries WHERE uuid=?", (poisoned,)).fetchone()[0])
        db.execute(
            "UPDATE entries SET fiscal=? WHERE uuid=?",
            (json.dumps(dict(fiscal, shift_number=2**40)), poisoned),
        )
        db.commit()
        db.close()

        svc.push_to_central()
        self.assertEqual(journal.get(poisoned)["state"], "dead_letter")
        self.assertIn("shift_number", journal.get(poisoned)["error"])
        for uid in (cash["uuid"], first, last):
            self.assertIn(journal.get(uid)["state"], ("delivered", "archived"), uid)
        docs = {d.uuid: d for d in self._docs()}
        self.assertNotIn(poisoned, docs)
        self.assertEqual(docs[cash["uuid"]].total, BIG_CASH_IN)
        self.assertTrue(docs[first].fd_number and docs[last].fd_number)
        # the till reports it; central shows it on the till's health
        svc._status_pushed_at = 0
        svc.push_to_central()
        till = self.env["optics.fiscal.till"].sudo().search([("pos_config_id", "=", self.config.id)])
        self.assertEqual(till.journal_set_aside, 1)
        self.assertEqual(till.health, "alarm")
        self.assertEqual(svc.status()["journal"]["dead_letter"], 1)
