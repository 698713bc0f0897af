from odoo import fields, models


class RuCashWriteoffReason(models.Model):
    """Why cash left a cash account without going to another one (shortage found at
    counting, bank fee, counterfeit note ...); each reason says which expense account
    takes the loss."""

    _name = "ru.cash.writeoff.reason"
    _description = "Cash Write-off Reason"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    expense_account_id = fields.Many2one(
        "account.account",
        required=True,
        check_company=True,
        domain="[('account_type', 'in', ('expense', 'expense_other', 'expense_direct_cost'))]",
    )
