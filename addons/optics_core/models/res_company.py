from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    optics_rx_validity_months = fields.Integer(
        string="Spectacle prescription validity (months)",
        default=12,
        help="A prescription older than this is shown as expired; it can still be used.",
    )
    optics_cl_rx_validity_months = fields.Integer(
        string="Contact-lens prescription validity (months)", default=12
    )
    optics_assembly_days = fields.Integer(
        string="Workshop days",
        default=0,
        help="Working days the workshop needs after the lenses arrive (edging, mounting, checks).",
    )
