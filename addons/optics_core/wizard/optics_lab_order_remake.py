from odoo import fields, models

from ..models.optics_lab_order import REMAKE_REASONS


class OpticsLabOrderRemake(models.TransientModel):
    _name = "optics.lab.order.remake"
    _description = "Remake a Lab Order"

    order_id = fields.Many2one("optics.lab.order", required=True, ondelete="cascade")
    reason = fields.Selection(REMAKE_REASONS, required=True)
    note = fields.Text()
    prescription_id = fields.Many2one(
        "optics.prescription",
        string="New prescription",
        help="Only when the prescription changed; otherwise the original prescription is used.",
    )
    partner_id = fields.Many2one(related="order_id.partner_id")

    def action_remake(self):
        self.ensure_one()
        remake = self.order_id._create_remake(self.reason, self.note, self.prescription_id or None)
        return {
            "type": "ir.actions.act_window",
            "res_model": "optics.lab.order",
            "res_id": remake.id,
            "view_mode": "form",
            "target": "current",
        }
