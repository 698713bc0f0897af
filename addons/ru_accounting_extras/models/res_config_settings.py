from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ru_company_currency_id = fields.Many2one(
        "res.currency", related="company_id.currency_id", string="Company Currency"
    )
    ru_cash_transfer_account_id = fields.Many2one(
        related="company_id.ru_cash_transfer_account_id", readonly=False
    )
    ru_cash_manager_approval_limit = fields.Monetary(
        related="company_id.ru_cash_manager_approval_limit",
        readonly=False,
        currency_field="ru_company_currency_id",
    )
    ru_cash_writeoff_manager_limit = fields.Monetary(
        related="company_id.ru_cash_writeoff_manager_limit",
        readonly=False,
        currency_field="ru_company_currency_id",
    )
