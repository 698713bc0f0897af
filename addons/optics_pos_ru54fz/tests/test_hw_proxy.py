"""The till proxy controller inside the central server (a one-machine store),
against the KKT emulator process over TCP."""

import json
import shutil
import tempfile
import uuid

from odoo.tests import HttpCase, tagged

from ..controllers.hw_proxy import REGISTRY
from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator

TOKEN = "test-pairing-token"


def _order(uid=None, **kw):
    d = {
        "uuid": uid or str(uuid.uuid4()),
        "pos_reference": "Order 00001-001-0001",
        "operation": "sale",
        "cashier": {"name": "Анна Кассирова", "inn": ""},
        "buyer_contact": "",
        "tax_system": 1,
        "lines": [
            {
                "name": "Линза очковая 1.6",
                "quantity": "2.000",
                "price": "1500.00",
                "amount": "3000.00",
                "vat_code": 6,
                "payment_method": 4,
                "subject": 1,
                "measure": 0,
                "barcode": "",
            },
            {"name": "Футляр", "quantity": "1", "price": "234.50", "amount": "234.50", "vat_code": 11},
        ],
        "payments": [{"kind": "card", "amount": "3234.50"}],
        "refund_of": None,
    }
    d.update(kw)
    return d


@tagged("post_install", "-at_install")
class TestHwProxy(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="ru54fz-test-")
        cls.emu = start_emulator(cls.tmp)
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.addClassCleanup(cls.emu.stop)
        cls.addClassCleanup(REGISTRY.stop_all)
        cls.till_code = f"TEST-{uuid.uuid4().hex[:8]}"
        # administrators allow the till to reach its (emulated) KKT (docs/security.md)
        cls.env["ir.config_parameter"].sudo().set_param(
            "optics_pos_ru54fz.kkt_address_allowlist", cls.emu.url
        )
        cls.config = cls.env["pos.config"].create(
            {
                "name": "Till proxy test",
                "ru54fz_enabled": True,
                "ru54fz_till_code": cls.till_code,
                "ru54fz_proxy_url": cls.base_url(),
                "ru54fz_device_type": "emulator",
                "ru54fz_device_address": cls.emu.url,
                "ru54fz_pairing_token_hash": tokens.hash_token(TOKEN),
            }
        )
        cls.origin = cls.base_url()

    def _call(self, action, body=None, token=TOKEN, method=None, headers=None, raw=None):
        hdrs = {"Content-Type": "application/json"}
        if token is not None:
            hdrs["X-Till-Token"] = token
        hdrs.update(headers or {})
        url = f"/hw_proxy/ru54fz/{action}"
        method = method or ("POST" if body is not None or raw is not None else "GET")
        data = raw if raw is not None else (json.dumps(body) if body is not None else None)
        resp = self.opener.request(method, self.base_url() + url, data=data, headers=hdrs, timeout=30)
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        return resp, payload

    def _last_fd(self):
        return self.emu.control.state()["last_fd"]

    def _ensure_shift(self):
        self._call("open_shift", {"uuid": f"shift-{self.till_code}", "cashier": {"name": "Анна Кассирова"}})

    def test_token_required_and_nothing_changes(self):
        before = self._last_fd()
        for token in (None, "", "wrong-token", TOKEN + "x"):
            resp, body = self._call("receipt", _order(), token=token)
            self.assertEqual(resp.status_code, 401)
            self.assertEqual(body["error"]["code"], "unauthorized")
            self.assertNotIn("fn", json.dumps(body))
            resp, body = self._call("status", token=token)
            self.assertEqual(resp.status_code, 401)
            self.assertNotIn("device", body)
        self.assertEqual(self._last_fd(), before)
        # a wrong till code with the right token is refused too
        resp, _ = self._call("status", headers={"X-Till-Code": "NO-SUCH-TILL"})
        self.assertEqual(resp.status_code, 401)

    def test_cors_only_for_the_configured_origin(self):
        resp = self.opener.options(
            self.base_url() + "/hw_proxy/ru54fz/receipt",
            headers={
                "Origin": self.origin,
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "x-till-token, content-type",
            },
        )
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), self.origin)
        self.assertIn("X-Till-Token", resp.headers.get("Access-Control-Allow-Headers", ""))
        resp = self.opener.options(
            self.base_url() + "/hw_proxy/ru54fz/receipt",
            headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
        )
        self.assertNotIn("Access-Control-Allow-Origin", resp.headers)
        resp, _ = self._call("status", headers={"Origin": self.origin})
        self.assertEqual(resp.status_code, 200)
        self.assertEqual(resp.headers.get("Access-Control-Allow-Origin"), self.origin)
        resp, _ = self._call("status", headers={"Origin": "http://evil.example"})
        self.assertNotIn("Access-Control-Allow-Origin", resp.headers)

    def test_sale_and_replay(self):
        self._ensure_shift()
        before = self._last_fd()
        order = _order()
        resp, body = self._call("receipt", order)
        self.assertEqual(resp.status_code, 200, body)
        self.assertEqual(body["state"], "fiscalised")
        fiscal = body["fiscal"]
        self.assertEqual(fiscal["fd_number"], before + 1)
        self.assertIn("s=3234.50", fiscal["qr"])
        resp2, body2 = self._call("receipt", order)
        self.assertEqual(resp2.status_code, 200)
        self.assertEqual(body2, body)
        self.assertEqual(self._last_fd(), before + 1)
        resp, journal = self._call("journal?state=fiscalised&limit=1000")
        self.assertEqual(resp.status_code, 200)
        self.assertIn(order["uuid"], [e["uuid"] for e in journal["entries"]])
        resp, status = self._call("status")
        self.assertEqual(resp.status_code, 200)
        self.assertTrue(status["shift"]["open"])
        self.assertGreaterEqual(status["journal"]["undelivered"], 1)
        self.assertEqual(status["clock"]["level"], "ok")
        self.assertIn(status["level"], ("green", "yellow"))
        # the reasons of the one rule (ru54fz/till_health.py) travel beside the English messages
        self.assertEqual(len(status["reasons"]), len(status["messages"]))
        self.assertFalse([r for r in status["reasons"] if r["level"] == "red"], status["reasons"])
        self.assertTrue(all(set(r) == {"code", "level", "params"} for r in status["reasons"]))

    def test_bad_input_gets_4xx_and_nothing_is_journaled(self):
        self._ensure_shift()
        before = self._last_fd()
        _, journal = self._call("journal?limit=1000")
        known = len(journal["entries"])
        line = {"name": "Линза", "quantity": "1", "price": "100.00", "amount": "100.00", "vat_code": 6}
        cases = [
            (None, "{not json", "request_invalid"),
            (None, "[1, 2]", "request_invalid"),
            (_order(payments=[{"kind": "card", "amount": "1.00"}]), None, "document_invalid"),
            (
                _order(
                    lines=[dict(line, quantity="0", amount="0.00")],
                    payments=[{"kind": "cash", "amount": "0.00"}],
                ),
                None,
                "document_invalid",
            ),
            (
                _order(
                    lines=[dict(line, quantity="-1", amount="-100.00")],
                    payments=[{"kind": "cash", "amount": "100.00"}],
                ),
                None,
                "document_invalid",
            ),
            (
                _order(lines=[dict(line, vat_code=42)], payments=[{"kind": "cash", "amount": "100.00"}]),
                None,
                "document_invalid",
            ),
            (
                _order(lines=[dict(line, name="Л" * 129)], payments=[{"kind": "cash", "amount": "100.00"}]),
                None,
                "document_invalid",
            ),
            (_order(operation="refund", refund_of=None), None, "request_invalid"),
            # an original nobody can vouch for is a conflict, not bad input (issue 12 item 3)
            (_order(operation="refund", refund_of={"uuid": "no-such-sale"}), None, "conflict"),
        ]
        for body, raw, code in cases:
            resp, reply = self._call("receipt", body, raw=raw)
            self.assertEqual(resp.status_code, 409 if code == "conflict" else 400, (body or raw, reply))
            self.assertEqual(reply["error"]["code"], code, reply)
            self.assertTrue(reply["error"]["message"])
        _, journal = self._call("journal?limit=1000")
        self.assertEqual(len(journal["entries"]), known)
        self.assertEqual(self._last_fd(), before)
        resp, reply = self._call("no_such_action")
        self.assertEqual(resp.status_code, 404)
        resp, reply = self._call("receipt", method="GET")
        self.assertEqual(resp.status_code, 405)

    def test_pairing_token_is_generated_once_and_stored_hashed(self):
        action = self.config.action_ru54fz_generate_pairing_token()
        message = action["params"]["message"]
        token = message.split(" ")[0]
        stored = self.config.sudo().ru54fz_pairing_token_hash
        self.assertNotIn(token, stored)
        self.assertTrue(tokens.verify(token, stored))
        self.assertFalse(tokens.verify(TOKEN, stored))
        resp, _ = self._call("status", token=TOKEN)
        self.assertEqual(resp.status_code, 401)
        resp, _ = self._call("status", token=token)
        self.assertEqual(resp.status_code, 200)

    def test_sale_pushed_to_the_central_server_of_the_same_odoo(self):
        """One-machine store: the in-server till pushes its journal to this server's
        central endpoint (till push format); a second push creates no duplicate."""
        REGISTRY.stop_all()
        central_token = "test-central-token"
        self.config.sudo().ru54fz_central_token_hash = tokens.hash_token(central_token)
        self.env["ir.config_parameter"].sudo().set_param(
            f"optics_pos_ru54fz.local_central_token.{self.till_code}", central_token
        )
        self._ensure_shift()
        order = _order()
        resp, body = self._call("receipt", order)
        self.assertEqual(resp.status_code, 200, body)
        svc = REGISTRY._services[(self.env.cr.dbname, self.till_code)]
        svc.stop()  # the test pushes by itself (the background pusher may have gone first)
        svc.push_to_central()
        self.assertEqual(svc.journal.counts()["fiscalised"], 0)
        Doc = self.env["optics.fiscal.document"].sudo()
        doc = Doc.search([("uuid", "=", order["uuid"])])
        self.assertEqual(len(doc), 1)
        self.assertEqual(doc.fd_number, body["fiscal"]["fd_number"])
        self.assertEqual(doc.total, 323450)
        self.assertEqual(svc.journal.get(order["uuid"])["state"], "delivered")
        svc.push_to_central()
        self.assertEqual(Doc.search_count([("uuid", "=", order["uuid"])]), 1)
