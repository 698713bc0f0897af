import ast
import itertools
from datetime import date, timedelta
from unittest.mock import patch

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.optics_core.opticslib import laborder

from .common import OpticsCase

ACTIONS = {
    ("draft", "confirmed"): "action_confirm",
    ("confirmed", "ordered"): "action_order",
    ("confirmed", "in_production"): "action_start_production",
    ("ordered", "in_production"): "action_start_production",
    ("in_production", "quality_check"): "action_to_quality_check",
    ("quality_check", "ready"): "action_quality_ok",
    ("quality_check", "in_production"): "action_quality_failed",
    ("ready", "issued"): "action_issue",
    ("cancelled", "draft"): "action_reopen",
}
# Who may do what (the issue's role rules); admin may do everything.
EXPECTED = {
    "action_confirm": {"cashier", "optician", "manager", "admin"},
    "action_order": {"optician", "manager", "admin"},
    "action_start_production": {"optician", "manager", "admin"},
    "action_to_quality_check": {"optician", "admin"},
    "action_quality_ok": {"optician", "admin"},
    "action_quality_failed": {"optician", "admin"},
    "action_issue": {"cashier", "optician", "manager", "admin"},
    "action_reopen": {"manager", "admin"},
}
TARGET_OF = {
    "action_confirm": "confirmed",
    "action_order": "ordered",
    "action_start_production": "in_production",
    "action_to_quality_check": "quality_check",
    "action_quality_ok": "ready",
    "action_quality_failed": "in_production",
    "action_issue": "issued",
    "action_cancel": "cancelled",
    "action_reopen": "draft",
}


@tagged("post_install", "-at_install")
class TestOpticsLabOrder(OpticsCase):
    def _call_as(self, role, order, method):
        return getattr(order.with_user(self.users[role]), method)()

    def test_every_allowed_and_forbidden_transition_by_role(self):
        for (source, target), method in ACTIONS.items():
            for role in self.users:
                with self.subTest(source=source, target=target, role=role):
                    order = self._force_state(self._order(), source)
                    if role in EXPECTED[method]:
                        self._call_as(role, order, method)
                        self.assertEqual(order.state, target)
                    else:
                        with self.assertRaises(AccessError):
                            self._call_as(role, order, method)
                        self.assertEqual(order.state, source)

    def test_cancel_by_role(self):
        for source in laborder.OPEN_STATES:
            for role in self.users:
                expected = role in laborder.roles_for(source, "cancelled")
                with self.subTest(source=source, role=role):
                    order = self._force_state(self._order(), source)
                    if expected:
                        self._call_as(role, order, "action_cancel")
                        self.assertEqual(order.state, "cancelled")
                    else:
                        with self.assertRaises(AccessError):
                            self._call_as(role, order, "action_cancel")
                        self.assertEqual(order.state, source)
        self.assertEqual(laborder.roles_for("draft", "cancelled"), {"cashier", "manager", "admin"})

    def test_transitions_that_do_not_exist_are_refused_even_for_admin(self):
        allowed_pairs = {(t.source, t.target) for t in laborder.TRANSITIONS}
        for source, method in itertools.product(laborder.STATES, TARGET_OF):
            target = TARGET_OF[method]
            if (source, target) in allowed_pairs:
                continue
            with self.subTest(source=source, method=method):
                order = self._force_state(self._order(), source)
                with self.assertRaises(UserError):
                    self._call_as("admin", order, method)
                self.assertEqual(order.state, source)

    def test_state_cannot_be_written_directly(self):
        order = self._order()
        with self.assertRaises(UserError):
            order.with_user(self.users["manager"]).write({"state": "ready"})
        self.assertEqual(order.state, "draft")

    def test_allowed_actions_follow_the_user(self):
        order = self._force_state(self._order(), "quality_check")
        self.assertEqual(
            set(order.with_user(self.users["optician"]).allowed_action_ids.split()),
            {"ready", "in_production"},
        )
        self.assertEqual(order.with_user(self.users["cashier"]).allowed_action_ids, "")
        self.assertEqual(order.with_user(self.users["manager"]).allowed_action_ids, "cancelled")

    def test_confirm_snapshots_fills_kit_and_promises(self):
        order = self._order(
            frame_product_id=self.frame.id, od_design_id=self.design_sv.id, os_design_id=self.design_sv.id
        )
        order.with_user(self.users["cashier"]).action_confirm()
        snap = order.rx_snapshot_id
        self.assertTrue(snap)
        self.assertNotEqual(snap, self.rx)
        self.assertEqual(snap.source_prescription_id, self.rx)
        self.assertEqual(snap.snapshot_lab_order_id, order)
        self.assertEqual((snap.od_sph, snap.od_cyl, snap.od_axis), (-2.25, -0.75, 10))
        self.assertEqual(sorted(order.line_ids.mapped("role")), ["frame", "lens_od", "lens_os", "work"])
        self.assertAlmostEqual(
            order.amount_total,
            5000 + 2 * 2000 + order.line_ids.filtered(lambda ln: ln.role == "work").price_total,
        )
        self.assertTrue(order.promised_date)

    def test_snapshot_is_immutable(self):
        order = self._order(od_design_id=self.design_sv.id, os_design_id=self.design_sv.id)
        order.action_confirm()
        snap = order.rx_snapshot_id
        # The customer's prescription changes later: the order keeps what was confirmed.
        self.rx.write({"od_sph": -3.0, "os_sph": -3.5})
        self.assertEqual(snap.od_sph, -2.25)
        self.assertEqual(snap.os_sph, -2.0)
        with self.assertRaises(UserError):
            snap.with_user(self.users["manager"]).write({"od_sph": -3.0})
        other = self.env["optics.prescription"].create({"partner_id": self.customer.id, "od_sph": 1.0})
        with self.assertRaises(UserError):
            order.write({"rx_snapshot_id": other.id})
        with self.assertRaises(UserError):
            order.with_user(self.users["manager"]).write({"prescription_id": other.id})
        with self.assertRaises(UserError):
            order.write({"od_design_id": False})
        self.assertEqual(order.rx_snapshot_id, snap)
        self.assertEqual(snap.od_sph, -2.25)
        # Ticket and makeability read the snapshot, not the edited prescription.
        self.assertEqual(order._get_makeability_problems(), [])

    def test_confirm_refuses_what_cannot_be_made(self):
        strong = self.env["optics.prescription"].create(
            {"partner_id": self.customer.id, "od_sph": -7.0, "od_cyl": -1.5, "od_axis": 90, "os_sph": -1.0}
        )
        order = self._order(
            prescription_id=strong.id, od_design_id=self.design_sv.id, os_design_id=self.design_sv.id
        )
        # 65 mm: SPH -7.00 fits but SPH + CYL = -8.50 does not; 70 mm: neither.
        with self.assertRaises(UserError) as cm:
            order.action_confirm()
        self.assertIn("principal meridian 2", str(cm.exception))
        self.assertIn("-8.50", str(cm.exception))
        self.assertEqual(order.state, "draft")
        self.assertFalse(order.rx_snapshot_id)

    def test_progressive_fitting_height_and_frame(self):
        order = self._order(
            frame_product_id=self.frame.id, od_design_id=self.design_pal.id, os_design_id=self.design_pal.id
        )
        self.assertEqual(order._get_makeability_problems(), [])
        order.frame_product_id = self.shallow_frame
        problems = order._get_makeability_problems()
        self.assertTrue(any("up to 14" in p for p in problems), problems)
        low = self.env["optics.prescription"].create(
            {
                "partner_id": self.customer.id,
                "od_sph": 1.0,
                "os_sph": 1.0,
                "od_add": 2.0,
                "os_add": 2.0,
                "od_fitting_height": 16,
                "os_fitting_height": 17,
            }
        )
        order2 = self._order(
            frame_product_id=self.frame.id,
            prescription_id=low.id,
            od_design_id=self.design_pal.id,
            os_design_id=self.design_pal.id,
        )
        problems = order2._get_makeability_problems()
        self.assertEqual(len(problems), 1)
        self.assertIn("OD: fitting height 16", problems[0])
        with self.assertRaises(UserError):
            order2.action_confirm()

    def test_promised_date_uses_lead_times_and_working_days(self):
        self.company.optics_assembly_days = 1
        lt = self.env["optics.lead.time"]
        lt.search([("company_id", "=", self.company.id)]).unlink()
        lt.create({"lens_type": "progressive", "lens_source": "supplier", "days": 4})
        lt.create({"lens_type": "single", "lens_source": "stock", "days": 0})
        friday = date(2026, 11, 20)
        order = self._order(
            od_design_id=self.design_pal.id,
            os_design_id=self.design_sv.id,
            os_lens_source="stock",
            frame_product_id=self.frame.id,
        )
        with patch.object(fields.Date, "context_today", return_value=friday):
            promised = order._compute_promised_date()
        # 4 days for the progressive lens + 1 workshop day, Saturdays and Sundays skipped
        self.assertEqual(promised, date(2026, 11, 27))
        order.od_lens_source = "stock"
        with patch.object(fields.Date, "context_today", return_value=friday):
            self.assertEqual(order._compute_promised_date(), date(2026, 11, 25))  # default 2 + 1

    def test_overdue_flag_and_list(self):
        today = fields.Date.context_today(self.env["optics.lab.order"])
        late = self._force_state(self._order(promised_date=today - timedelta(days=1)), "in_production")
        on_time = self._force_state(self._order(promised_date=today), "in_production")
        done = self._force_state(self._order(promised_date=today - timedelta(days=5)), "issued")
        draft = self._order(promised_date=today - timedelta(days=5))
        self.assertTrue(late.is_overdue)
        self.assertFalse(on_time.is_overdue or done.is_overdue or draft.is_overdue)
        overdue = self.env["optics.lab.order"].search([("is_overdue", "=", True)])
        self.assertIn(late, overdue)
        self.assertFalse((on_time | done | draft) & overdue)
        not_overdue = self.env["optics.lab.order"].search([("is_overdue", "=", False)])
        self.assertIn(on_time, not_overdue)
        self.assertNotIn(late, not_overdue)
        action = self.env.ref("optics_core.optics_lab_order_overdue_action")
        self.assertIn(late, self.env["optics.lab.order"].search(ast.literal_eval(action.domain)))

    def test_remake_links_and_reason(self):
        order = self._order(od_design_id=self.design_sv.id, os_design_id=self.design_sv.id)
        order.action_confirm()
        self._force_state(order, "issued")
        with self.assertRaises(AccessError):
            order.with_user(self.users["cashier"])._create_remake("lab_error")
        wizard = (
            self.env["optics.lab.order.remake"]
            .with_user(self.users["optician"])
            .create({"order_id": order.id, "reason": "measurement", "note": "PD measured wrong"})
        )
        action = wizard.action_remake()
        remake = self.env["optics.lab.order"].browse(action["res_id"])
        self.assertEqual(remake.remake_of_id, order)
        self.assertEqual(order.remake_ids, remake)
        self.assertEqual(order.remake_count, 1)
        self.assertEqual(remake.remake_reason, "measurement")
        self.assertEqual(remake.state, "draft")
        self.assertEqual(remake.prescription_id, self.rx)
        self.assertFalse(remake.rx_snapshot_id)
        self.assertEqual(order.state, "issued")  # the customer has the first pair
        # a remake from quality check replaces the original
        order2 = self._force_state(self._order(), "quality_check")
        remake2 = order2.with_user(self.users["manager"])._create_remake("breakage")
        self.assertEqual(order2.state, "cancelled")
        self.assertEqual(remake2.remake_of_id, order2)
        with self.assertRaises(UserError):
            self._force_state(self._order(), "draft")._create_remake("other")

    def test_ready_notifies_customer(self):
        self.customer.email = "customer@example.com"
        order = self._force_state(self._order(), "quality_check")
        order.with_user(self.users["optician"]).action_quality_ok()
        self.assertTrue(order.date_ready)
        mail = self.env["mail.message"].search(
            [("model", "=", "optics.lab.order"), ("res_id", "=", order.id), ("message_type", "=", "comment")],
            limit=1,
        )
        self.assertIn("ready", mail.subject or mail.body)
        self.assertIn(self.customer, mail.partner_ids)
        no_mail = self.env["res.partner"].create({"name": "No mail", "phone": "+7 900 000-00-01"})
        rx2 = self.rx.copy({"partner_id": no_mail.id})
        order2 = self._force_state(
            self._order(partner_id=no_mail.id, prescription_id=rx2.id), "quality_check"
        )
        order2.action_quality_ok()
        self.assertIn("+7 900 000-00-01", order2.message_ids[0].body)

    def test_issue_needs_the_balance_paid(self):
        order = self._order(
            frame_product_id=self.frame.id,
            od_design_id=self.design_sv.id,
            os_design_id=self.design_sv.id,
            prepayment_amount=3000,
        )
        order.action_confirm()
        total_kop = int(round(order.amount_total * 100))
        order._register_fiscal_settlement("prepayment", 300000)
        self._force_state(order, "ready")
        with self.assertRaises(UserError):
            order.with_user(self.users["cashier"]).action_issue()
        order._register_fiscal_settlement("handover", total_kop - 300000)
        self.assertEqual(order.amount_due, 0)
        order.with_user(self.users["cashier"]).action_issue()
        self.assertEqual(order.state, "issued")
        with self.assertRaises(UserError):
            order._register_fiscal_settlement("handover", 100)

    def test_fiscal_settlement_lines(self):
        order = self._order(
            frame_product_id=self.frame.id,
            od_design_id=self.design_sv.id,
            os_design_id=self.design_sv.id,
            prepayment_amount=4000,
        )
        order.action_confirm()
        work = order.line_ids.filtered(lambda ln: ln.role == "work")
        work.with_context(optics_lab_order_transition=True).write({"tax_ids": [(6, 0, self.tax_22.ids)]})
        total = int(round(order.amount_total * 100))
        # advance: 1214 = 3, one line per VAT code, calculated rate 22/122 = 12 for the taxable part
        adv = order._get_fiscal_settlement_lines("prepayment")
        self.assertEqual(adv["total"], 400000)
        self.assertEqual(sum(ln["amount"] for ln in adv["lines"]), 400000)
        self.assertEqual({ln["payment_method"] for ln in adv["lines"]}, {3})
        self.assertEqual({ln["subject"] for ln in adv["lines"]}, {10})
        self.assertEqual({ln["vat_code"] for ln in adv["lines"]}, {6, 12} if work.price_total else {6})
        # 100 % prepayment: 1214 = 1, the goods themselves
        full = order._get_fiscal_settlement_lines("prepayment", amount=total)
        self.assertEqual({ln["payment_method"] for ln in full["lines"]}, {1})
        self.assertEqual(len(full["lines"]), len(order.line_ids))
        self.assertEqual(sum(ln["amount"] for ln in full["lines"]), total)
        with self.assertRaises(UserError):
            order._get_fiscal_settlement_lines("prepayment", amount=total + 1)
        order._register_fiscal_settlement("prepayment", 400000)
        with self.assertRaises(UserError):
            order._get_fiscal_settlement_lines("handover")  # not ready yet
        self._force_state(order, "ready")
        hand = order._get_fiscal_settlement_lines("handover")
        self.assertEqual({ln["payment_method"] for ln in hand["lines"]}, {4})
        self.assertEqual(hand["prepaid"], 400000)
        self.assertEqual(hand["due"], total - 400000)
        self.assertEqual(sum(ln["amount"] for ln in hand["lines"]), total)
        frame_line = next(ln for ln in hand["lines"] if ln["barcode"] == "4600000000017")
        self.assertEqual((frame_line["vat_code"], frame_line["subject"]), (6, 1))
        if work.price_total:
            work_line = next(ln for ln in hand["lines"] if ln["subject"] == 4)
            self.assertEqual(work_line["vat_code"], 11)
        with self.assertRaises(UserError):
            order._get_fiscal_settlement_lines("layaway")

    def test_lab_orders_are_store_scoped(self):
        order_a = self._order()
        order_b = self._order(store_id=self.store_b.id)
        Lab = self.env["optics.lab.order"]
        both = (order_a | order_b).ids
        for role in ("cashier", "optician", "manager"):
            with self.subTest(role=role):
                self.assertEqual(Lab.with_user(self.users[role]).search([("id", "in", both)]), order_a)
        self.assertEqual(Lab.with_user(self.cashier_b).search([("id", "in", both)]), order_b)
        for role in ("accountant", "admin"):
            self.assertEqual(len(Lab.with_user(self.users[role]).search([("id", "in", both)])), 2)
        with self.assertRaises(AccessError):
            order_b.with_user(self.users["cashier"]).action_confirm()
        with self.assertRaises(AccessError):
            order_a.with_user(self.users["accountant"]).write({"note": "x"})

    def test_search_by_phone(self):
        order = self._order()
        found = self.env["optics.lab.order"].name_search("111-22")
        self.assertIn(order.id, [r[0] for r in found])
