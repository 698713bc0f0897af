from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..opticslib import makeability


class OpticsLensRange(models.Model):
    """One row of the manufacturer's range table: what can be made in one blank diameter.

    SPH limits apply to each principal meridian (SPH and SPH + CYL) in the
    design's cylinder notation.
    """

    _name = "optics.lens.range"
    _description = "Lens Power Range"
    _order = "design_id, diameter"

    design_id = fields.Many2one("optics.lens.design", required=True, ondelete="cascade", index=True)
    diameter = fields.Integer(string="Diameter (mm)", required=True)
    sph_min = fields.Float(string="SPH from", digits=(5, 2), required=True)
    sph_max = fields.Float(string="SPH to", digits=(5, 2), required=True)
    cyl_min = fields.Float(string="CYL from", digits=(5, 2))
    cyl_max = fields.Float(string="CYL to", digits=(5, 2))
    add_min = fields.Float(string="ADD from", digits=(4, 2))
    add_max = fields.Float(string="ADD to", digits=(4, 2))

    @api.constrains("diameter", "sph_min", "sph_max", "cyl_min", "cyl_max", "add_min", "add_max")
    def _check_range(self):
        for line in self:
            name = line.design_id.display_name
            if not 40 <= line.diameter <= 90:
                raise ValidationError(
                    self.env._(
                        "%(design)s: diameter %(dia)s mm is outside 40 … 90 mm.",
                        design=name,
                        dia=line.diameter,
                    )
                )
            for label, low, high in (
                ("SPH", line.sph_min, line.sph_max),
                ("CYL", line.cyl_min, line.cyl_max),
                ("ADD", line.add_min, line.add_max),
            ):
                if low > high:
                    low_text, high_text = f"{low:+.2f}", f"{high:+.2f}"
                    raise ValidationError(
                        self.env._(
                            "%(design)s, %(dia)s mm: %(field)s from %(low)s is above %(field)s to %(high)s.",
                            design=name,
                            dia=line.diameter,
                            field=label,
                            low=low_text,
                            high=high_text,
                        )
                    )

    def _to_opticslib(self):
        self.ensure_one()
        has_add = self.add_min or self.add_max
        return makeability.RangeLine.make(
            self.diameter,
            self.sph_min,
            self.sph_max,
            self.cyl_min,
            self.cyl_max,
            self.add_min if has_add else None,
            self.add_max if has_add else None,
        )
