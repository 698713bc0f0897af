from odoo import _, fields, models
from odoo.exceptions import AccessError


class PosConfig(models.Model):
    _inherit = "pos.config"

    optics_store_id = fields.Many2one(
        "optics.store",
        string="Store",
        index=True,
        check_company=True,
        help="The store this point of sale belongs to; it decides who may see it.",
    )
    optics_cashier_discount_limit = fields.Float(
        string="Cashier Discount Limit (%)",
        default=10.0,
        help="Largest line discount a cashier may give in this point of sale.",
    )
    optics_manager_discount_limit = fields.Float(
        string="Store Manager Discount Limit (%)",
        default=30.0,
        help="Largest line discount a store manager may give; administrators have no limit.",
    )

    _sql_constraints = [
        (
            "optics_discount_limits_range",
            "CHECK(optics_cashier_discount_limit BETWEEN 0 AND 100 "
            "AND optics_manager_discount_limit BETWEEN 0 AND 100)",
            "Discount limits are percentages between 0 and 100.",
        ),
    ]

    def _get_optics_admin_only_fields(self):
        """Fields of a point of sale that only an administrator sets: which store and company
        it belongs to and the store manager's own discount limit (extended by the fiscal addon
        with the till's 54-FZ settings)."""
        return {"optics_store_id", "company_id", "optics_manager_discount_limit"}

    def write(self, vals):
        self._check_optics_settings_write(vals)
        return super().write(vals)

    def _check_optics_settings_write(self, vals):
        """Who may change a point of sale, checked on the server for every write (Odoo lets
        every POS user write pos.config): a cashier changes nothing; a store manager the
        settings of their stores' tills (record rules) except the administrator-only fields."""
        user = self.env.user
        if (
            self.env.su
            or user.has_group("point_of_sale.group_pos_manager")
            or user.has_group("base.group_system")
        ):
            return
        if user.has_group("optics_core.group_optics_cashier") and not user.has_group(
            "optics_core.group_optics_store_manager"
        ):
            raise AccessError(
                _("Only a store manager or an administrator can change the settings of a point of sale.")
            )
        restricted = sorted(set(vals) & self._get_optics_admin_only_fields())
        if restricted:
            raise AccessError(
                _(
                    "Only an administrator can change these settings of a point of sale: %s",
                    ", ".join(self._fields[name].string for name in restricted),
                )
            )

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
