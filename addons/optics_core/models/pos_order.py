from odoo import api, fields, models


class PosOrder(models.Model):
    _inherit = "pos.order"

    optics_discount_over_limit = fields.Boolean(
        string="Discount Over Limit",
        compute="_compute_optics_discount_over_limit",
        store=True,
        help="A line discount exceeds what the order's user may give in this point of sale. "
        "The POS refuses such discounts; this flag catches orders that reached the server "
        "another way (old client, import) so a manager can review them.",
    )

    @api.depends("lines.discount", "user_id", "config_id")
    def _compute_optics_discount_over_limit(self):
        for order in self:
            if not order.config_id or not order.lines:
                order.optics_discount_over_limit = False
                continue
            limit = order.config_id._get_optics_discount_limit(order.user_id)
            order.optics_discount_over_limit = any(line.discount > limit for line in order.lines)
