from odoo import fields, models


class OpticsCashDenomination(models.Model):
    """A banknote or coin the reconciliation counts (Russian roubles by default)."""

    _name = "optics.cash.denomination"
    _description = "Cash Denomination"
    _order = "currency_id, value desc"

    name = fields.Char(required=True, translate=True)
    value = fields.Float(required=True, digits=(12, 2))
    kind = fields.Selection([("banknote", "Banknote"), ("coin", "Coin")], required=True, default="banknote")
    currency_id = fields.Many2one(
        "res.currency", required=True, default=lambda self: self.env.ref("base.RUB")
    )
    active = fields.Boolean(default=True)

    _sql_constraints = [
        (
            "value_kind_uniq",
            "unique(currency_id, value, kind)",
            "A denomination exists once per currency and kind.",
        ),
        ("value_positive", "CHECK(value > 0)", "A denomination is worth more than nothing."),
    ]
