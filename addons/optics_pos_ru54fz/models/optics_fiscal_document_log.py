from odoo import fields, models


class OpticsFiscalDocumentLog(models.Model):
    """The error history of a fiscal document's way to the OFD: one row per attempt
    or event, never rewritten."""

    _name = "optics.fiscal.document.log"
    _description = "Fiscal Document OFD Log"
    _order = "id desc"

    document_id = fields.Many2one(
        "optics.fiscal.document", required=True, ondelete="cascade", index=True, readonly=True
    )
    store_id = fields.Many2one(related="document_id.store_id", store=True)
    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True)
    attempt = fields.Integer(readonly=True)
    kind = fields.Selection(
        [
            ("ack", "Confirmed"),
            ("transport", "Transport failure"),
            ("rejected", "Rejected by the OFD"),
            ("requeue", "Requeued"),
            ("resolved", "Resolved"),
            ("info", "Information"),
        ],
        required=True,
        readonly=True,
    )
    message = fields.Text(readonly=True)
