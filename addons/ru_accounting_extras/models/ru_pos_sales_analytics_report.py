from odoo import fields, models
from odoo.tools import SQL

from .ru_pos_gross_profit_report import EXTENDED, company_currency


class RuPosSalesAnalyticsReport(models.Model):
    """POS receipts, one row per order: number of receipts, average receipt and refund
    rate by store, till, cashier and date.  A receipt with a negative total is a refund."""

    _name = "ru.pos.sales.analytics.report"
    _inherit = ["ru.pos.receipt.report.mixin"]
    _description = "POS Receipt Analysis"
    _auto = False

    _ratio_measures = {
        "average_receipt": ("sale_amount", "sale_count", 1),
        "refund_rate": ("refund_count", "receipt_count", 100),
    }

    is_refund = fields.Boolean(string="Refund", readonly=True)
    receipt_count = fields.Integer(string="Receipts", readonly=True)
    sale_count = fields.Integer(string="Sales Receipts", readonly=True)
    amount_total = fields.Monetary(string="Total (incl. VAT)", readonly=True, help="Sales minus refunds.")
    amount_untaxed = fields.Monetary(string="Total (excl. VAT)", readonly=True)
    sale_amount = fields.Monetary(string="Sales (incl. VAT)", readonly=True)
    average_receipt = fields.Monetary(
        readonly=True,
        aggregator="avg",
        help="Sales (incl. VAT) / sales receipts of the group.",
    )
    refund_count = fields.Integer(string="Refund Receipts", readonly=True, groups=EXTENDED)
    refund_amount = fields.Monetary(string="Refunds (incl. VAT)", readonly=True, groups=EXTENDED)
    refund_rate = fields.Float(
        string="Refund Rate (%)",
        readonly=True,
        aggregator="avg",
        groups=EXTENDED,
        digits=(16, 2),
        help="Refund receipts / all receipts of the group.",
    )

    def _query(self):
        return SQL(
            """
            SELECT o.id,
                   o.id AS order_id,
                   o.date_order AS date,
                   o.company_id,
                   co.currency_id,
                   pc.optics_store_id AS store_id,
                   o.config_id,
                   o.session_id,
                   o.user_id,
                   o.partner_id,
                   o.amount_total < 0 AS is_refund,
                   1 AS receipt_count,
                   CASE WHEN o.amount_total >= 0 THEN 1 ELSE 0 END AS sale_count,
                   CASE WHEN o.amount_total < 0 THEN 1 ELSE 0 END AS refund_count,
                   %(total)s AS amount_total,
                   %(untaxed)s AS amount_untaxed,
                   CASE WHEN o.amount_total >= 0 THEN %(total)s ELSE 0 END AS sale_amount,
                   CASE WHEN o.amount_total >= 0 THEN %(total)s ELSE 0 END AS average_receipt,
                   CASE WHEN o.amount_total < 0 THEN -%(total)s ELSE 0 END AS refund_amount,
                   CASE WHEN o.amount_total < 0 THEN 100.0 ELSE 0 END AS refund_rate
              FROM pos_order o
         LEFT JOIN res_company co ON co.id = o.company_id
         LEFT JOIN pos_config pc ON pc.id = o.config_id
             WHERE o.state IN ('paid', 'done', 'invoiced')
        """,
            total=company_currency(SQL("o.amount_total")),
            untaxed=company_currency(SQL("(o.amount_total - o.amount_tax)")),
        )
