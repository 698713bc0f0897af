from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ru_cash_transfer_account_id = fields.Many2one(
        "account.account",
        string="Cash Transfer Account",
        help="Liquidity-transfer account that both legs of a cash transfer go through "
        "(till -> safe -> bank). Falls back to the company's internal transfer account.",
    )
    ru_cash_manager_approval_limit = fields.Monetary(
        string="Store Manager Approval Limit (transfers)",
        currency_field="currency_id",
        default=100000.0,
        help="A store manager may approve cash transfers of their store up to this amount; "
        "larger transfers need an accountant.",
    )
    ru_cash_writeoff_manager_limit = fields.Monetary(
        string="Store Manager Approval Limit (write-offs)",
        currency_field="currency_id",
        default=0.0,
        help="A store manager may approve cash write-offs of their store up to this amount; "
        "with 0 every write-off needs an accountant.",
    )

    def _ru_get_cash_transfer_account(self):
        self.ensure_one()
        return self.ru_cash_transfer_account_id or self.transfer_account_id
