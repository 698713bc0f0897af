from odoo import api, fields, models
from odoo.exceptions import UserError


class OpticsPrescriptionAccessLog(models.Model):
    """Who read a customer's prescription without being one of its natural readers (an
    optician of the chain, or staff of a store where the customer wrote it or bought).
    Append-only: written as superuser by optics.prescription, read by administrators."""

    _name = "optics.prescription.access.log"
    _description = "Prescription Access Log"
    _order = "id desc"

    date = fields.Datetime(default=fields.Datetime.now, required=True, readonly=True, index=True)
    user_id = fields.Many2one(
        "res.users", string="Read by", required=True, readonly=True, index=True, ondelete="restrict"
    )
    prescription_id = fields.Many2one(
        "optics.prescription", readonly=True, index=True, ondelete="set null", context={"active_test": False}
    )
    partner_id = fields.Many2one(
        "res.partner", string="Customer", readonly=True, index=True, ondelete="set null"
    )
    access = fields.Selection(
        [("read", "Read"), ("export", "Export"), ("print", "Print")], required=True, readonly=True
    )

    @api.model
    def _log(self, prescriptions, access):
        if not prescriptions:
            return self
        user_id = self.env.uid
        return self.sudo().create(
            [
                {
                    "user_id": user_id,
                    "prescription_id": rx.id,
                    "partner_id": rx.partner_id.id,
                    "access": access,
                }
                for rx in prescriptions.sudo()
            ]
        )

    # append-only: no write reaches the ORM
    def write(self, vals):  # pylint: disable=method-required-super
        raise UserError(self.env._("The prescription access log cannot be changed."))

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(self.env._("The prescription access log cannot be deleted."))
