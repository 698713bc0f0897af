"""Shared set-up of the cash-session tests (no test methods here)."""

import io
import uuid as uuidlib

from odoo import Command

from odoo.addons.point_of_sale.tests.common import TestPoSCommon


def pdf_text(pdf_bytes):
    """The text of a rendered PDF report, whitespace collapsed to single spaces."""
    from pypdf import PdfReader

    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)
    return " ".join(text.split())


class CashSessionCommon(TestPoSCommon):
    """A store with one POS (cash + card), a cashier and a store manager of that store,
    loss / profit accounts on the cash and card journals, the chain's denominations
    for the company currency, and a 500.00 difference threshold."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env["optics.store"].sudo().create({"name": "Cash store", "code": "CSH"})
        cls.config = cls.basic_config
        cls.config.write(
            {
                "optics_store_id": cls.store.id,
                "payment_method_ids": [Command.set((cls.cash_pm1 | cls.bank_pm1).ids)],
                "ru54fz_cash_diff_threshold": 500.0,
            }
        )
        cls.cash_journal = cls.cash_pm1.journal_id
        cls.bank_journal = cls.bank_pm1.journal_id
        Account = cls.env["account.account"]
        cls.loss_account = Account.create(
            {"name": "Cash shortage", "code": "CSHLOSS", "account_type": "expense"}
        )
        cls.profit_account = Account.create(
            {"name": "Cash surplus", "code": "CSHPROF", "account_type": "income_other"}
        )
        cls.card_loss_account = Account.create(
            {"name": "Card shortage", "code": "CRDLOSS", "account_type": "expense"}
        )
        cls.card_profit_account = Account.create(
            {"name": "Card surplus", "code": "CRDPROF", "account_type": "income_other"}
        )
        cls.cash_journal.write(
            {"loss_account_id": cls.loss_account.id, "profit_account_id": cls.profit_account.id}
        )
        cls.bank_journal.write(
            {"loss_account_id": cls.card_loss_account.id, "profit_account_id": cls.card_profit_account.id}
        )
        cls.product = cls.create_product("Frame Ray-Ban", cls.categ_basic, 10000.0)
        cls.lens = cls.create_product("Lens 1.6", cls.categ_basic, 2500.5)
        cur = cls.company.currency_id
        rub = cls.env.ref("base.RUB")
        if cur != rub:
            # the chain's banknotes and coins, for the test company's currency
            for denom in cls.env["optics.cash.denomination"].search([("currency_id", "=", rub.id)]):
                denom.sudo().copy({"currency_id": cur.id, "name": denom.name})

        def user(login, group):
            return (
                cls.env["res.users"]
                .sudo()
                .create(
                    {
                        "name": login,
                        "login": login,
                        "email": f"{login}@example.com",
                        "groups_id": [Command.link(cls.env.ref(group).id)],
                        "optics_store_ids": [Command.link(cls.store.id)],
                        "company_id": cls.company.id,
                        "company_ids": [Command.set(cls.company.ids)],
                    }
                )
            )

        cls.cashier = user("cash_cashier", "optics_core.group_optics_cashier")
        cls.manager = user("cash_manager", "optics_core.group_optics_store_manager")

    # -- helpers -----------------------------------------------------------------------

    def new_uuid(self):
        return str(uuidlib.uuid4())

    def sync_orders(self, orders):
        return self.env["pos.order"].sync_from_ui(orders)

    def cash_order(self, amount_products, uuid=None, payments=None):
        """UI data of an order of ``amount_products`` = [(product, qty)], paid in cash
        unless ``payments`` = [(method, amount)] is given."""
        return self.create_ui_order_data(amount_products, payments=payments, uuid=uuid)

    def movements(self, session, kind=None):
        domain = [("session_id", "=", session.id)]
        if kind:
            domain.append(("kind", "=", kind))
        return self.env["optics.cash.movement"].search(domain)

    def reconcile_wizard(self, session, user, mode="reconcile", counted=None, slips=None, reason=False):
        """A reconciliation wizard of ``user`` with the notes/coins of ``counted``
        ({value: quantity}) and the card slip totals ``slips`` ({method: total})."""
        Wizard = self.env["optics.cash.reconcile.wizard"].with_user(user)
        wizard = Wizard.create({"session_id": session.id, "mode": mode, "reason": reason})
        for line in wizard.count_line_ids:
            qty = (counted or {}).get(line.value)
            if qty:
                line.quantity = qty
        for line in wizard.card_line_ids:
            if slips and line.payment_method_id in slips:
                line.slip_total = slips[line.payment_method_id]
        return wizard

    def move_lines(self, session, account):
        moves = session._get_related_account_moves()
        return moves.line_ids.filtered(lambda ln: ln.account_id == account)
