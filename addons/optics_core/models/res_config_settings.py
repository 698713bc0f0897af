from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    optics_rx_validity_months = fields.Integer(related="company_id.optics_rx_validity_months", readonly=False)
    optics_cl_rx_validity_months = fields.Integer(
        related="company_id.optics_cl_rx_validity_months", readonly=False
    )
    optics_assembly_days = fields.Integer(related="company_id.optics_assembly_days", readonly=False)
