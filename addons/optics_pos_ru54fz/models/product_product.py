from odoo import api, models


class ProductProduct(models.Model):
    _inherit = "product.product"

    @api.model
    def _load_pos_data_fields(self, config_id):
        # the POS asks for the marking code of a marked product (static/src/app/marking_pos.js)
        return super()._load_pos_data_fields(config_id) + ["ru54fz_marked", "ru54fz_marking_group"]
