import json

from odoo.exceptions import UserError
from odoo.tests import HttpCase, tagged

from ..ru54fz import tokens
from .cash_common import CashSessionCommon


@tagged("post_install", "-at_install")
class TestCashTrail(CashSessionCommon):
    """The session's cash is an append-only trail; the balance is derived from it."""

    def test_balance_from_synced_orders_and_no_duplicates(self):
        session = self.open_new_session(1000.0)
        orders = [self.cash_order([(self.product, 1)]) for _i in range(5)]
        card = self.cash_order([(self.lens, 2)], payments=[(self.bank_pm1, 5001.0)])
        self.sync_orders(orders + [card])
        # the POS retries a sync after a timeout: the same uuids come again
        self.sync_orders(orders + [card])

        state = session.ru54fz_get_cash_state()
        self.assertEqual(state["cash_balance"], 51000.0)
        self.assertEqual(state["opening_float"], 1000.0)
        self.assertEqual(state["by_kind"]["cash_sale"], {"count": 5, "amount": 50000.0})
        self.assertEqual(state["card_total"], 5001.0)
        self.assertEqual(
            state["card_totals"],
            [{"payment_method_id": self.bank_pm1.id, "name": self.bank_pm1.name, "amount": 5001.0}],
        )
        self.assertEqual(len(state["trail"]), 7)
        self.assertEqual(len(self.movements(session, "cash_sale")), 5)
        self.assertEqual(session.ru54fz_expected_cash, session.cash_register_balance_end)

    def test_change_is_netted_and_refund_is_negative(self):
        session = self.open_new_session(0.0)
        paid = self.cash_order([(self.product, 1)], payments=[(self.cash_pm1, 10000.0)])
        self.sync_orders([paid])
        order = self.env["pos.order"].search([("uuid", "=", paid["uuid"])])
        refund = order._refund()
        self.env["pos.make.payment"].with_context(active_ids=refund.ids, active_id=refund.id).create(
            {"payment_method_id": self.cash_pm1.id, "amount": -4000.0}
        ).check()
        # a partial cash refund of 4000 leaves the refund order unpaid: pay the rest by card
        self.env["pos.make.payment"].with_context(active_ids=refund.ids, active_id=refund.id).create(
            {"payment_method_id": self.bank_pm1.id, "amount": refund.amount_total + 4000.0}
        ).check()
        self.assertEqual(refund.state, "paid")
        refund_moves = self.movements(session).filtered(lambda m: m.order_id == refund)
        self.assertEqual(sorted(refund_moves.mapped("kind")), ["card_refund", "cash_refund"])
        self.assertEqual(refund_moves.filtered(lambda m: m.kind == "cash_refund").amount, -4000.0)
        self.assertEqual(session.ru54fz_expected_cash, 6000.0)
        self.assertEqual(session.ru54fz_card_total, -6000.0)

    def test_trail_is_append_only(self):
        session = self.open_new_session(300.0)
        movement = self.movements(session, "opening_float")
        self.assertEqual(movement.amount, 300.0)
        with self.assertRaises(UserError):
            movement.write({"amount": 0.0})
        with self.assertRaises(UserError):
            movement.unlink()
        with self.assertRaises(UserError):
            movement.sudo().write({"reason": "tampered"})
        # the opening popup confirmed again with another count: a correcting movement
        session.set_opening_control(350.0, "recounted")
        self.assertEqual(sorted(self.movements(session, "opening_float").mapped("amount")), [50.0, 300.0])
        session.set_opening_control(350.0, "again")
        self.assertEqual(len(self.movements(session, "opening_float")), 2)
        self.assertEqual(session.ru54fz_expected_cash, 350.0)

    def test_till_push_and_pos_sync_of_one_receipt_count_once(self):
        """The till pushes the receipt before the POS order syncs (or after): one movement."""
        session = self.open_new_session(0.0)
        first = self.cash_order([(self.product, 1)])
        second = self.cash_order([(self.product, 2)])
        entries = [
            self._sale_entry(first["uuid"], cash=1000000, fd=11),
            self._sale_entry(second["uuid"], cash=1500000, electronic=500000, fd=12),
        ]
        Session = self.env["pos.session"]
        Session._ru54fz_ingest_till_entries(self.config, entries)
        Session._ru54fz_ingest_till_entries(self.config, entries)  # re-push
        self.assertEqual(session.ru54fz_expected_cash, 25000.0)
        self.assertEqual(session.ru54fz_card_total, 5000.0)
        unsynced = session._ru54fz_unsynced_till_movements()
        self.assertEqual(len(unsynced), 3)
        with self.assertRaisesRegex(UserError, "have not reached the server"):
            session._ru54fz_check_trail_matches_core()

        second["payment_ids"] = [
            (0, 0, {"amount": 15000.0, "name": "x", "payment_method_id": self.cash_pm1.id}),
            (0, 0, {"amount": 5000.0, "name": "y", "payment_method_id": self.bank_pm1.id}),
        ]
        second["amount_paid"] = 20000.0
        self.sync_orders([first, second])
        self.assertEqual(len(self.movements(session)), 4)  # opening + 2 cash + 1 card
        self.assertFalse(session._ru54fz_unsynced_till_movements())
        sale = self.movements(session, "cash_sale").filtered(lambda m: m.operation_uuid == first["uuid"])
        self.assertEqual(sale.fiscal_fd_number, 11)
        self.assertEqual(sale.order_id.uuid, first["uuid"])
        self.assertEqual(session.ru54fz_expected_cash, session.cash_register_balance_end)

    def test_cash_in_out_from_till_and_pos_once(self):
        session = self.open_new_session(0.0)
        op_in, op_out = self.new_uuid(), self.new_uuid()
        entries = [
            {
                "uuid": op_in,
                "hlc": "10",
                "kind": "cash_in",
                "state": "delivered",
                "payload": {"amount": 200000, "cashier": "Ivanova"},
                "fiscal": None,
            },
            {
                "uuid": op_out,
                "hlc": "11",
                "kind": "cash_out",
                "state": "delivered",
                "payload": {"amount": 50000, "cashier": "Ivanova"},
                "fiscal": None,
            },
        ]
        self.env["pos.session"]._ru54fz_ingest_till_entries(self.config, entries)
        # the POS screen also tells core Odoo about the same cash in, with the till's uuid
        session.try_cash_in_out("in", 2000.0, "change float", {"translatedType": "in", "ru54fz_uuid": op_in})
        self.env["pos.session"]._ru54fz_ingest_till_entries(self.config, entries)
        self.assertEqual(len(session.statement_line_ids), 2)
        self.assertEqual(sorted(session.statement_line_ids.mapped("amount")), [-500.0, 2000.0])
        self.assertEqual(session.ru54fz_expected_cash, 1500.0)
        self.assertEqual(session.ru54fz_expected_cash, session.cash_register_balance_end)
        # a plain core cash move (no till uuid) is in the trail too
        session.try_cash_in_out("out", 100.0, "bank deposit", {"translatedType": "out"})
        self.assertEqual(session.ru54fz_expected_cash, 1400.0)
        session.invalidate_recordset(["cash_register_balance_end"])
        self.assertEqual(session.cash_register_balance_end, 1400.0)

    def test_balance_survives_a_reread(self):
        """An Odoo restart re-reads the DB: nothing of the balance lives in memory."""
        session = self.open_new_session(0.0)
        self.sync_orders([self.cash_order([(self.product, 1)]) for _i in range(5)])
        self.env.flush_all()
        self.env.invalidate_all()
        self.env.registry.clear_cache()
        fresh = self.env(context={})["pos.session"].browse(session.id)
        self.assertEqual(fresh.ru54fz_get_cash_state()["cash_balance"], 50000.0)
        self.cr.execute("SELECT sum(amount) FROM optics_cash_movement WHERE session_id = %s", [session.id])
        self.assertEqual(self.cr.fetchone()[0], 50000.0)

    def test_cash_state_for_cashier(self):
        session = self.open_new_session(100.0)
        state = session.with_user(self.cashier).ru54fz_get_cash_state()
        self.assertEqual(state["cash_balance"], 100.0)
        self.assertFalse(state["is_manager"])
        self.assertEqual(state["threshold"], 500.0)
        x = session.with_user(self.cashier).ru54fz_x_report_data()
        self.assertEqual(x["figures"]["cash_balance"], 100.0)
        self.assertTrue(x["kkt_error"], "no till configured: the X report says so")

    def _sale_entry(self, uuid, cash=0, electronic=0, fd=1):
        return {
            "uuid": uuid,
            "hlc": str(1000 + fd),
            "kind": "sale",
            "till_code": "T1",
            "pos_reference": "",
            "state": "fiscalised",
            "payload": {
                "operation": 1,
                "payments": {"cash": cash, "electronic": electronic},
                "total": cash + electronic,
            },
            "fiscal": {
                "fd_number": fd,
                "fiscal_sign": 1234567890 + fd,
                "fn_serial": "9999",
                "shift_number": 1,
                "doc_time": "2026-11-22T10:00:00",
            },
        }


@tagged("post_install", "-at_install")
class TestCashTrailFromTillPush(CashSessionCommon, HttpCase):
    """The till's own push over HTTP (auth="none", no user in the request) puts a cash in
    into the trail and the session's statement at once, not only after the POS syncs."""

    def test_a_pushed_cash_in_lands_in_the_trail_and_the_statement(self):
        session = self.open_new_session(0.0)
        token = tokens.generate()
        self.config.write(
            {"ru54fz_till_code": "TRAIL-1", "ru54fz_central_token_hash": tokens.hash_token(token)}
        )
        op = self.new_uuid()
        entry = {
            "uuid": op,
            "hlc": "20",
            "kind": "cash_in",
            "state": "fiscalised",
            "till_code": "TRAIL-1",
            "payload": {"amount": 150000, "cashier": "Иванова", "reason": "размен"},
            "fiscal": {
                "fd_number": 21,
                "fn_serial": "9999",
                "shift_number": 1,
                "doc_time": "2026-12-04T10:00:00",
            },
        }
        resp = self.opener.post(
            self.base_url() + "/optics_pos_ru54fz/central/push",
            timeout=60,
            data=json.dumps({"till_code": "TRAIL-1", "entries": [entry]}),
            headers={"Content-Type": "application/json", "X-Till-Code": "TRAIL-1", "X-Till-Token": token},
        )
        self.assertEqual(resp.status_code, 200, resp.text)
        self.assertEqual(resp.json()["accepted"], [op])
        movement = self.movements(session, "cash_in")
        self.assertEqual(movement.mapped("operation_uuid"), [op], "the till's cash in is in the trail")
        self.assertEqual(movement.amount, 1500.0)
        self.assertEqual(movement.fiscal_fd_number, 21)
        self.assertEqual(session.statement_line_ids.mapped("amount"), [1500.0])
        self.assertEqual(session.ru54fz_expected_cash, 1500.0)
