import base64
import io

import openpyxl

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import RuAccountingCommon

GP = "ru.pos.gross.profit.report"
RECEIPTS = "ru.pos.sales.analytics.report"


@tagged("post_install", "-at_install")
class TestGrossProfitReport(RuAccountingCommon):
    """Known receipts in store A and store B, then the figures the reports must give.

    Store A, till A1:
      receipt 1: 2 frames at 3000 (VAT-exempt), 10 % discount -> revenue 5400, cost 2 x 1000
                 1 sunglasses at 6100 incl. 22 % VAT            -> revenue 5000, cost 2000
      receipt 2: eye test 1220 incl. 22 % VAT, 50 % discount    -> revenue  500, cost  300
      receipt 3: refund of 1 frame of receipt 1 (10 % discount) -> revenue -2700, cost -1000
    Store B, till B1:
      receipt 4: 1 sunglasses                                    -> revenue 5000, cost 2000
    """

    def setUp(self):
        super().setUp()
        self.session_a = self.open_session(self.config_a)
        self.order_1 = self.sell([(self.frame, 2, 10.0), (self.sunglasses, 1)])
        self.order_2 = self.sell([(self.eye_test, 1, 50.0)])
        frame_line = self.order_1.lines.filtered(lambda ln: ln.product_id == self.frame)
        self.refund = self.sell([(self.frame, -1, 10.0)], refunded_lines=[frame_line])
        self.session_b = self.open_session(self.config_b)
        self.order_4 = self.sell([(self.sunglasses, 1)])
        self.env.flush_all()

    def _totals(self, model, domain, fields, user=None):
        records = self.env[model].with_user(user) if user else self.env[model]
        result = records._read_group(domain, [], [f"{f}:sum" for f in fields])[0]
        return dict(zip(fields, result, strict=True))

    def test_store_figures_exact(self):
        figures = self._totals(
            GP,
            [("store_id", "=", self.store_a.id)],
            [
                "qty",
                "revenue",
                "revenue_incl",
                "gross_amount",
                "discount_amount",
                "cost",
                "gross_profit",
                "margin_percent",
                "discount_share",
            ],
        )
        self.assertAlmostEqual(figures["qty"], 3.0)  # 2 + 1 + 1 - 1
        self.assertAlmostEqual(figures["revenue"], 8200.0, places=2)
        self.assertAlmostEqual(figures["revenue_incl"], 9410.0, places=2)
        self.assertAlmostEqual(figures["gross_amount"], 9000.0, places=2)
        self.assertAlmostEqual(figures["discount_amount"], 800.0, places=2)
        self.assertAlmostEqual(figures["cost"], 3300.0, places=2)
        self.assertAlmostEqual(figures["gross_profit"], 4900.0, places=2)
        # ratios of the group's sums, not averages of line ratios
        self.assertAlmostEqual(figures["margin_percent"], 4900.0 / 8200.0 * 100, places=4)
        self.assertAlmostEqual(figures["discount_share"], 800.0 / 9000.0 * 100, places=4)

    def test_vat_exempt_and_taxed_lines(self):
        by_categ = {
            categ: (revenue, revenue_incl)
            for categ, revenue, revenue_incl in self.env[GP]._read_group(
                [("order_id", "=", self.order_1.id)], ["categ_id"], ["revenue:sum", "revenue_incl:sum"]
            )
        }
        # exempt: what the customer pays is the revenue
        self.assertAlmostEqual(by_categ[self.categ_frames][0], 5400.0, places=2)
        self.assertAlmostEqual(by_categ[self.categ_frames][1], 5400.0, places=2)
        # 22 % included: 6100 / 1.22
        self.assertAlmostEqual(by_categ[self.categ_sun][0], 5000.0, places=2)
        self.assertAlmostEqual(by_categ[self.categ_sun][1], 6100.0, places=2)

    def test_refund_reduces_revenue_and_cost(self):
        refund = self._totals(
            GP, [("order_id", "=", self.refund.id)], ["qty", "revenue", "cost", "gross_profit"]
        )
        self.assertEqual(refund, {"qty": -1.0, "revenue": -2700.0, "cost": -1000.0, "gross_profit": -1700.0})
        frames = self._totals(
            GP,
            [("product_id", "=", self.frame.id), ("store_id", "=", self.store_a.id)],
            ["qty", "revenue", "cost"],
        )
        self.assertEqual(frames, {"qty": 1.0, "revenue": 2700.0, "cost": 1000.0})
        self.assertTrue(all(self.env[GP].search([("order_id", "=", self.refund.id)]).mapped("is_refund")))

    def test_cost_sources(self):
        lines = self.env[GP].search([("store_id", "=", self.store_a.id)])
        sources = {(line.product_id, line.is_refund): line.cost_source for line in lines}
        # storable goods: valued stock moves of the order's picking (also the return)
        self.assertEqual(sources[(self.frame, False)], "valuation")
        self.assertEqual(sources[(self.frame, True)], "valuation")
        self.assertEqual(sources[(self.sunglasses, False)], "valuation")
        # a service has no stock move: the cost Odoo froze on the line at sale time
        self.assertEqual(sources[(self.eye_test, False)], "pos")

    def test_valuation_cost_wins_over_current_cost(self):
        """Changing the product cost after the sale must not rewrite history."""
        self.frame.standard_price = 5000.0
        self.eye_test.standard_price = 900.0
        self.env.flush_all()
        figures = self._totals(GP, [("order_id", "=", self.order_1.id)], ["cost"])
        self.assertAlmostEqual(figures["cost"], 4000.0, places=2)
        figures = self._totals(GP, [("order_id", "=", self.order_2.id)], ["cost"])
        self.assertAlmostEqual(figures["cost"], 300.0, places=2)

    def test_session_closing_pickings_give_valuation_cost(self):
        """Stock updated at closing: the cost frozen at sale first, the valued cost of the
        session's picking once the session is closed."""
        self.close_session(self.session_a)
        self.company.point_of_sale_update_stock_quantities = "closing"
        session = self.open_session(self.config_a)
        self.assertTrue(session.update_stock_at_closing)
        order = self.sell([(self.frame, 3)])
        line = self.env[GP].search([("order_id", "=", order.id)])
        self.assertNotEqual(line.cost_source, "valuation")  # nothing valued before the closing
        self.assertEqual(line.cost, 3000.0)
        self.frame.standard_price = 1200.0  # the layers of the closing value at the new cost
        self.close_session(session)
        self.env.invalidate_all()
        line = self.env[GP].search([("order_id", "=", order.id)])
        self.assertEqual((line.cost_source, line.cost), ("valuation", 3600.0))

    def test_dimensions(self):
        by_config = dict(self.env[GP]._read_group([], ["config_id"], ["revenue:sum"]))
        self.assertAlmostEqual(by_config[self.config_a], 8200.0, places=2)
        self.assertAlmostEqual(by_config[self.config_b], 5000.0, places=2)
        by_user = dict(
            self.env[GP]._read_group(
                [("store_id", "in", (self.store_a | self.store_b).ids)], ["user_id"], ["revenue:sum"]
            )
        )
        self.assertAlmostEqual(by_user[self.env.user], 13200.0, places=2)
        by_month = self.env[GP]._read_group(
            [("store_id", "=", self.store_a.id)], ["date:month", "store_id"], ["gross_profit:sum"]
        )
        self.assertEqual(len(by_month), 1)
        self.assertAlmostEqual(by_month[0][2], 4900.0, places=2)
        for granularity in ("day", "week"):
            rows = self.env[GP]._read_group(
                [("store_id", "=", self.store_a.id)], [f"date:{granularity}"], ["revenue:sum"]
            )
            self.assertAlmostEqual(sum(r[1] for r in rows), 8200.0, places=2)

    def test_receipt_analytics(self):
        figures = self._totals(
            RECEIPTS,
            [("store_id", "=", self.store_a.id)],
            [
                "receipt_count",
                "sale_count",
                "refund_count",
                "sale_amount",
                "amount_total",
                "average_receipt",
                "refund_rate",
                "refund_amount",
            ],
        )
        self.assertEqual(figures["receipt_count"], 3)
        self.assertEqual(figures["sale_count"], 2)
        self.assertEqual(figures["refund_count"], 1)
        self.assertAlmostEqual(figures["sale_amount"], 11500.0 + 610.0, places=2)
        self.assertAlmostEqual(figures["refund_amount"], 2700.0, places=2)
        self.assertAlmostEqual(figures["amount_total"], 9410.0, places=2)
        self.assertAlmostEqual(figures["average_receipt"], 12110.0 / 2, places=2)
        self.assertAlmostEqual(figures["refund_rate"], 100.0 / 3, places=4)

    def test_store_manager_sees_own_store_only(self):
        rows = (
            self.env[GP]
            .with_user(self.manager_a)
            ._read_group([], ["store_id"], ["revenue:sum", "gross_profit:sum"])
        )
        self.assertEqual([r[0] for r in rows], [self.store_a])
        self.assertAlmostEqual(rows[0][2], 4900.0, places=2)
        receipts = (
            self.env[RECEIPTS].with_user(self.manager_b)._read_group([], ["store_id"], ["receipt_count:sum"])
        )
        self.assertEqual([(r[0], r[1]) for r in receipts], [(self.store_b, 1)])
        self.assertFalse(self.env[GP].with_user(self.manager_b).search([("order_id", "=", self.order_1.id)]))

    def test_accountant_sees_all_stores(self):
        stores = {
            r[0]
            for r in self.env[GP]
            .with_user(self.accountant)
            ._read_group([("store_id", "in", (self.store_a | self.store_b).ids)], ["store_id"], ["cost:sum"])
        }
        self.assertEqual(stores, {self.store_a, self.store_b})
        # the pivot's path formats till and cashier names: the accountant may read them
        groups = (
            self.env[GP]
            .with_user(self.accountant)
            .read_group(
                [("store_id", "in", (self.store_a | self.store_b).ids)], ["gross_profit:sum"], ["config_id"]
            )
        )
        self.assertEqual({g["config_id"][1] for g in groups}, {"Till A1", "Till B1"})

    def test_cashier_gets_basic_figures_only(self):
        report = self.env[GP].with_user(self.cashier_a)
        rows = report._read_group([], ["store_id"], ["revenue:sum"])
        self.assertEqual([r[0] for r in rows], [self.store_a])
        self.assertAlmostEqual(rows[0][1], 8200.0, places=2)
        for measure in ("cost:sum", "gross_profit:sum", "margin_percent:avg", "discount_amount:sum"):
            with self.assertRaises(AccessError):
                report._read_group([], ["store_id"], [measure])
        with self.assertRaises(AccessError):
            self.env[RECEIPTS].with_user(self.cashier_a)._read_group([], [], ["refund_rate:avg"])
        fields = report.fields_get()
        self.assertIn("revenue", fields)
        self.assertNotIn("gross_profit", fields)
        arch = report.get_view(
            self.env.ref("ru_accounting_extras.ru_pos_gross_profit_report_view_pivot").id, "pivot"
        )["arch"]
        self.assertIn('name="revenue"', arch)
        self.assertNotIn('name="cost"', arch)

    def test_public_read_group_ratio(self):
        """The web client's read_group path (pivot) gets the weighted margin too."""
        groups = self.env[GP].read_group(
            [("store_id", "=", self.store_a.id)], ["revenue:sum", "margin_percent:avg"], ["categ_id"]
        )
        margins = {g["categ_id"][0]: g["margin_percent"] for g in groups}
        self.assertAlmostEqual(margins[self.categ_frames.id], (2700.0 - 1000.0) / 2700.0 * 100, places=4)
        self.assertAlmostEqual(margins[self.categ_services.id], 40.0, places=4)

    def test_summary_xlsx(self):
        wizard = self.env["ru.gross.profit.summary.wizard"].create(
            {"store_ids": [(6, 0, (self.store_a | self.store_b).ids)], "group_by": "store"}
        )
        action = wizard.action_export_xlsx()
        self.assertIn("/xlsx_file/", action["url"])
        sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(wizard.xlsx_file))).active
        header = [c.value for c in sheet[4]]
        rows = {
            row[0]: dict(zip(header, row, strict=False))
            for row in sheet.iter_rows(min_row=5, values_only=True)
        }
        revenue, profit, receipts = "Revenue (excl. VAT)", "Gross Profit", "Receipts"
        self.assertAlmostEqual(rows["Store A"][revenue], 8200.0, places=2)
        self.assertAlmostEqual(rows["Store A"][profit], 4900.0, places=2)
        self.assertEqual(rows["Store A"][receipts], 3)
        self.assertAlmostEqual(rows["Store B"][profit], 3000.0, places=2)
        self.assertAlmostEqual(rows["Total"][revenue], 13200.0, places=2)

        # a cashier's workbook has no cost columns and only their store
        cashier_wizard = (
            self.env["ru.gross.profit.summary.wizard"].with_user(self.cashier_a).create({"group_by": "categ"})
        )
        cashier_wizard.action_export_xlsx()
        sheet = openpyxl.load_workbook(io.BytesIO(base64.b64decode(cashier_wizard.xlsx_file))).active
        header = [c.value for c in sheet[4]]
        self.assertIn(revenue, header)
        self.assertNotIn(profit, header)
        self.assertNotIn("Cost of Goods", header)
        total = [row for row in sheet.iter_rows(min_row=5, values_only=True) if row[0] == "Total"][0]
        self.assertAlmostEqual(total[header.index(revenue)], 8200.0, places=2)

    def test_summary_pdf_renders(self):
        wizard = (
            self.env["ru.gross.profit.summary.wizard"].with_user(self.manager_a).create({"group_by": "categ"})
        )
        html, _kind = (
            self.env["ir.actions.report"]
            .with_user(self.manager_a)
            ._render_qweb_html("ru_accounting_extras.report_gross_profit_summary", wizard.ids)
        )
        html = html.decode()
        self.assertIn("Frames", html)
        self.assertIn("Services", html)
        self.assertIn("4900.00", html)  # gross profit total of store A
        self.assertNotIn("Store B", html)
