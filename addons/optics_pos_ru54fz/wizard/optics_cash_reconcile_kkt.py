from odoo import api, fields, models


class OpticsCashReconcileKkt(models.TransientModel):
    _name = "optics.cash.reconcile.kkt"
    _description = "Session against the KKT Shift Counters"
    _order = "sequence, id"

    wizard_id = fields.Many2one("optics.cash.reconcile.wizard", required=True, ondelete="cascade")
    currency_id = fields.Many2one(related="wizard_id.currency_id")
    sequence = fields.Integer()
    label = fields.Char(readonly=True)
    session_amount = fields.Monetary("Session", readonly=True)
    kkt_amount = fields.Monetary("KKT", readonly=True)
    difference = fields.Monetary(compute="_compute_ok", store=True)
    ok = fields.Boolean(compute="_compute_ok", store=True)
    blocking = fields.Boolean(readonly=True)

    @api.depends("session_amount", "kkt_amount")
    def _compute_ok(self):
        for line in self:
            line.difference = line.kkt_amount - line.session_amount
            cur = line.currency_id or self.env.company.currency_id
            line.ok = cur.is_zero(line.difference)
