from odoo import api, fields, models

from ..opticslib import fiscal


class OpticsLabOrderLine(models.Model):
    """One component of the kit: the frame, a lens, or a piece of work."""

    _name = "optics.lab.order.line"
    _description = "Lab Order Kit Line"
    _order = "order_id, sequence, id"

    order_id = fields.Many2one("optics.lab.order", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    role = fields.Selection(
        [
            ("frame", "Frame"),
            ("lens_od", "Lens OD"),
            ("lens_os", "Lens OS"),
            ("work", "Work"),
            ("other", "Other"),
        ],
        required=True,
        default="other",
    )
    product_id = fields.Many2one("product.product", required=True)
    name = fields.Char(string="Description")
    quantity = fields.Float(default=1.0, digits="Product Unit of Measure", required=True)
    price_unit = fields.Float(
        string="Unit price", digits="Product Price", compute="_compute_price_unit", store=True, readonly=False
    )
    discount = fields.Float(string="Discount (%)", digits="Discount")
    tax_ids = fields.Many2many(
        "account.tax", string="Taxes", compute="_compute_tax_ids", store=True, readonly=False
    )
    currency_id = fields.Many2one(related="order_id.currency_id")
    price_total = fields.Monetary(
        string="Total",
        compute="_compute_price_total",
        store=True,
        help="VAT included (retail prices include VAT).",
    )
    company_id = fields.Many2one(related="order_id.company_id", store=True)

    @api.depends("product_id")
    def _compute_price_unit(self):
        for line in self:
            line.price_unit = line.product_id.lst_price

    @api.depends("product_id")
    def _compute_tax_ids(self):
        for line in self:
            company = line.order_id.company_id
            line.tax_ids = line.product_id.taxes_id.filtered(
                lambda t, company=company: t.company_id == company or not t.company_id
            )

    @api.depends("price_unit", "quantity", "discount", "tax_ids")
    def _compute_price_total(self):
        for line in self:
            price = line.price_unit * (1 - (line.discount or 0.0) / 100.0)
            if line.tax_ids:
                taxes = line.tax_ids.compute_all(
                    price, line.currency_id, line.quantity, product=line.product_id
                )
                line.price_total = taxes["total_included"]
            else:
                line.price_total = price * line.quantity

    def _get_ffd_vat_code(self):
        """Tag 1199 for this line: the tax's code; no tax means exempt (6)."""
        self.ensure_one()
        codes = {int(t.ffd_vat_code) for t in self.tax_ids if t.ffd_vat_code}
        if len(codes) > 1:
            raise ValueError(f"line {self.display_name} has several VAT codes {sorted(codes)}")
        return codes.pop() if codes else fiscal.VAT_EXEMPT
