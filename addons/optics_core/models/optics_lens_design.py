from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..opticslib import makeability
from .optics_lead_time import LENS_TYPES

LENS_MATERIALS = [
    ("cr39", "CR-39 (organic)"),
    ("polycarbonate", "Polycarbonate"),
    ("trivex", "Trivex"),
    ("mr", "High-index MR"),
    ("glass", "Mineral glass"),
]


class OpticsLensDesign(models.Model):
    """A manufacturer's lens design with its power range table.

    Powers are never product variants: one product template is sold per lens
    and the range lines say which powers can be made.
    """

    _name = "optics.lens.design"
    _description = "Lens Design"
    _inherit = ["mail.thread"]
    _order = "manufacturer_id, name, index"

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(help="Manufacturer's design code.")
    manufacturer_id = fields.Many2one("res.partner")
    product_tmpl_id = fields.Many2one(
        "product.template",
        string="Product",
        required=True,
        ondelete="restrict",
        help="The product sold for one lens of this design (no variant per power).",
    )
    lens_type = fields.Selection(LENS_TYPES, required=True, default="single", tracking=True)
    material = fields.Selection(LENS_MATERIALS, required=True, default="cr39")
    index = fields.Float(string="Refractive index", digits=(3, 2), required=True, default=1.5)
    coating_ids = fields.Many2many("optics.lens.coating", string="Coatings")
    cyl_convention = fields.Selection(
        [("minus", "Minus cylinder"), ("plus", "Plus cylinder")],
        string="Cylinder notation",
        required=True,
        default="minus",
        help="The manufacturer's cylinder convention; prescriptions are transposed to it before checking.",
    )
    min_fitting_height = fields.Float(
        string="Min. fitting height (mm)",
        digits=(4, 1),
        help="Progressive designs: the smallest fitting height the corridor fits in.",
    )
    stock_lens = fields.Boolean(help="Held in stores as ready lenses (otherwise made by the supplier).")
    range_ids = fields.One2many("optics.lens.range", "design_id", string="Power ranges", copy=True)
    diameters = fields.Char(compute="_compute_diameters")
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    @api.depends("range_ids.diameter")
    def _compute_diameters(self):
        for design in self:
            design.diameters = ", ".join(str(d) for d in sorted(set(design.range_ids.mapped("diameter"))))

    @api.constrains("index")
    def _check_index(self):
        for design in self:
            if not 1.50 <= round(design.index, 2) <= 1.74:
                index = f"{design.index:.2f}"
                raise ValidationError(
                    self.env._(
                        "Lens design %(design)s: refractive index %(index)s is outside 1.50 … 1.74.",
                        design=design.display_name,
                        index=index,
                    )
                )

    @api.constrains("min_fitting_height", "lens_type")
    def _check_fitting_height(self):
        for design in self:
            if design.min_fitting_height and not 10 <= design.min_fitting_height <= 30:
                raise ValidationError(
                    self.env._(
                        "Lens design %(design)s: minimum fitting height %(mfh)s mm is outside 10 … 30 mm.",
                        design=design.display_name,
                        mfh=design.min_fitting_height,
                    )
                )

    def _to_opticslib(self):
        self.ensure_one()
        return makeability.Design(
            lens_type=self.lens_type,
            ranges=tuple(line._to_opticslib() for line in self.range_ids),
            cyl_convention=self.cyl_convention,
            min_fitting_height=self.min_fitting_height or None,
            name=self.display_name,
        )

    def _format_problem(self, problem):
        """Translated text of an :class:`opticslib.makeability.Problem`."""
        v = {k: makeability._fmt(k, x) for k, x in problem.values.items()}
        types = dict(self._fields["lens_type"]._description_selection(self.env))
        if "lens_type" in v:
            v["lens_type"] = types.get(v["lens_type"], v["lens_type"])
        eye = {"od": "OD", "os": "OS"}.get(problem.eye)
        texts = {
            "no_ranges": lambda: self.env._("the design has no power range table"),
            "no_common_diameter": lambda: self.env._("no blank diameter can be made for both eyes"),
            "no_diameter": lambda: self.env._("no blank of %(min_diameter)s mm or more in this design", **v),
            "meridian_out": lambda: self.env._(
                "principal meridian %(meridian)s = %(power)s D is outside %(low)s … %(high)s D", **v
            ),
            "cyl_out": lambda: self.env._("cylinder %(cyl)s D is outside %(low)s … %(high)s D", **v),
            "add_missing": lambda: self.env._("an ADD is required for a %(lens_type)s lens", **v),
            "add_out": lambda: self.env._("ADD %(add)s D is outside %(low)s … %(high)s D", **v),
            "fitting_height_missing": lambda: self.env._(
                "the fitting height is required for a progressive lens"
            ),
            "fitting_height_low": lambda: self.env._(
                "fitting height %(fitting_height)s mm is below the design's minimum %(min_fitting_height)s "
                "mm",
                **v,
            ),
            "fitting_height_above_frame": lambda: self.env._(
                "fitting height %(fitting_height)s mm exceeds the frame's B %(frame_b)s mm", **v
            ),
            "frame_too_shallow": lambda: self.env._(
                "the frame accepts progressive designs up to %(frame_fh)s mm minimum fitting height; "
                "this design needs %(min_fitting_height)s mm",
                **v,
            ),
        }
        text = texts[problem.code]() if problem.code in texts else problem.message
        return f"{eye}: {text}" if eye else text

    def _check_makeable(self, eyes, frame=None, min_diameter=None):
        """:class:`opticslib.makeability.Result` for {'od': {...}, 'os': {...}} values."""
        self.ensure_one()
        return makeability.check(
            self._to_opticslib(),
            eyes,
            frame_b=frame.frame_b if frame else None,
            frame_fh=frame.frame_progressive_height if frame else None,
            min_diameter=min_diameter,
        )
