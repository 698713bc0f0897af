from odoo import api, fields, models


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    ru54fz_marking_code = fields.Char(
        string="Marking code",
        readonly=True,
        copy=False,
        help="The DataMatrix code of the unit sold on this line (tag 2000), as scanned, with its "
        "GS separators.",
    )

    @api.model
    def _load_pos_data_fields(self, config_id):
        return super()._load_pos_data_fields(config_id) + ["ru54fz_marking_code"]
