from collections import defaultdict

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.ru_cash_account import PHYSICAL_CASH_TYPES


class RuCashBookWizard(models.TransientModel):
    """Cash book (кассовая книга) of a store for a period: per cash account the opening
    balance, every posted movement grouped by day with the day's closing balance."""

    _name = "ru.cash.book.wizard"
    _description = "Cash Book"

    store_id = fields.Many2one(
        "optics.store", required=True, default=lambda self: self.env.user.optics_store_id
    )
    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    cash_account_ids = fields.Many2many(
        "ru.cash.account",
        string="Cash Accounts",
        domain="[('store_id', '=', store_id)]",
        help="Leave empty for every till and safe of the store.",
    )

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The period starts after it ends."))

    def _get_cash_accounts(self):
        self.ensure_one()
        return self.cash_account_ids or self.env["ru.cash.account"].search(
            [("store_id", "=", self.store_id.id), ("account_type", "in", PHYSICAL_CASH_TYPES)]
        )

    def action_print(self):
        self.ensure_one()
        if not self._get_cash_accounts():
            raise UserError(self.env._("Store %(store)s has no cash accounts.", store=self.store_id.name))
        return self.env.ref("ru_accounting_extras.action_report_cash_book").report_action(self)

    def action_view_balances(self):
        """Balances of the store's cash accounts at the end of the period."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ru_accounting_extras.ru_cash_account_action")
        action["domain"] = [("store_id", "=", self.store_id.id)]
        action["context"] = {"balance_date": fields.Date.to_string(self.date_to)}
        action["name"] = self.env._("Balances at %(date)s", date=self.date_to)
        return action

    def _get_cash_book_data(self):
        """Sections of the cash book, one per cash account.  Two grouped/bulk reads of the
        ledger for all accounts: opening balances, then the period's movements."""
        self.ensure_one()
        cash_accounts = self._get_cash_accounts()
        openings = cash_accounts._get_balances(self.date_from, strictly_before=True)
        # Ledger access follows from the right to read these cash accounts (record rules).
        AML = self.env["account.move.line"].sudo()
        ledger_accounts = cash_accounts.sudo().account_id
        lines = AML.search_read(
            [
                ("account_id", "in", ledger_accounts.ids),
                ("parent_state", "=", "posted"),
                ("company_id", "in", cash_accounts.company_id.ids),
                ("date", ">=", self.date_from),
                ("date", "<=", self.date_to),
            ],
            [
                "date",
                "move_id",
                "move_name",
                "name",
                "ref",
                "partner_id",
                "account_id",
                "balance",
                "amount_currency",
                "currency_id",
            ],
            order="date, move_name, id",
        )
        counterparts = defaultdict(set)
        if lines:
            others = AML.search_read(
                [
                    ("move_id", "in", list({line["move_id"][0] for line in lines})),
                    ("account_id", "not in", ledger_accounts.ids),
                ],
                ["move_id", "account_id"],
            )
            codes = {
                account.id: account.code
                for account in self.env["account.account"].sudo().browse({o["account_id"][0] for o in others})
            }
            for other in others:
                counterparts[other["move_id"][0]].add(codes[other["account_id"][0]])
        by_account = defaultdict(list)
        for line in lines:
            by_account[line["account_id"][0]].append(line)

        sections = []
        for cash_account in cash_accounts:
            currency = cash_account.currency_id
            foreign = currency != cash_account.company_id.currency_id
            balance = openings.get(cash_account.id, 0.0)
            section = {
                "cash_account": cash_account,
                "currency": currency,
                "opening": balance,
                "days": [],
                "income": 0.0,
                "expense": 0.0,
            }
            day = None
            for line in by_account.get(cash_account.sudo().account_id.id, []):
                if foreign and line["currency_id"] and line["currency_id"][0] != currency.id:
                    continue
                amount = line["amount_currency"] if foreign else line["balance"]
                if day is None or day["date"] != line["date"]:
                    day = {
                        "date": line["date"],
                        "opening": balance,
                        "lines": [],
                        "income": 0.0,
                        "expense": 0.0,
                        "closing": balance,
                    }
                    section["days"].append(day)
                income, expense = (amount, 0.0) if amount >= 0 else (0.0, -amount)
                balance = currency.round(balance + amount)
                day["lines"].append(
                    {
                        "move_name": line["move_name"],
                        "label": line["name"] or line["ref"] or "",
                        "partner": line["partner_id"] and line["partner_id"][1] or "",
                        "counterpart": ", ".join(sorted(counterparts.get(line["move_id"][0], ()))),
                        "income": income,
                        "expense": expense,
                        "balance": balance,
                    }
                )
                day["income"] += income
                day["expense"] += expense
                day["closing"] = balance
                section["income"] += income
                section["expense"] += expense
            section["closing"] = balance
            sections.append(section)
        return sections
