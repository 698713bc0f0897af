from odoo import api, fields, models
from odoo.exceptions import ValidationError

#: Честный ЗНАК product groups an optics store sells (the group codes of the ЧЗ API):
#: eye-health БАДы (ПП № 886/1680/1953), lens-care and cosmetic products (ПП № 1681),
#: perfumery (ПП № 1957).  docs/marking.md.
MARKING_GROUPS = [
    ("bio", "Dietary supplements (БАД)"),
    ("chemistry", "Cosmetics and household chemicals"),
    ("perfumery", "Perfumery"),
]


class ProductTemplate(models.Model):
    _inherit = "product.template"

    ru54fz_marked = fields.Boolean(
        string="Marked goods (Честный ЗНАК)",
        help="Each unit carries a DataMatrix marking code: the POS asks for it at the sale, "
        "the till checks it (permissive mode) and prints it on the receipt (tag 2000).",
    )
    ru54fz_marking_group = fields.Selection(MARKING_GROUPS, string="Marked product group")

    @api.constrains("ru54fz_marked", "ru54fz_marking_group", "type")
    def _check_ru54fz_marking(self):
        for template in self:
            if template.ru54fz_marked and not template.ru54fz_marking_group:
                raise ValidationError(
                    self.env._(
                        "Product “%s” is marked goods: choose its marked product group.",
                        template.display_name,
                    )
                )
            if template.ru54fz_marked and template.type != "consu":
                raise ValidationError(
                    self.env._(
                        "Product “%s”: only goods can be marked, not services or combos.",
                        template.display_name,
                    )
                )
