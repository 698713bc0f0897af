from odoo import fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

# Field-level access: cashiers get the basic figures (revenue, quantities); store managers,
# accountants and administrators also see discounts, costs and margins.
EXTENDED = "optics_core.group_optics_store_manager,optics_core.group_optics_accountant"

# product.template fields the catalog may use for a frame's brand, most specific first.
BRAND_FIELD_CANDIDATES = (
    "frame_brand",
    "optics_brand_id",
    "frame_brand_id",
    "brand_id",
    "optics_brand",
    "brand",
)


def company_currency(expr):
    """SQL converting ``expr`` of order ``o`` (in the order's currency) to company currency.

    Numeric division is costly over half a million rows and most orders are in company
    currency (rate 1), so the division only happens where the rate says so."""
    return SQL(
        "(CASE WHEN COALESCE(o.currency_rate, 0) IN (0, 1) THEN %s ELSE %s / o.currency_rate END)", expr, expr
    )


class RuPosGrossProfitReport(models.Model):
    """Gross profit of POS sales, one row per receipt line.

    Revenue is the line's price net of VAT and discount (``price_subtotal``), in company
    currency.  Cost of goods comes from stock valuation when the order's stock moves
    were valued (the picking of the order, or of its session when stock is updated at
    closing; kept on the line as ``ru_valuation_cost`` when the layers are created, so
    the view does not aggregate layers at every read), otherwise from the cost Odoo
    froze on the line at sale time
    (``total_cost``), otherwise from the product's current cost.  Refund lines have
    negative quantities, so they reduce revenue and cost alike."""

    _name = "ru.pos.gross.profit.report"
    _inherit = ["ru.pos.receipt.report.mixin"]
    _description = "POS Gross Profit Analysis"
    _auto = False

    _ratio_measures = {
        "margin_percent": ("gross_profit", "revenue", 100),
        "discount_share": ("discount_amount", "gross_amount", 100),
    }

    product_id = fields.Many2one("product.product", readonly=True)
    product_tmpl_id = fields.Many2one("product.template", string="Product Template", readonly=True)
    categ_id = fields.Many2one("product.category", string="Product Category", readonly=True)
    brand = fields.Char(readonly=True)
    is_refund = fields.Boolean(string="Refund", readonly=True)
    qty = fields.Float(string="Quantity", readonly=True, digits="Product Unit of Measure")
    revenue = fields.Monetary(
        string="Revenue (excl. VAT)", readonly=True, help="Net of VAT and discounts; refunds count negative."
    )
    revenue_incl = fields.Monetary(string="Revenue (incl. VAT)", readonly=True)
    gross_amount = fields.Monetary(
        string="Amount before Discount",
        readonly=True,
        groups=EXTENDED,
        help="Excl. VAT, before the line discount.",
    )
    discount_amount = fields.Monetary(string="Discount", readonly=True, groups=EXTENDED, help="Excl. VAT.")
    discount_share = fields.Float(
        string="Discount Share (%)",
        readonly=True,
        aggregator="avg",
        groups=EXTENDED,
        digits=(16, 2),
        help="Discount / amount before discount of the group.",
    )
    cost = fields.Monetary(string="Cost of Goods", readonly=True, groups=EXTENDED)
    gross_profit = fields.Monetary(readonly=True, groups=EXTENDED)
    margin_percent = fields.Float(
        string="Margin (%)",
        readonly=True,
        aggregator="avg",
        groups=EXTENDED,
        digits=(16, 2),
        help="Gross profit / revenue of the group.",
    )
    cost_source = fields.Selection(
        [("valuation", "Stock Valuation"), ("pos", "Cost at Sale"), ("product", "Current Product Cost")],
        readonly=True,
        groups=EXTENDED,
    )

    # ------------------------------------------------------------------
    # SQL
    # ------------------------------------------------------------------
    def _brand_sql(self):
        """(expression, join) giving the brand name of ``pt``; adapts to the catalog."""
        template = self.env["product.template"]
        for fname in BRAND_FIELD_CANDIDATES:
            field = template._fields.get(fname)
            # the column may lag behind the registry while the catalog module is upgraded
            if (
                not field
                or not field.store
                or not field.column_type
                or not column_exists(self.env.cr, template._table, fname)
            ):
                continue
            if field.type == "many2one":
                comodel = self.env[field.comodel_name]
                rec_name = comodel._fields.get(comodel._rec_name or "name")
                if not rec_name or not rec_name.store:
                    continue
                name_sql = SQL("brand.%s", SQL.identifier(rec_name.name))
                if rec_name.translate:
                    name_sql = SQL("COALESCE(%s->>'ru_RU', %s->>'en_US')", name_sql, name_sql)
                return name_sql, SQL(
                    "LEFT JOIN %s brand ON brand.id = pt.%s",
                    SQL.identifier(comodel._table),
                    SQL.identifier(fname),
                )
            if field.type == "char" and not field.translate:
                return SQL("pt.%s", SQL.identifier(fname)), SQL()
        return SQL("NULL::varchar"), SQL()

    def _query(self):
        """One flat SELECT (no CTE, no nested aggregate): PostgreSQL pulls the view up into
        the grouped query (partial aggregates in parallel workers), evaluates only the
        columns a read_group asks for and skips the joins it does not need."""
        brand_expr, brand_join = self._brand_sql()

        revenue = company_currency(SQL("l.price_subtotal"))
        gross_amount = company_currency(
            SQL(
                "(CASE WHEN l.discount = 0 THEN l.price_subtotal "
                "WHEN l.discount >= 100 THEN l.qty * l.price_unit "
                "ELSE l.price_subtotal * 100.0 / (100.0 - l.discount) END)"
            )
        )
        cost = SQL("""(CASE WHEN l.ru_valuation_cost_set THEN l.ru_valuation_cost
                            WHEN l.is_total_cost_computed THEN l.total_cost
                            ELSE l.qty * COALESCE((pp.standard_price ->> o.company_id::text)::numeric, 0)
                       END)""")
        return SQL(
            """
            SELECT l.id,
                   o.date_order AS date,
                   l.order_id,
                   o.company_id,
                   co.currency_id,
                   pc.optics_store_id AS store_id,
                   o.config_id,
                   o.session_id,
                   o.user_id,
                   o.partner_id,
                   l.product_id,
                   pp.product_tmpl_id,
                   pt.categ_id,
                   %(brand)s AS brand,
                   l.qty < 0 AS is_refund,
                   l.qty,
                   %(revenue)s AS revenue,
                   %(revenue_incl)s AS revenue_incl,
                   %(gross_amount)s AS gross_amount,
                   %(gross_amount)s - %(revenue)s AS discount_amount,
                   CASE WHEN l.discount = 0 OR %(gross_amount)s = 0 THEN 0
                        ELSE (%(gross_amount)s - %(revenue)s) * 100.0 / %(gross_amount)s
                   END AS discount_share,
                   %(cost)s AS cost,
                   %(revenue)s - %(cost)s AS gross_profit,
                   CASE WHEN l.price_subtotal <> 0
                        THEN (%(revenue)s - %(cost)s) * 100.0 / %(revenue)s ELSE 0
                   END AS margin_percent,
                   CASE WHEN l.ru_valuation_cost_set THEN 'valuation'
                        WHEN l.is_total_cost_computed THEN 'pos'
                        ELSE 'product'
                   END AS cost_source
              FROM pos_order_line l
              JOIN pos_order o ON o.id = l.order_id
              -- LEFT JOINs on unique keys: the planner drops those a query does not use
         LEFT JOIN res_company co ON co.id = o.company_id
         LEFT JOIN pos_config pc ON pc.id = o.config_id
         LEFT JOIN product_product pp ON pp.id = l.product_id
         LEFT JOIN product_template pt ON pt.id = pp.product_tmpl_id
              %(brand_join)s
             WHERE o.state IN ('paid', 'done', 'invoiced')
        """,
            brand=brand_expr,
            brand_join=brand_join,
            revenue=revenue,
            revenue_incl=company_currency(SQL("l.price_subtotal_incl")),
            gross_amount=gross_amount,
            cost=cost,
        )
