from odoo import fields, models

from .optics_shift_report import OPERATIONS, PAYMENTS


class OpticsShiftReportLine(models.Model):
    _name = "optics.shift.report.line"
    _description = "Shift Report Counter"
    _order = "report_id, id"

    report_id = fields.Many2one("optics.shift.report", required=True, ondelete="cascade", index=True)
    currency_id = fields.Many2one(related="report_id.currency_id")
    operation = fields.Selection(OPERATIONS, required=True)
    payment = fields.Selection(PAYMENTS, "Payment Method", required=True)
    count = fields.Integer()
    amount = fields.Monetary()
