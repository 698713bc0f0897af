from odoo import api, fields, models
from odoo.exceptions import ValidationError

OPTICS_PRODUCT_TYPES = [
    ("frame", "Frame"),
    ("spectacle_lens", "Spectacle lens"),
    ("contact_lens", "Contact lens"),
    ("sunglasses", "Sunglasses"),
    ("accessory", "Accessory"),
    ("service", "Optical service"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    optics_type = fields.Selection(OPTICS_PRODUCT_TYPES, string="Optics type", index=True)
    lens_design_ids = fields.One2many("optics.lens.design", "product_tmpl_id", string="Lens designs")
    # Frame data (box system, ГОСТ Р 71007 / ISO 8624); the EAN is the product barcode.
    frame_brand = fields.Char(string="Brand")
    frame_model = fields.Char(string="Model")
    frame_color = fields.Char(string="Colour")
    frame_material = fields.Selection(
        [
            ("metal", "Metal"),
            ("titanium", "Titanium"),
            ("plastic", "Plastic (acetate)"),
            ("tr90", "TR-90"),
            ("combined", "Combined"),
            ("wood", "Wood"),
        ],
        string="Frame material",
    )
    frame_rim = fields.Selection(
        [("full", "Full rim"), ("semi", "Semi-rimless (nylor)"), ("rimless", "Rimless (drilled)")],
        string="Rim type",
    )
    frame_a = fields.Float(string="A (mm)", digits=(4, 1), help="Horizontal box size of one lens.")
    frame_b = fields.Float(string="B (mm)", digits=(4, 1), help="Vertical box size of one lens.")
    frame_dbl = fields.Float(string="DBL (mm)", digits=(4, 1), help="Distance between lenses (bridge).")
    frame_ed = fields.Float(string="ED (mm)", digits=(4, 1), help="Effective diameter.")
    frame_progressive_height = fields.Float(
        string="Min. fitting height for progressives (mm)",
        digits=(4, 1),
        help="The frame takes progressive designs whose minimum fitting height is at most this value.",
    )

    @api.constrains("frame_a", "frame_b", "frame_dbl", "frame_ed", "frame_progressive_height")
    def _check_frame_sizes(self):
        limits = {
            "frame_a": (30, 80),
            "frame_b": (15, 70),
            "frame_dbl": (10, 30),
            "frame_ed": (30, 90),
            "frame_progressive_height": (10, 40),
        }
        for tmpl in self:
            for fname, (low, high) in limits.items():
                value = tmpl[fname]
                if value and not low <= value <= high:
                    raise ValidationError(
                        self.env._(
                            "Frame %(frame)s: %(field)s = %(value)s mm is outside %(low)s … %(high)s mm.",
                            frame=tmpl.display_name,
                            field=tmpl._fields[fname].get_description(self.env)["string"],
                            value=value,
                            low=low,
                            high=high,
                        )
                    )
            if (
                tmpl.frame_b
                and tmpl.frame_progressive_height
                and tmpl.frame_progressive_height > tmpl.frame_b
            ):
                raise ValidationError(
                    self.env._(
                        "Frame %(frame)s: the progressive fitting height cannot exceed B.",
                        frame=tmpl.display_name,
                    )
                )
