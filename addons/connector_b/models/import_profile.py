from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..pricelist import Profile

MATCH_ORDERS = [
    ("article,ean,name", "Supplier article, then EAN, then name"),
    ("article,ean", "Supplier article, then EAN"),
    ("article", "Supplier article only"),
    ("ean,article", "EAN, then supplier article"),
]


class ImportProfile(models.Model):
    """How one supplier's price list is laid out; used by every import of that supplier."""

    _name = "connector_b.import.profile"
    _description = "Price-list Import Profile"
    _order = "partner_id, name"

    name = fields.Char(required=True, translate=True)
    active = fields.Boolean(default=True)
    partner_id = fields.Many2one(
        "res.partner", string="Supplier", required=True, index=True, domain="[('is_company', '=', True)]"
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    file_type = fields.Selection(
        [("xlsx", "Excel (.xlsx)"), ("xls", "Excel 97-2003 (.xls)"), ("csv", "CSV")],
        required=True,
        default="xlsx",
    )
    sheet = fields.Char(help="Sheet name or number (1 = first). Empty: the first sheet.")
    header_row = fields.Integer(
        default=1, required=True, help="Row of the column titles (1 = first row). 0: find it automatically."
    )
    header_rows = fields.Selection(
        [("1", "One row"), ("2", "Two rows (merged upper cells)")],
        string="Header height",
        default="1",
        required=True,
        help="Two rows: titles like 'Цена' merged over 'опт' / 'розн.' are read as "
        "'Цена / опт' and 'Цена / розн.'.",
    )
    encoding = fields.Selection(
        [("auto", "Detect"), ("utf-8", "UTF-8"), ("cp1251", "Windows-1251"), ("utf-16", "UTF-16")],
        default="auto",
        required=True,
    )
    delimiter = fields.Selection(
        [("auto", "Detect"), (";", "Semicolon ;"), (",", "Comma ,"), ("\\t", "Tab"), ("|", "Pipe |")],
        string="Separator",
        default="auto",
        required=True,
    )
    decimal_separator = fields.Selection(
        [("auto", "Detect per cell"), (",", "Comma 1 234,56"), (".", "Dot 1,234.56")],
        default="auto",
        required=True,
    )
    unit = fields.Selection(
        [("unit", "Per piece / lens"), ("pair", "Per pair (halved)")],
        string="Prices are",
        default="unit",
        required=True,
    )
    prices_include_vat = fields.Boolean(
        help="Prices in the file include VAT; it is taken out with the row's rate."
    )
    default_currency_id = fields.Many2one(
        "res.currency",
        string="Default currency",
        required=True,
        default=lambda self: self.env.company.currency_id,
    )
    default_vat = fields.Selection(
        [
            ("", "Not stated"),
            ("exempt", "VAT exempt"),
            ("0", "0 %"),
            ("10", "10 %"),
            ("20", "20 %"),
            ("22", "22 %"),
        ],
        default="",
        help="VAT when the file has no VAT column.",
    )
    default_lead_time = fields.Integer(string="Default lead time (days)", default=1)
    match_order = fields.Selection(
        MATCH_ORDERS, string="Match products by", default="article,ean,name", required=True
    )
    # how products that are new to the catalog are created
    new_product_categ_id = fields.Many2one("product.category", string="Category of new products")
    new_product_storable = fields.Boolean(string="Track stock of new products", default=True)
    new_product_available_in_pos = fields.Boolean(string="New products sold in POS", default=True)
    new_product_optics_type = fields.Selection(
        selection="_selection_optics_type",
        string="Optics type of new products",
        help="Rows with a lens index or SPH range are always spectacle lenses.",
    )
    column_ids = fields.One2many(
        "connector_b.import.profile.column", "profile_id", string="Columns", copy=True
    )
    history_ids = fields.One2many("connector_b.import.history", "profile_id", string="Imports")
    history_count = fields.Integer(compute="_compute_history_count")

    _sql_constraints = [
        ("header_row_positive", "CHECK(header_row >= 0)", "The header row cannot be negative.")
    ]

    @api.model
    def _selection_optics_type(self):
        field = self.env["product.template"]._fields.get("optics_type")
        return field.selection if field and isinstance(field.selection, list) else []

    @api.depends("history_ids")
    def _compute_history_count(self):
        counts = dict(
            self.env["connector_b.import.history"]._read_group(
                [("profile_id", "in", self.ids)], ["profile_id"], ["__count"]
            )
        )
        for profile in self:
            profile.history_count = counts.get(profile, 0)

    @api.constrains("column_ids")
    def _check_columns(self):
        for profile in self:
            mapped = profile.column_ids.mapped("field")
            dupes = {f for f in mapped if mapped.count(f) > 1}
            if dupes:
                raise ValidationError(
                    self.env._(
                        "Profile %(name)s maps %(fields)s more than once.",
                        name=profile.name,
                        fields=", ".join(sorted(dupes)),
                    )
                )
            missing = {"article", "name", "price"} - set(mapped)
            if profile.column_ids and missing:
                raise ValidationError(
                    self.env._(
                        "Profile %(name)s must map the columns %(fields)s.",
                        name=profile.name,
                        fields=", ".join(sorted(missing)),
                    )
                )

    def _to_pricelist_profile(self):
        """The plain :class:`pricelist.Profile` the reading library works with."""
        self.ensure_one()
        sheet = self.sheet or None
        if sheet and sheet.isdigit():
            sheet = int(sheet) - 1
        currencies = self.env["res.currency"].with_context(active_test=False).search([]).mapped("name")
        return Profile(
            file_type=self.file_type,
            sheet=sheet,
            header_row=self.header_row,
            header_rows=int(self.header_rows),
            columns={line.field: line._spec() for line in self.column_ids},
            encoding=self.encoding,
            delimiter=self.delimiter,
            decimal_separator=self.decimal_separator,
            unit=self.unit,
            prices_include_vat=self.prices_include_vat,
            default_currency=self.default_currency_id.name,
            default_vat=self.default_vat or "",
            default_lead_time=self.default_lead_time,
            match_keys=tuple(self.match_order.split(",")),
            known_currencies=tuple(currencies),
            price_digits=self.env["decimal.precision"].precision_get("Product Price"),
        )

    def action_open_history(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("connector_b.import_history_action")
        action["domain"] = [("profile_id", "=", self.id)]
        return action

    def action_import(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("connector_b.import_wizard_action")
        action["context"] = {"default_profile_id": self.id}
        return action
