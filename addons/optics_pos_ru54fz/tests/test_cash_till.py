"""Cash sessions, X/Z reports and cash moves against the real till proxy controller of this
server and the KKT emulator process (Shtrih protocol over TCP)."""

import json
import shutil
import tempfile
import uuid as uuidlib

import requests

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..controllers.hw_proxy import REGISTRY
from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator
from .cash_common import CashSessionCommon, pdf_text

TOKEN = "cash-test-pairing-token"
CENTRAL_TOKEN = "cash-test-central-token"


@tagged("post_install", "-at_install")
class TestCashWithTill(CashSessionCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.tmp = tempfile.mkdtemp(prefix="ru54fz-cash-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.emu = start_emulator(cls.tmp)
        cls.addClassCleanup(cls.emu.stop)
        cls.addClassCleanup(REGISTRY.stop_all)

    def setUp(self):
        super().setUp()
        REGISTRY.stop_all()
        self.emu.control.reset()
        # a fresh till (journal) per test; central is unreachable for it until deliver()
        self.till_code = f"CASH-{uuidlib.uuid4().hex[:8]}"
        # administrators allow the till to reach its (emulated) KKT (docs/security.md)
        self.env["ir.config_parameter"].sudo().set_param(
            "optics_pos_ru54fz.kkt_address_allowlist", self.emu.url
        )
        self.config.sudo().write(
            {
                "ru54fz_enabled": True,
                "ru54fz_till_code": self.till_code,
                "ru54fz_proxy_url": self.base_url(),
                "ru54fz_device_type": "emulator",
                "ru54fz_device_address": self.emu.url,
                "ru54fz_pairing_token_hash": tokens.hash_token(TOKEN),
                "ru54fz_central_token_hash": tokens.hash_token(CENTRAL_TOKEN),
            }
        )
        self.addCleanup(REGISTRY.stop_all)
        self.client = self.config._ru54fz_till_client()

    # -- the POS side, as the POS screens talk to the till -------------------------------

    def till(self, action, body=None):
        method = "POST" if body is not None else "GET"
        headers = {"X-Till-Token": TOKEN}
        if action in ("close_shift", "cash_out"):
            # a manager-only action: the store manager's grant from central (ru54fz/grants.py)
            headers["X-Till-Grant"] = self.config.with_user(self.manager).ru54fz_issue_manager_grant(action)[
                "grant"
            ]
        resp = requests.request(
            method, f"{self.base_url()}/hw_proxy/ru54fz/{action}", json=body, headers=headers, timeout=30
        )
        return resp.status_code, resp.json()

    def open_fiscal_shift(self):
        status, body = self.till(
            "open_shift", {"uuid": self.new_uuid(), "cashier": {"name": "Анна Кассирова"}}
        )
        self.assertEqual(status, 200, body)
        return body

    def sell(self, products, cash=0.0, card=0.0):
        """Fiscalise a receipt on the till (POS receipt payload) and return the matching POS order
        data (same uuid), not yet synced: the POS is offline."""
        payments = []
        if cash:
            payments.append((self.cash_pm1, cash))
        if card:
            payments.append((self.bank_pm1, card))
        order = self.cash_order(products, uuid=self.new_uuid(), payments=payments)
        lines = [
            {
                "name": line[2]["product_id"]
                and self.env["product.product"].browse(line[2]["product_id"]).name,
                "quantity": f"{line[2]['qty']:.3f}",
                "price": f"{line[2]['price_unit']:.2f}",
                "amount": f"{line[2]['price_subtotal_incl']:.2f}",
                "vat_code": 6,
            }
            for line in order["lines"]
        ]
        pays = [{"kind": "cash", "amount": f"{cash:.2f}"}] if cash else []
        pays += [{"kind": "card", "amount": f"{card:.2f}"}] if card else []
        status, body = self.till(
            "receipt",
            {
                "uuid": order["uuid"],
                "pos_reference": order["name"],
                "operation": "sale",
                "cashier": {"name": "Анна Кассирова", "inn": ""},
                "tax_system": 1,
                "lines": lines,
                "payments": pays,
                "refund_of": None,
            },
        )
        self.assertEqual(status, 200, body)
        return order

    def deliver(self):
        """Central comes back: the till (a fresh service instance) pushes its journal."""
        REGISTRY.stop_all()
        self.env["ir.config_parameter"].sudo().set_param(
            f"optics_pos_ru54fz.local_central_token.{self.till_code}", CENTRAL_TOKEN
        )
        self.till("status")  # the controller starts the till service with central configured
        svc = REGISTRY._services[(self.env.cr.dbname, self.till_code)]
        svc.stop()  # the test pushes by itself, not the background pusher
        return svc.push_to_central()

    def go_offline(self):
        REGISTRY.stop_all()
        self.env["ir.config_parameter"].sudo().set_param(
            f"optics_pos_ru54fz.local_central_token.{self.till_code}", False
        )

    # -- tests ----------------------------------------------------------------------------

    def test_customer_case_offline_sales_survive_restarts_and_reconcile(self):
        session = self.open_new_session(0.0)
        self.open_fiscal_shift()
        orders = [self.sell([(self.product, 1)], cash=10000.0) for _i in range(5)]

        # the till proxy dies and comes back: a fresh service over the same journal
        REGISTRY.stop_all()
        self.emu.kill()
        self.emu.restart()
        status, counters = self.till("counters")
        self.assertEqual(status, 200, counters)
        self.assertEqual(counters["receipts"]["sale"]["cash"], 5000000)
        self.assertEqual(len(self.client.journal(state="fiscalised")), 6)  # shift + 5 sales

        # central is reachable again; Odoo "restarts": nothing but the database is read
        self.deliver()
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        self.assertEqual(session.ru54fz_get_cash_state()["cash_balance"], 50000.0)
        self.assertEqual(len(self.movements(session, "cash_sale")), 5)
        # the POS comes back online and syncs the same orders: still 50 000
        self.sync_orders(orders)
        self.deliver()  # and the till pushes again: nothing doubles
        self.assertEqual(session.ru54fz_get_cash_state()["cash_balance"], 50000.0)
        self.assertEqual(len(self.movements(session, "cash_sale")), 5)
        self.assertEqual(session.ru54fz_expected_cash, session.cash_register_balance_end)

        x = session.ru54fz_x_report_data()
        self.assertIsNone(x["kkt_error"])
        self.assertTrue(all(row["ok"] for row in x["comparison"]), x["comparison"])
        wizard = self.reconcile_wizard(session, self.cashier, counted={5000: 10})
        self.assertFalse(wizard.kkt_error)
        self.assertTrue(wizard.kkt_line_ids)
        self.assertTrue(all(wizard.kkt_line_ids.mapped("ok")), wizard.mismatch_html)
        self.assertEqual(wizard.cash_difference, 0.0)
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")

    def test_z_report_wizard_end_to_end(self):
        session = self.open_new_session(500.0)
        self.open_fiscal_shift()
        orders = [
            self.sell([(self.product, 1)], cash=10000.0),
            self.sell([(self.lens, 2)], card=5001.0),
            self.sell([(self.product, 1), (self.lens, 1)], cash=7500.5, card=5000.0),
        ]
        self.sync_orders(orders)
        # cash in from the back office: on the KKT first, trail at once, same uuid
        move = (
            self.env["optics.cash.move.wizard"]
            .with_user(self.manager)
            .create({"session_id": session.id, "kind": "cash_in", "amount": 1000.0, "reason": "change float"})
        )
        move.action_confirm()
        move.action_confirm()  # a double click: the till answers the same, nothing doubles
        self.assertEqual(len(self.movements(session, "cash_in")), 1)
        self.assertEqual(session.ru54fz_expected_cash, 500.0 + 10000.0 + 7500.5 + 1000.0)
        fd_before = self.emu.control.state()["last_fd"]

        # the manager's personal INN is recorded on their contact: the Z report carries it (1203)
        self.manager.partner_id.vat = "500100732259"
        wizard = self.reconcile_wizard(
            session, self.manager, mode="z_report", counted={5000: 3, 2000: 2, 0.5: 1}
        )
        self.assertEqual(wizard.cash_difference, 0.0)
        self.assertTrue(all(wizard.kkt_line_ids.mapped("ok")), wizard.mismatch_html)
        # the till has not delivered the shift's operations yet: refused, with the list
        with self.assertRaises(UserError) as refused:
            wizard.action_confirm()
        self.assertIn(orders[0]["name"], str(refused.exception))
        self.assertEqual(session.state, "opened")
        self.assertEqual(self.emu.control.state()["last_fd"], fd_before, "no Z was made")

        self.deliver()
        self.assertEqual(len(self.movements(session, "cash_in")), 1)
        self.go_offline()
        self.client = self.config._ru54fz_till_client()
        action = wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        report = wizard.shift_report_id
        self.assertEqual(report.session_id, session)
        self.assertEqual(report.source, "back_office")
        self.assertEqual(report.fd_number, fd_before + 1)
        z_tags = {
            tag: bytes.fromhex(value) for tag, value in self.emu.control.document(report.fd_number)["tlvs"]
        }
        self.assertEqual(z_tags.get(1203, b"").strip(), b"500100732259", "the closing manager's INN")
        self.assertTrue(report.fiscal_sign)
        kkt = self.emu.control.state()
        self.assertEqual(report.shift_number, kkt["shift"]["number"])
        self.assertFalse(kkt["shift"]["open"])
        lines = {(ln.operation, ln.payment): ln for ln in report.line_ids}
        self.assertEqual(lines[("sale", "cash")].amount, 17500.5)
        self.assertEqual(lines[("sale", "card")].amount, 10001.0)
        self.assertEqual(lines[("sale", "total")].count, 3)
        self.assertEqual(report.sale_total, 27501.5)
        self.assertEqual(report.cash_in_total, 1000.0)
        self.assertEqual(action["report_name"], "optics_pos_ru54fz.report_shift_z")

        pdf, _kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf(action["report_name"], report.ids)
        )
        text = pdf_text(pdf)
        self.assertIn(f"shift {report.shift_number}", text)
        self.assertIn("27,501.50", text)
        self.assertIn("17,500.50", text)
        self.assertIn(report.fiscal_sign, text)

        # the till's own close_shift entry reaches central later: the same Z, once
        self.deliver()
        self.assertEqual(
            self.env["optics.shift.report"].search_count([("config_id", "=", self.config.id)]), 1
        )

    def test_offline_z_on_the_till_delivered_later_once(self):
        session = self.open_new_session(0.0)
        self.open_fiscal_shift()
        orders = [self.sell([(self.product, 1)], cash=10000.0) for _i in range(2)]
        self.sync_orders(orders)
        # central is down; the store closes the shift at the till itself
        status, z = self.till("close_shift", {"uuid": self.new_uuid(), "cashier": {"name": "Анна Кассирова"}})
        self.assertEqual(status, 200, z)
        self.assertFalse(self.env["optics.shift.report"].search([("config_id", "=", self.config.id)]))
        self.deliver()
        self.deliver()
        reports = self.env["optics.shift.report"].search([("config_id", "=", self.config.id)])
        self.assertEqual(len(reports), 1)
        self.assertEqual(reports.source, "till")
        self.assertEqual(reports.operation_uuid, z["uuid"])
        self.assertEqual(reports.fd_number, z["fiscal"]["fd_number"])
        self.assertEqual(reports.sale_total, 20000.0)
        fd_after_z = self.emu.control.state()["last_fd"]

        wizard = self.reconcile_wizard(session, self.manager, mode="z_report", counted={5000: 4})
        self.assertEqual(wizard.pending_report_id, reports)
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        self.assertEqual(reports.session_id, session)
        self.assertEqual(
            self.emu.control.state()["last_fd"], fd_after_z, "the adopted Z is not made a second time"
        )

    def test_z_closed_from_the_pos_not_yet_pushed_is_adopted(self):
        """The POS closed the shift on the till a moment ago; the till has not pushed yet."""
        session = self.open_new_session(0.0)
        self.open_fiscal_shift()
        orders = [self.sell([(self.product, 1)], cash=10000.0)]
        self.sync_orders(orders)
        self.deliver()
        self.go_offline()
        status, z = self.till("close_shift", {"uuid": self.new_uuid(), "cashier": {"name": "Анна Кассирова"}})
        self.assertEqual(status, 200, z)
        fd_after_z = self.emu.control.state()["last_fd"]
        wizard = self.reconcile_wizard(session, self.manager, mode="z_report", counted={5000: 2})
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        report = wizard.shift_report_id
        self.assertEqual(report.operation_uuid, z["uuid"])
        self.assertEqual(report.fd_number, z["fiscal"]["fd_number"])
        self.assertEqual(report.sale_total, 10000.0)
        self.assertEqual(self.emu.control.state()["last_fd"], fd_after_z)
        self.deliver()  # the till's push of that Z comes later: still one report
        self.assertEqual(
            self.env["optics.shift.report"].search_count([("config_id", "=", self.config.id)]), 1
        )

    def test_x_report_printed_on_the_kkt(self):
        session = self.open_new_session(0.0)
        self.open_fiscal_shift()
        self.sync_orders([self.sell([(self.product, 1)], cash=10000.0)])
        data = session.with_user(self.cashier).ru54fz_x_report_data(print_on_kkt=True)
        self.assertIsNone(data["kkt_error"])
        self.assertEqual(data["kkt"]["sale"]["cash"], 10000.0)
        self.assertEqual(data["figures"]["cash_sales"], {"count": 1, "amount": 10000.0})
        self.assertTrue(all(row["ok"] for row in data["comparison"]), data["comparison"])
        xs = [e for e in self.client.journal() if e["kind"] == "x_report"]
        self.assertEqual(len(xs), 1, "the X report is journaled on the till")

    def test_cash_out_refused_by_the_kkt_changes_nothing(self):
        session = self.open_new_session(0.0)
        self.open_fiscal_shift()
        move = (
            self.env["optics.cash.move.wizard"]
            .with_user(self.manager)
            .create(
                {
                    "session_id": session.id,
                    "kind": "cash_out",
                    "amount": 999999.0,
                    "reason": "more than the drawer holds",
                }
            )
        )
        with self.assertRaises(UserError):
            move.action_confirm()
        self.assertFalse(self.movements(session, "cash_out"))
        self.assertFalse(session.statement_line_ids)

    def test_z_refused_while_an_entry_is_set_aside_on_the_till(self):
        """Issue 12 item 6: a sale central refused for good is set aside on the till
        (dead_letter) so the queue goes on, but it is still missing on central: the Z
        reconciliation refuses, naming it, and no Z is made."""
        session = self.open_new_session(500.0)
        self.open_fiscal_shift()
        poisoned = self.sell([(self.product, 1)], cash=10000.0)
        fine = self.sell([(self.lens, 2)], card=5001.0)
        self.sync_orders([poisoned, fine])
        # while central is unreachable, the sale's journal row gets a shift number central
        # cannot store
        offline = REGISTRY._services[(self.env.cr.dbname, self.till_code)]
        fiscal = json.loads(offline.journal.get(poisoned["uuid"])["fiscal"])
        offline.journal._write(
            "UPDATE entries SET fiscal=? WHERE uuid=?",
            (json.dumps(dict(fiscal, shift_number=2**40)), poisoned["uuid"]),
        )
        REGISTRY.stop_all()
        self.env["ir.config_parameter"].sudo().set_param(
            f"optics_pos_ru54fz.local_central_token.{self.till_code}", CENTRAL_TOKEN
        )
        self.till("status")
        svc = REGISTRY._services[(self.env.cr.dbname, self.till_code)]
        svc.stop()
        svc.push_to_central()
        self.assertEqual(svc.journal.get(poisoned["uuid"])["state"], "dead_letter")
        self.assertIn(svc.journal.get(fine["uuid"])["state"], ("delivered", "archived"))
        self.go_offline()
        self.client = self.config._ru54fz_till_client()
        fd_before = self.emu.control.state()["last_fd"]
        wizard = self.reconcile_wizard(session, self.manager, mode="z_report", counted={5000: 2, 500: 1})
        with self.assertRaises(UserError) as refused:
            wizard.action_confirm()
        self.assertIn(poisoned["name"], str(refused.exception))
        self.assertIn("dead_letter", str(refused.exception))
        self.assertEqual(session.state, "opened")
        self.assertEqual(self.emu.control.state()["last_fd"], fd_before, "no Z was made")
