from odoo import models


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def write(self, vals):
        res = super().write(vals)
        # The POS validates its pickings first and links them to the order or session
        # afterwards: the layers exist before we can tell which POS lines they value.
        if "pos_order_id" in vals or "pos_session_id" in vals:
            self.move_ids.stock_valuation_layer_ids._ru_refresh_pos_line_costs()
        return res
