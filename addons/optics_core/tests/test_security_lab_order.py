"""Issue 12, item 7: context keys and readonly fields are not authorisation.

A cashier sends, over XML-RPC, the context keys the server code used to trust
(``optics_lab_order_transition``, ``optics_snapshot_write``) and writes the money fields the
form shows read-only: each attempt is refused and nothing changes.
"""

import xmlrpc.client

from odoo.tests import HttpCase, tagged

from .common import OpticsCase, rpc_as

# fault codes of /xmlrpc/2/object (odoo/addons/base/controllers/rpc.py)
USER_ERROR, ACCESS_ERROR = 2, 4
TRUSTED_ONCE = {"optics_lab_order_transition": True, "optics_snapshot_write": True}


@tagged("post_install", "-at_install")
class TestSecurityLabOrder(HttpCase, OpticsCase):
    def _rpc(self, user, model, method, args, context=None):
        return rpc_as(self, user, model, method, args, {"context": dict(context or {})})

    def _refused(self, user, model, method, args, context=None, codes=(ACCESS_ERROR,)):
        context = TRUSTED_ONCE if context is None else context
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._rpc(user, model, method, args, context)
        self.assertIn(caught.exception.faultCode, codes, caught.exception.faultString)
        return caught.exception.faultString

    def _ready_order(self):
        order = self._order(
            frame_product_id=self.frame.id, od_design_id=self.design_pal.id, os_design_id=self.design_pal.id
        )
        order.action_fill_kit_lines()
        self.assertGreater(order.amount_total, 0)
        return self._force_state(order, "ready")

    def test_cashier_cannot_skip_the_quality_check_with_a_context_key(self):
        order = self._force_state(self._order(), "quality_check")
        for user in (self.users["cashier"], self.cashier_b):
            with self.subTest(user=user.login):
                self._refused(
                    user,
                    "optics.lab.order",
                    "write",
                    [[order.id], {"state": "ready"}],
                    codes=(USER_ERROR, ACCESS_ERROR),
                )
                self._refused(user, "optics.lab.order", "action_quality_ok", [[order.id]])
        order.invalidate_recordset()
        self.assertEqual(order.state, "quality_check")
        self.assertFalse(order.date_ready)
        # the optician, whose job it is, still signs it off
        self._rpc(self.users["optician"], "optics.lab.order", "action_quality_ok", [[order.id]])
        order.invalidate_recordset()
        self.assertEqual(order.state, "ready")

    def test_cashier_cannot_mark_glasses_paid_and_issue_them(self):
        order = self._ready_order()
        cashier = self.users["cashier"]
        for field in ("amount_prepaid", "amount_paid_handover"):
            with self.subTest(field=field):
                message = self._refused(
                    cashier, "optics.lab.order", "write", [[order.id], {field: order.amount_total}]
                )
                self.assertIn("fiscalised POS receipts", message)
        # the writer of these amounts is private: not callable over RPC at all
        self._refused(
            cashier, "optics.lab.order", "_register_fiscal_settlement", [[order.id], "handover", 100]
        )
        order.invalidate_recordset()
        self.assertEqual((order.amount_prepaid, order.amount_paid_handover), (0.0, 0.0))
        self.assertEqual(order.amount_due, order.amount_total)
        message = self._refused(
            cashier, "optics.lab.order", "action_issue", [[order.id]], codes=(USER_ERROR,)
        )
        self.assertIn("not paid yet", message)
        order.invalidate_recordset()
        self.assertEqual(order.state, "ready")
        self.assertFalse(order.date_issued)

    def test_cashier_cannot_create_an_order_already_paid_or_advanced(self):
        Order = self.env["optics.lab.order"]
        before = Order.search_count([])
        base = {"partner_id": self.customer.id, "store_id": self.store_a.id, "prescription_id": self.rx.id}
        for extra in (
            {"state": "ready"},
            {"amount_prepaid": 9000.0},
            {"amount_paid_handover": 9000.0},
            {"date_issued": "2026-01-01 10:00:00"},
        ):
            with self.subTest(extra=extra):
                self._refused(self.users["cashier"], "optics.lab.order", "create", [dict(base, **extra)])
        self.assertEqual(Order.search_count([]), before)
        # a plain draft is what a cashier makes
        new_id = self._rpc(self.users["cashier"], "optics.lab.order", "create", [base])
        self.assertEqual(Order.browse(new_id).state, "draft")

    def test_cashier_cannot_edit_or_delete_a_frozen_snapshot(self):
        order = self._order(
            frame_product_id=self.frame.id, od_design_id=self.design_pal.id, os_design_id=self.design_pal.id
        )
        order.with_user(self.users["cashier"]).action_confirm()
        snapshot = order.rx_snapshot_id
        self.assertTrue(snapshot.snapshot_lab_order_id)
        cashier = self.users["cashier"]
        self._refused(
            cashier, "optics.prescription", "write", [[snapshot.id], {"od_sph": 4.0}], codes=(USER_ERROR,)
        )
        self._refused(
            cashier, "optics.prescription", "unlink", [[snapshot.id]], codes=(USER_ERROR, ACCESS_ERROR)
        )
        # nor forge one: a prescription attached to the order as its "snapshot"
        self._refused(
            cashier,
            "optics.prescription",
            "create",
            [{"partner_id": self.customer.id, "od_sph": 4.0, "snapshot_lab_order_id": order.id}],
        )
        self._refused(
            cashier, "optics.prescription", "write", [[self.rx.id], {"snapshot_lab_order_id": order.id}]
        )
        snapshot.invalidate_recordset()
        self.rx.invalidate_recordset()
        self.assertTrue(snapshot.exists())
        self.assertEqual(snapshot.od_sph, -2.25)
        self.assertFalse(self.rx.snapshot_lab_order_id)
        self.assertEqual(
            self.env["optics.prescription"]
            .with_context(active_test=False)
            .search_count([("snapshot_lab_order_id", "=", order.id)]),
            1,
        )
