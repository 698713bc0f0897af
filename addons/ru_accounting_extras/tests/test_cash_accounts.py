import shutil
from datetime import date

from odoo import Command, fields
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged

from .common import RuAccountingCommon

JAN10, JAN11, JAN12 = date(2026, 1, 10), date(2026, 1, 11), date(2026, 1, 12)


@tagged("post_install", "-at_install")
class TestCashAccounts(RuAccountingCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Account = env["ru.cash.account"]
        cls.transit = env["account.account"].create(
            {"code": "5701", "name": "Cash in transit", "account_type": "asset_current"}
        )
        cls.company.write(
            {
                "ru_cash_transfer_account_id": cls.transit.id,
                "ru_cash_manager_approval_limit": 50000.0,
                "ru_cash_writeoff_manager_limit": 0.0,
            }
        )
        cls.other_income = cls.company_data["default_account_revenue"]
        bank_journal = cls.company_data["default_journal_bank"]

        def journal(name, code):
            return env["account.journal"].create({"name": name, "code": code, "type": "cash"})

        cls.till_a = Account.create(
            {
                "name": "Till A1",
                "store_id": cls.store_a.id,
                "account_type": "till",
                "pos_config_id": cls.config_a.id,
                "journal_id": Account._get_pos_cash_journal(cls.config_a).id,
            }
        )
        cls.safe_a = Account.create(
            {
                "name": "Safe A",
                "store_id": cls.store_a.id,
                "account_type": "safe",
                "journal_id": journal("Safe A", "SFA").id,
            }
        )
        cls.bank_a = Account.create(
            {
                "name": "Bank (store A)",
                "store_id": cls.store_a.id,
                "account_type": "bank",
                "journal_id": bank_journal.id,
            }
        )
        cls.till_b = Account.create(
            {
                "name": "Till B1",
                "store_id": cls.store_b.id,
                "account_type": "till",
                "pos_config_id": cls.config_b.id,
                "journal_id": Account._get_pos_cash_journal(cls.config_b).id,
            }
        )
        cls.expense = cls.company_data["default_account_expense"]
        cls.reason_shortage = env["ru.cash.writeoff.reason"].create(
            {"name": "Shortage at counting", "expense_account_id": cls.expense.id}
        )

    def seed(self, cash_account, amount, when):
        """Cash arriving in a cash account, as posted by the ledger."""
        move = self.env["account.move"].create(
            {
                "move_type": "entry",
                "journal_id": cash_account.journal_id.id,
                "date": when,
                "line_ids": [
                    Command.create(
                        {"name": "seed", "account_id": cash_account.account_id.id, "balance": amount}
                    ),
                    Command.create({"name": "seed", "account_id": self.other_income.id, "balance": -amount}),
                ],
            }
        )
        move.action_post()
        return move

    def new_transfer(self, user, source, dest, amount, when=JAN11, **extra):
        return (
            self.env["ru.cash.transfer"]
            .with_user(user)
            .create(
                {
                    "operation": "transfer" if dest else "write_off",
                    "source_account_id": source.id,
                    "dest_account_id": dest.id if dest else False,
                    "amount": amount,
                    "date": when,
                    **extra,
                }
            )
        )

    def balances(self, when):
        accounts = self.till_a | self.safe_a | self.till_b
        values = accounts._get_balances(when)
        return {a.name: values[a.id] for a in accounts}

    # ------------------------------------------------------------------
    def test_store_manager_transfer_within_limit_posts_both_legs(self):
        self.seed(self.till_a, 10000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 4000.0)
        self.assertEqual(transfer.approval_level, "manager")
        self.assertTrue(transfer.name.startswith("CASH/"))
        transfer.action_submit()
        transfer.action_approve()
        transfer.action_done()
        self.assertEqual(transfer.state, "done")
        self.assertEqual(transfer.approved_by_id, self.manager_a)

        moves = transfer.sudo().move_ids
        self.assertEqual(len(moves), 2)
        self.assertEqual(set(moves.mapped("state")), {"posted"})
        out_move = moves.filtered(lambda m: m.journal_id == self.till_a.journal_id)
        in_move = moves.filtered(lambda m: m.journal_id == self.safe_a.journal_id)
        self.assertEqual(
            sorted((line.account_id.id, line.balance) for line in out_move.line_ids),
            sorted([(self.till_a.account_id.id, -4000.0), (self.transit.id, 4000.0)]),
        )
        self.assertEqual(
            sorted((line.account_id.id, line.balance) for line in in_move.line_ids),
            sorted([(self.safe_a.account_id.id, 4000.0), (self.transit.id, -4000.0)]),
        )
        self.assertEqual(out_move.date, JAN11)

        self.assertEqual(self.balances(JAN10), {"Till A1": 10000.0, "Safe A": 0.0, "Till B1": 0.0})
        self.assertEqual(self.balances(JAN11), {"Till A1": 6000.0, "Safe A": 4000.0, "Till B1": 0.0})
        transit = self.env["account.move.line"].search([("account_id", "=", self.transit.id)])
        self.assertEqual(sum(transit.mapped("balance")), 0.0)
        # the computed field follows the context date
        self.assertEqual(self.till_a.with_context(balance_date="2026-01-10").balance, 10000.0)
        self.assertEqual(self.till_a.with_context(balance_date="2026-01-11").balance, 6000.0)

    def test_amount_above_limit_needs_accountant(self):
        self.seed(self.till_a, 90000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 60000.0)
        self.assertEqual(transfer.approval_level, "accountant")
        transfer.action_submit()
        with self.assertRaises(AccessError):
            transfer.action_approve()
        self.assertEqual(transfer.state, "submitted")
        transfer.with_user(self.accountant).action_approve()
        self.assertEqual(transfer.approved_by_id, self.accountant)
        transfer.action_done()  # the store manager hands the cash over
        self.assertEqual(self.balances(JAN11)["Safe A"], 60000.0)

    def test_other_store_manager_is_kept_out(self):
        self.assertFalse(
            self.env["ru.cash.account"]
            .with_user(self.manager_b)
            .search([("id", "in", (self.till_a | self.safe_a).ids)])
        )
        self.assertEqual(self.env["ru.cash.account"].with_user(self.manager_b).search([]), self.till_b)
        with self.assertRaises(AccessError):
            self.new_transfer(self.manager_b, self.till_a, self.safe_a, 100.0)
        self.seed(self.till_a, 1000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 100.0)
        transfer.action_submit()
        self.assertFalse(
            self.env["ru.cash.transfer"].with_user(self.manager_b).search([("id", "=", transfer.id)])
        )
        with self.assertRaises(AccessError):
            transfer.with_user(self.manager_b).action_approve()

    def test_cashier_views_own_store_only(self):
        self.seed(self.till_a, 2500.0, JAN10)
        visible = self.env["ru.cash.account"].with_user(self.cashier_a).search([])
        self.assertEqual(visible, self.till_a | self.safe_a | self.bank_a)
        self.assertEqual(
            self.till_a.with_user(self.cashier_a).with_context(balance_date="2026-01-31").balance, 2500.0
        )
        with self.assertRaises(AccessError):
            self.new_transfer(self.cashier_a, self.till_a, self.safe_a, 100.0)

    def test_write_off_needs_reason_and_approval(self):
        self.seed(self.safe_a, 1000.0, JAN10)
        with self.assertRaises(ValidationError):
            self.new_transfer(self.manager_a, self.safe_a, None, 300.0)
        write_off = self.new_transfer(
            self.manager_a,
            self.safe_a,
            None,
            300.0,
            reason_id=self.reason_shortage.id,
            note="counted 700 instead of 1000",
        )
        write_off.action_submit()
        with self.assertRaises(AccessError):  # write-off limit 0: always an accountant
            write_off.action_approve()
        write_off.with_user(self.accountant).action_approve()
        write_off.action_done()
        move = write_off.sudo().move_ids
        self.assertEqual(len(move), 1)
        self.assertEqual(
            sorted((line.account_id.id, line.balance) for line in move.line_ids),
            sorted([(self.expense.id, 300.0), (self.safe_a.account_id.id, -300.0)]),
        )
        self.assertIn("counted 700", move.line_ids[0].name)
        self.assertEqual(self.balances(JAN11)["Safe A"], 700.0)

    def test_cannot_move_more_cash_than_there_is(self):
        self.seed(self.till_a, 1000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 1500.0)
        transfer.action_submit()
        transfer.action_approve()
        with self.assertRaisesRegex(UserError, "holds"):
            transfer.action_done()
        self.assertEqual(transfer.state, "approved")
        self.assertFalse(transfer.sudo().move_ids)
        self.assertEqual(self.balances(JAN12)["Till A1"], 1000.0)

    def test_submitted_document_is_locked(self):
        self.seed(self.till_a, 1000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 500.0)
        transfer.action_submit()
        with self.assertRaises(UserError):
            transfer.write({"amount": 50000.0})
        with self.assertRaises(UserError):
            transfer.action_done()  # not approved yet
        transfer.write({"note": "bag 42"})  # comments stay editable

    def test_cancel_done_reverses_entries(self):
        self.seed(self.till_a, 1000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 400.0)
        transfer.action_submit()
        transfer.action_approve()
        transfer.action_done()
        with self.assertRaises(AccessError):
            transfer.action_cancel()
        transfer.with_user(self.accountant).action_cancel()
        self.assertEqual(transfer.state, "cancel")
        today = fields.Date.context_today(self.till_a)
        self.assertEqual(self.balances(today)["Till A1"], 1000.0)
        self.assertEqual(self.balances(today)["Safe A"], 0.0)
        self.assertEqual(len(transfer.sudo().move_ids), 4)

    def test_till_balance_follows_pos_cash_sales(self):
        session = self.open_session(self.config_a)
        self.sell([(self.sunglasses, 1), (self.frame, 1)])  # 6100 + 3000 in cash
        self.close_session(session)
        self.assertEqual(session.state, "closed")
        today = fields.Date.context_today(self.till_a)
        self.assertEqual(self.balances(today)["Till A1"], 9100.0)

    def test_account_configuration_is_checked(self):
        Account = self.env["ru.cash.account"]
        till_b_journal = self.till_b.journal_id
        self.till_b.unlink()  # one till account per POS: free config B for the checks below
        with self.assertRaises(ValidationError):  # a safe cannot share the till's journal
            Account.create(
                {
                    "name": "Bad safe",
                    "store_id": self.store_a.id,
                    "account_type": "safe",
                    "journal_id": self.till_a.journal_id.id,
                }
            )
        with self.assertRaises(ValidationError):  # a till uses its POS cash journal
            Account.create(
                {
                    "name": "Bad till",
                    "store_id": self.store_b.id,
                    "account_type": "till",
                    "pos_config_id": self.config_b.id,
                    "journal_id": self.safe_a.journal_id.id,
                }
            )
        with self.assertRaises(ValidationError):  # the POS belongs to another store
            Account.create(
                {
                    "name": "Wrong store",
                    "store_id": self.store_a.id,
                    "account_type": "till",
                    "pos_config_id": self.config_b.id,
                    "journal_id": till_b_journal.id,
                }
            )
        with self.assertRaises(ValidationError):
            self.new_transfer(self.manager_a, self.till_a, self.till_a, 10.0)

    def test_store_cash_setup(self):
        """A new store with a till gets its till account and a safe with its own journal."""
        store = self.env["optics.store"].sudo().create({"name": "Store C", "code": "RUC"})
        config = self._create_store_config("Till C1", store, "TLC")
        with self.assertRaises(AccessError):
            store.with_user(self.manager_a).action_ru_setup_cash_accounts()
        store.with_user(self.accountant).action_ru_setup_cash_accounts()
        accounts = store.ru_cash_account_ids
        till = accounts.filtered(lambda a: a.account_type == "till")
        safe = accounts.filtered(lambda a: a.account_type == "safe")
        self.assertEqual(till.pos_config_id, config)
        self.assertEqual(till.journal_id, self.env["ru.cash.account"]._get_pos_cash_journal(config))
        self.assertEqual(safe.journal_id.type, "cash")
        self.assertNotIn(safe.journal_id, (self.safe_a | self.till_a).journal_id)
        store.with_user(self.accountant).action_ru_setup_cash_accounts()  # idempotent
        self.assertEqual(store.ru_cash_account_ids, accounts)

    def test_cash_book(self):
        self.seed(self.till_a, 10000.0, JAN10)
        transfer = self.new_transfer(self.manager_a, self.till_a, self.safe_a, 4000.0, when=JAN11)
        transfer.action_submit()
        transfer.action_approve()
        transfer.action_done()
        self.seed(self.till_a, 250.0, JAN12)
        wizard = (
            self.env["ru.cash.book.wizard"]
            .with_user(self.manager_a)
            .create({"store_id": self.store_a.id, "date_from": JAN11, "date_to": date(2026, 1, 31)})
        )
        sections = {s["cash_account"]: s for s in wizard._get_cash_book_data()}
        self.assertEqual(set(sections), {self.till_a, self.safe_a})  # cash only, not the bank
        till = sections[self.till_a]
        self.assertEqual(till["opening"], 10000.0)
        self.assertEqual(
            [(d["date"], d["opening"], d["income"], d["expense"], d["closing"]) for d in till["days"]],
            [(JAN11, 10000.0, 0.0, 4000.0, 6000.0), (JAN12, 6000.0, 250.0, 0.0, 6250.0)],
        )
        self.assertEqual(till["closing"], 6250.0)
        self.assertEqual(till["days"][0]["lines"][0]["counterpart"], "5701")
        self.assertEqual(sections[self.safe_a]["closing"], 4000.0)

        report = self.env["ir.actions.report"].with_user(self.manager_a)
        html = report._render_qweb_html("ru_accounting_extras.report_cash_book", wizard.ids)[0].decode()
        self.assertIn("Cash Book", html)
        self.assertIn(transfer.name, html)
        self.assertIn("6,250.00", html)
        self.assertIn("10,000.00", html)
        if shutil.which("wkhtmltopdf"):
            # no HTTP worker serves this test's cursor: point the report assets at a closed
            # port so wkhtmltopdf gets a refusal instead of waiting on a locked server
            self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
            pdf = report.with_context(force_report_rendering=True)._render_qweb_pdf(
                "ru_accounting_extras.report_cash_book", wizard.ids
            )[0]
            self.assertTrue(pdf.startswith(b"%PDF"))
