from odoo import fields, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    optics_store_id = fields.Many2one(
        "optics.store", string="Store", index=True, check_company=True,
        help="The store this point of sale belongs to; it decides who may see it.")
    optics_cashier_discount_limit = fields.Float(
        string="Cashier Discount Limit (%)", default=10.0,
        help="Largest line discount a cashier may give in this point of sale.")
    optics_manager_discount_limit = fields.Float(
        string="Store Manager Discount Limit (%)", default=30.0,
        help="Largest line discount a store manager may give; administrators have no limit.")

    _sql_constraints = [
        ("optics_discount_limits_range",
         "CHECK(optics_cashier_discount_limit BETWEEN 0 AND 100 "
         "AND optics_manager_discount_limit BETWEEN 0 AND 100)",
         "Discount limits are percentages between 0 and 100."),
    ]

    def _get_optics_discount_limit(self, user):
        """The largest line discount ``user`` may give here, by role."""
        self.ensure_one()
        if user.has_group("optics_core.group_optics_admin"):
            return 100.0
        if user.has_group("optics_core.group_optics_store_manager"):
            return self.optics_manager_discount_limit
        if user.has_group("optics_core.group_optics_cashier"):
            return self.optics_cashier_discount_limit
        # Users outside the optics roles (e.g. a plain POS manager) keep Odoo's behaviour.
        return 100.0
