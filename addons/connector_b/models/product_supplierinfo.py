from odoo import fields, models

AVAILABILITY = [("in_stock", "In stock"), ("low", "Low"), ("on_order", "On order"), ("out", "Out of stock")]
VAT = [
    ("exempt", "VAT exempt"),
    ("0", "0 %"),
    ("5", "5 %"),
    ("7", "7 %"),
    ("10", "10 %"),
    ("20", "20 %"),
    ("22", "22 %"),
]


class ProductSupplierinfo(models.Model):
    _inherit = "product.supplierinfo"

    connector_b_stock_qty = fields.Float(
        string="Supplier stock",
        digits="Product Unit of Measure",
        help="Quantity the supplier reported in the last imported price list.",
    )
    connector_b_availability = fields.Selection(
        AVAILABILITY,
        string="Supplier availability",
        help="Availability as the supplier reported it (some lists say 'много/мало/нет').",
    )
    connector_b_vat = fields.Selection(
        VAT, string="Supplier VAT", help="VAT treatment stated in the price list."
    )
    connector_b_history_id = fields.Many2one(
        "connector_b.import.history",
        string="Last import",
        readonly=True,
        index="btree_not_null",
        ondelete="set null",
    )
