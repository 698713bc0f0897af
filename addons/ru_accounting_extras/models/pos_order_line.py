from odoo import api, fields, models
from odoo.tools import SQL


class PosOrderLine(models.Model):
    _inherit = "pos.order.line"

    # The cost of goods of the line as stock valuation says, kept on the line when the
    # valuation layers of its picking are created, so that the gross-profit view does not
    # aggregate the valuation layers at every read (see stock_valuation_layer.py).
    ru_valuation_cost = fields.Float(
        string="Valued Cost",
        digits="Product Price",
        readonly=True,
        copy=False,
        help="Cost of goods from the stock valuation layers of the order's (or its session's) "
        "picking, in company currency; negative on refund lines.",
    )
    ru_valuation_cost_set = fields.Boolean(string="Has Valued Cost", readonly=True, copy=False)

    @api.model
    def _ru_refresh_valuation_cost(self, order_ids=None):
        """Recompute the valued cost of the lines of ``order_ids`` (all orders when None)
        in one statement: the unit cost of a line is value / quantity of the valuation
        layers of its product in the same direction (sale: outgoing, refund: incoming) in
        the order's own picking, or else in its session's picking (stock updated at
        closing)."""
        self.env.flush_all()
        only_orders = order_ids is not None
        order_ids = list(order_ids or [])
        if only_orders and not order_ids:
            return
        line_filter = SQL("AND l.order_id = ANY(%s)", order_ids) if only_orders else SQL()
        picking_filter = SQL("AND sp.pos_order_id = ANY(%s)", order_ids) if only_orders else SQL()
        session_filter = (
            SQL("AND sp.pos_session_id IN (SELECT session_id FROM pos_order WHERE id = ANY(%s))", order_ids)
            if only_orders
            else SQL()
        )
        self.env.cr.execute(
            SQL(
                """
            WITH target AS (
                SELECT l.id, l.order_id, l.product_id, l.qty, o.session_id
                  FROM pos_order_line l
                  JOIN pos_order o ON o.id = l.order_id
                 WHERE true %(line_filter)s
            ), by_order AS (
                SELECT sp.pos_order_id, sm.product_id, svl.quantity < 0 AS outgoing,
                       SUM(svl.value) AS value, SUM(svl.quantity) AS quantity
                  FROM stock_valuation_layer svl
                  JOIN stock_move sm ON sm.id = svl.stock_move_id
                  JOIN stock_picking sp ON sp.id = sm.picking_id
                 WHERE sp.pos_order_id IS NOT NULL %(picking_filter)s
              GROUP BY sp.pos_order_id, sm.product_id, svl.quantity < 0
            ), by_session AS (
                SELECT sp.pos_session_id, sm.product_id, svl.quantity < 0 AS outgoing,
                       SUM(svl.value) AS value, SUM(svl.quantity) AS quantity
                  FROM stock_valuation_layer svl
                  JOIN stock_move sm ON sm.id = svl.stock_move_id
                  JOIN stock_picking sp ON sp.id = sm.picking_id
                 WHERE sp.pos_order_id IS NULL AND sp.pos_session_id IS NOT NULL %(session_filter)s
              GROUP BY sp.pos_session_id, sm.product_id, svl.quantity < 0
            ), costed AS (
                SELECT t.id,
                       CASE WHEN bo.quantity <> 0 THEN t.qty * bo.value / bo.quantity
                            WHEN bs.quantity <> 0 THEN t.qty * bs.value / bs.quantity
                       END AS cost
                  FROM target t
             LEFT JOIN by_order bo ON bo.pos_order_id = t.order_id AND bo.product_id = t.product_id
                                  AND bo.outgoing = (t.qty > 0)
             LEFT JOIN by_session bs ON bs.pos_session_id = t.session_id AND bs.product_id = t.product_id
                                    AND bs.outgoing = (t.qty > 0)
            )
            UPDATE pos_order_line l
               SET ru_valuation_cost = COALESCE(c.cost, 0),
                   ru_valuation_cost_set = c.cost IS NOT NULL
              FROM costed c
             WHERE c.id = l.id
               AND (l.ru_valuation_cost_set IS DISTINCT FROM (c.cost IS NOT NULL)
                    OR l.ru_valuation_cost IS DISTINCT FROM COALESCE(c.cost, 0))
        """,
                line_filter=line_filter,
                picking_filter=picking_filter,
                session_filter=session_filter,
            )
        )
        self.env["pos.order.line"].invalidate_model(["ru_valuation_cost", "ru_valuation_cost_set"])
