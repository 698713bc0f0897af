from odoo import api, fields, models


class OpticsCashReconcileCard(models.TransientModel):
    _name = "optics.cash.reconcile.card"
    _description = "Card Total against the Acquirer's Slip"

    wizard_id = fields.Many2one("optics.cash.reconcile.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    payment_method_id = fields.Many2one("pos.payment.method", required=True, readonly=True)
    expected = fields.Monetary("Expected (trail)", readonly=True)
    slip_total = fields.Monetary()
    difference = fields.Monetary(compute="_compute_difference", store=True)

    @api.depends("expected", "slip_total")
    def _compute_difference(self):
        for line in self:
            line.difference = line.slip_total - line.expected
