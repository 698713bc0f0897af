from odoo import _, fields, models
from odoo.exceptions import UserError


class OpticsFiscalReasonWizard(models.TransientModel):
    """Asks the administrator for the reason of an audited decision: requeue or
    resolve dead letters, or allow the refund of an OFD-unconfirmed sale."""

    _name = "optics.fiscal.reason.wizard"
    _description = "Fiscal Decision Reason"

    operation = fields.Selection(
        [
            ("requeue", "Requeue dead letters"),
            ("resolve", "Resolve dead letters"),
            ("refund_override", "Allow refund of an unconfirmed sale"),
        ],
        required=True,
        default="requeue",
    )
    dead_letter_ids = fields.Many2many("optics.fiscal.dead.letter", string="Dead Letters")
    pos_order_id = fields.Many2one("pos.order", string="Order")
    reason = fields.Text(required=True)

    def action_confirm(self):
        self.ensure_one()
        if not (self.reason or "").strip():
            raise UserError(_("Give a reason: it is kept in the audit log."))
        if self.operation == "requeue":
            self.dead_letter_ids.action_requeue(self.reason)
        elif self.operation == "resolve":
            self.dead_letter_ids.action_resolve(self.reason)
        elif self.operation == "refund_override":
            return self.pos_order_id.with_context(ru54fz_refund_override_reason=self.reason).refund()
        return {"type": "ir.actions.act_window_close"}
