from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from .cash_common import CashSessionCommon


@tagged("post_install", "-at_install")
class TestCashReconcile(CashSessionCommon):
    """Closing count by denomination, card slips, the threshold by role, the postings."""

    def _session_with_sales(self, opening=1000.0):
        session = self.open_new_session(opening)
        self.sync_orders(
            [self.cash_order([(self.product, 1)]) for _i in range(3)]
            + [self.cash_order([(self.lens, 2)], payments=[(self.bank_pm1, 5001.0)])]
        )
        return session  # expected cash 31000.00, card 5001.00

    def test_denominations_are_data(self):
        rub = self.env.ref("base.RUB")
        denoms = self.env["optics.cash.denomination"].search([("currency_id", "=", rub.id)])
        notes = sorted(denoms.filtered(lambda d: d.kind == "banknote").mapped("value"))
        coins = sorted(denoms.filtered(lambda d: d.kind == "coin").mapped("value"))
        self.assertEqual(notes, [10, 50, 100, 200, 500, 1000, 2000, 5000])
        self.assertEqual(coins, [0.01, 0.05, 0.1, 0.5, 1, 2, 5, 10])

    def test_count_by_denomination_matches(self):
        session = self._session_with_sales()
        wizard = self.reconcile_wizard(session, self.cashier, counted={5000: 6, 500: 2})
        self.assertEqual(wizard.expected_cash, 31000.0)
        self.assertEqual(wizard.counted_cash, 31000.0)
        self.assertEqual(wizard.cash_difference, 0.0)
        self.assertEqual(len(wizard.count_line_ids), 16)
        self.assertIn("Everything matches", wizard.mismatch_html)
        self.assertTrue(wizard.kkt_error, "no till proxy configured: said, not hidden")
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        self.assertFalse(self.move_lines(session, self.loss_account))
        self.assertFalse(self.move_lines(session, self.profit_account))
        closing = self.movements(session, "closing_count")
        self.assertEqual(closing.amount, 31000.0)
        self.assertFalse(self.movements(session, "difference"))

    def test_small_shortage_by_cashier_posts_loss(self):
        session = self._session_with_sales()
        # 30 999.50 counted: 50 kopecks short, under the 500.00 threshold
        counted = {5000: 6, 500: 1, 200: 2, 50: 1, 5: 9, 2: 2, 0.5: 1}
        wizard = self.reconcile_wizard(session, self.cashier, counted=counted)
        self.assertAlmostEqual(wizard.counted_cash, 30999.5)
        self.assertAlmostEqual(wizard.cash_difference, -0.5)
        self.assertFalse(wizard.over_threshold)
        self.assertIn("Cash", wizard.mismatch_html)
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        loss = self.move_lines(session, self.loss_account)
        self.assertEqual(len(loss), 1)
        self.assertAlmostEqual(loss.debit, 0.5)
        self.assertFalse(self.move_lines(session, self.profit_account))
        diff = self.movements(session, "difference")
        self.assertAlmostEqual(diff.amount, -0.5)
        self.assertAlmostEqual(
            session.ru54fz_expected_cash, 30999.5, msg="after closing the trail's cash is the counted cash"
        )

    def test_large_shortage_refused_for_cashier_everywhere(self):
        session = self._session_with_sales()
        wizard = self.reconcile_wizard(session, self.cashier, counted={5000: 5}, reason="robbed?")
        self.assertTrue(wizard.over_threshold)
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertEqual(session.state, "opened")
        # the POS closing popup path (the browser only checks amount_authorized_diff)
        as_cashier = session.with_user(self.cashier)
        result = as_cashier.post_closing_cash_details(25000.0)
        self.assertFalse(result["successful"])
        self.assertIn("store manager", result["message"])
        # the popup is bypassed: the amount is written and the close is called directly
        session.cash_register_balance_end_real = 25000.0
        as_cashier.update_closing_control_state_session("short")
        result = as_cashier.close_session_from_ui()
        self.assertFalse(result["successful"])
        self.assertNotEqual(session.state, "closed")
        with self.assertRaises(AccessError):
            as_cashier.action_pos_session_closing_control()
        self.assertNotEqual(session.state, "closed")
        self.assertFalse(self.movements(session, "closing_count"))

    def test_large_surplus_manager_needs_reason_then_posts_profit(self):
        session = self._session_with_sales()
        wizard = self.reconcile_wizard(session, self.manager, counted={5000: 6, 2000: 1, 500: 2})
        self.assertEqual(wizard.cash_difference, 2000.0)
        with self.assertRaisesRegex(UserError, "give the reason"):
            wizard.action_confirm()
        self.assertEqual(session.state, "opened")
        wizard.reason = "Customer paid twice; refund pending"
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        profit = self.move_lines(session, self.profit_account)
        self.assertEqual(len(profit), 1)
        self.assertEqual(profit.credit, 2000.0)
        cash_line = profit.move_id.line_ids - profit
        self.assertEqual(cash_line.account_id, self.cash_journal.default_account_id)
        self.assertEqual(cash_line.debit, 2000.0)
        diff = self.movements(session, "difference")
        self.assertEqual(diff.amount, 2000.0)
        self.assertEqual(diff.reason, "Customer paid twice; refund pending")
        self.assertEqual(diff.user_id, self.manager)

    def test_manager_through_pos_popup_path(self):
        session = self._session_with_sales()
        as_manager = session.with_user(self.manager)
        self.assertTrue(as_manager.post_closing_cash_details(30000.0)["successful"])
        as_manager.update_closing_control_state_session("")
        result = as_manager.close_session_from_ui()
        self.assertFalse(result["successful"], "no reason given")
        self.assertIn("reason", result["message"])
        as_manager.update_closing_control_state_session("Shortage: found 1000 short, reported")
        self.assertTrue(as_manager.close_session_from_ui()["successful"])
        self.assertEqual(session.state, "closed")
        loss = self.move_lines(session, self.loss_account)
        self.assertEqual(loss.debit, 1000.0)

    def test_card_slip_difference_posts_to_card_journal(self):
        session = self._session_with_sales()
        wizard = self.reconcile_wizard(
            session, self.cashier, counted={5000: 6, 500: 2}, slips={self.bank_pm1: 5000.0}
        )
        card_line = wizard.card_line_ids
        self.assertEqual(card_line.expected, 5001.0)
        self.assertEqual(card_line.difference, -1.0)
        self.assertIn(self.bank_pm1.name, wizard.mismatch_html)
        wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        loss = self.move_lines(session, self.card_loss_account)
        self.assertEqual(loss.debit, 1.0)
        self.assertEqual(
            self.movements(session, "difference").filtered(lambda m: m.payment_kind == "card").amount, -1.0
        )

    def test_card_slip_over_threshold_refused_for_cashier(self):
        session = self._session_with_sales()
        wizard = self.reconcile_wizard(
            session, self.cashier, counted={5000: 6, 500: 2}, slips={self.bank_pm1: 4001.0}, reason="terminal"
        )
        with self.assertRaises(AccessError):
            wizard.action_confirm()
        self.assertEqual(session.state, "opened")
