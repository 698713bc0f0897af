"""Issue 12, item 1 (sweep of public methods that use sudo()): the cash-account balance helper
reads the ledger as superuser, so it checks the caller's access to the cash accounts first."""

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import RuAccountingCommon


@tagged("post_install", "-at_install")
class TestSecuritySweepCashBalance(RuAccountingCommon):
    def test_cashier_cannot_read_another_stores_cash_balance(self):
        Account = self.env["ru.cash.account"]
        till_b = Account.create(
            {
                "name": "Till B1",
                "store_id": self.store_b.id,
                "account_type": "till",
                "pos_config_id": self.config_b.id,
                "journal_id": Account._get_pos_cash_journal(self.config_b).id,
            }
        )
        till_a = Account.create(
            {
                "name": "Till A1",
                "store_id": self.store_a.id,
                "account_type": "till",
                "pos_config_id": self.config_a.id,
                "journal_id": Account._get_pos_cash_journal(self.config_a).id,
            }
        )
        with self.assertRaises(AccessError):
            till_b.with_user(self.cashier_a).get_balance_at("2026-01-31")
        with self.assertRaises(AccessError):
            (till_a | till_b).with_user(self.cashier_a).get_balance_at("2026-01-31")
        self.assertEqual(till_a.with_user(self.cashier_a).get_balance_at("2026-01-31"), {till_a.id: 0.0})
