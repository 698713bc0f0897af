from odoo import api, fields, models

from ..opticslib import leadtime

LENS_TYPES = [
    ("single", "Single vision"),
    ("bifocal", "Bifocal"),
    ("progressive", "Progressive"),
    ("office", "Office"),
]
LENS_SOURCES = [("stock", "Stock lens in the store"), ("store", "Another store"), ("supplier", "Supplier")]


class OpticsLeadTime(models.Model):
    _name = "optics.lead.time"
    _description = "Lab Lead Time"
    _order = "lens_type, lens_source"

    lens_type = fields.Selection(LENS_TYPES, required=True)
    lens_source = fields.Selection(LENS_SOURCES, string="Source", required=True)
    days = fields.Integer(string="Working days", required=True, default=0)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)

    _sql_constraints = [
        (
            "type_source_company_uniq",
            "unique(lens_type, lens_source, company_id)",
            "There is already a lead time for this lens type and source.",
        ),
        ("days_positive", "CHECK(days >= 0)", "A lead time cannot be negative."),
    ]

    @api.model
    def _get_table(self, company=None):
        """{(lens_type, source): days}: configured values over the built-in defaults."""
        company = company or self.env.company
        table = dict(leadtime.DEFAULT_LEAD_DAYS)
        for rec in self.sudo().search([("company_id", "=", company.id)]):
            table[(rec.lens_type, rec.lens_source)] = rec.days
        return table
