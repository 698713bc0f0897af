from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    optics_store_id = fields.Many2one(
        "optics.store", string="Store", index=True, check_company=True,
        help="The store this point of sale belongs to; it decides who may see it.")
