from odoo import api, fields, models


class OpticsCashReconcileCount(models.TransientModel):
    _name = "optics.cash.reconcile.count"
    _description = "Cash Count by Denomination"
    _order = "value desc, id"

    wizard_id = fields.Many2one("optics.cash.reconcile.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    denomination_id = fields.Many2one("optics.cash.denomination", required=True)
    kind = fields.Selection(related="denomination_id.kind")
    value = fields.Float(related="denomination_id.value", store=True)
    quantity = fields.Integer()
    subtotal = fields.Monetary(compute="_compute_subtotal", store=True)

    _sql_constraints = [
        ("quantity_positive", "CHECK(quantity >= 0)", "A counted quantity cannot be negative.")
    ]

    @api.depends("quantity", "denomination_id.value")
    def _compute_subtotal(self):
        for line in self:
            line.subtotal = line.quantity * line.denomination_id.value
