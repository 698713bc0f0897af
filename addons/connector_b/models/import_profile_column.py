from odoo import fields, models

FIELD_LABELS = [
    ("article", "Supplier article"),
    ("ean", "EAN / barcode"),
    ("name", "Name"),
    ("brand", "Brand"),
    ("lens_index", "Lens index"),
    ("coating", "Coating"),
    ("diameter", "Diameter(s)"),
    ("sph_min", "SPH from"),
    ("sph_max", "SPH to"),
    ("sph_range", "SPH range (from..to)"),
    ("cyl_min", "CYL from"),
    ("cyl_max", "CYL to"),
    ("cyl_range", "CYL range (from..to)"),
    ("add_min", "ADD from"),
    ("add_max", "ADD to"),
    ("add_range", "ADD range (from..to)"),
    ("price", "Purchase price"),
    ("retail_price", "Retail price"),
    ("currency", "Currency"),
    ("vat", "VAT"),
    ("stock", "Supplier stock"),
    ("lead_time", "Lead time (days)"),
]


class ImportProfileColumn(models.Model):
    _name = "connector_b.import.profile.column"
    _description = "Price-list Column Mapping"
    _order = "profile_id, sequence, id"

    profile_id = fields.Many2one("connector_b.import.profile", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    field = fields.Selection(FIELD_LABELS, required=True)
    header = fields.Char(
        string="Column in the file",
        required=True,
        help="The column title as in the file (case, spaces and punctuation do not matter; "
        "alternatives separated by |), or its number: #3.",
    )

    def _spec(self):
        self.ensure_one()
        header = self.header.strip()
        if header.startswith("#") and header[1:].isdigit():
            return int(header[1:])
        return header
