from odoo import fields, models


class OpticsLensCoating(models.Model):
    _name = "optics.lens.coating"
    _description = "Lens Coating"
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(help="Manufacturer's coating code (e.g. the b2boptic / DCS code).")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
