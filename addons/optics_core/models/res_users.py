from odoo import api, fields, models


class ResUsers(models.Model):
    _inherit = "res.users"

    optics_store_ids = fields.Many2many(
        "optics.store",
        "optics_store_res_users_rel",
        "user_id",
        "store_id",
        string="Stores",
        help="Stores whose points of sale, sessions, orders and fiscal documents this user "
        "sees as a cashier or store manager.",
    )
    optics_store_id = fields.Many2one(
        "optics.store",
        string="Home Store",
        compute="_compute_optics_store_id",
        store=True,
        readonly=False,
        help="The store a cashier works in by default.",
    )

    @api.depends("optics_store_ids")
    def _compute_optics_store_id(self):
        for user in self:
            if user.optics_store_id not in user.optics_store_ids:
                user.optics_store_id = user.optics_store_ids[:1]

    @property
    def SELF_READABLE_FIELDS(self):
        return super().SELF_READABLE_FIELDS + ["optics_store_ids", "optics_store_id"]

    def _load_pos_data(self, data):
        result = super()._load_pos_data(data)
        config = self.env["pos.config"].browse(data["pos.config"]["data"][0]["id"])
        for user_vals in result["data"]:
            user = self.browse(user_vals["id"])
            user_vals["optics_discount_limit"] = config._get_optics_discount_limit(user)
        return result

    def _optics_roles(self):
        """The opticslib roles (see opticslib.laborder) this user holds through their groups."""
        self.ensure_one()
        from .optics_lab_order import ROLE_GROUPS

        roles = {role for role, xmlid in ROLE_GROUPS.items() if self.has_group(xmlid)}
        if "admin" in roles or self._is_superuser():
            roles = set(ROLE_GROUPS)
        return frozenset(roles)
