from odoo import api, models


class StockValuationLayer(models.Model):
    _inherit = "stock.valuation.layer"

    @api.model_create_multi
    def create(self, vals_list):
        layers = super().create(vals_list)
        layers._ru_refresh_pos_line_costs()
        return layers

    def _ru_refresh_pos_line_costs(self):
        """Keep the valued cost of the POS lines whose pickings these layers value."""
        pickings = self.sudo().stock_move_id.picking_id.filtered(lambda p: p.pos_order_id or p.pos_session_id)
        if not pickings:
            return
        orders = (
            pickings.pos_order_id | pickings.filtered(lambda p: not p.pos_order_id).pos_session_id.order_ids
        )
        self.env["pos.order.line"].sudo()._ru_refresh_valuation_cost(orders.ids)
