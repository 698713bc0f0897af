from odoo import api, fields, models
from odoo.exceptions import UserError


class OpticsFiscalAudit(models.Model):
    """Who did what to the fiscal pipeline, and why (dead-letter requeue/resolve,
    manual sync, refund overrides, breaker resets).  Append-only."""

    _name = "optics.fiscal.audit"
    _description = "Fiscal Pipeline Audit Log"
    _order = "id desc"

    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    user_id = fields.Many2one("res.users", required=True, readonly=True, default=lambda self: self.env.user)
    action = fields.Selection(
        [
            ("dlq_requeue", "Dead letter requeued"),
            ("dlq_resolve", "Dead letter resolved"),
            ("manual_sync", "Manual OFD sync"),
            ("refund_override", "Refund of an unconfirmed sale allowed"),
            ("breaker_reset", "Circuit breaker reset"),
            ("manager_grant", "Manager grant issued for a till action"),
            ("manager_grant_refused", "Manager grant refused"),
            ("till_manager_action", "Manager action made at the till"),
            ("push_refused", "Till push entry refused"),
            ("pairing_token_rotated", "Till pairing token rotated"),
            ("central_token_rotated", "Till central token rotated"),
        ],
        required=True,
        readonly=True,
    )
    reason = fields.Text(readonly=True)
    res_model = fields.Char(readonly=True)
    res_id = fields.Integer(readonly=True)
    document_id = fields.Many2one("optics.fiscal.document", readonly=True, index=True, ondelete="set null")
    store_id = fields.Many2one(related="document_id.store_id", store=True)

    @api.model
    def _log(self, action, record, reason):
        document = (
            record
            if record._name == "optics.fiscal.document"
            else (
                record.document_id if "document_id" in record._fields else self.env["optics.fiscal.document"]
            )
        )
        return self.sudo().create(
            {
                "action": action,
                "reason": reason,
                "res_model": record._name,
                "res_id": record.id,
                "document_id": document[:1].id,
                "user_id": self.env.user.id,
            }
        )

    # append-only: no write reaches the ORM
    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The fiscal audit log cannot be changed."))
