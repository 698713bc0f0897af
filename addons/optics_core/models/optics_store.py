from odoo import api, fields, models


class OpticsStore(models.Model):
    """One shop of the chain.  Everything a cashier or a store manager may see
    is scoped by the stores they are assigned to (see the record rules)."""

    _name = "optics.store"
    _description = "Optical Store"
    _inherit = ["mail.thread"]
    _order = "sequence, name"

    name = fields.Char(required=True, translate=True, tracking=True)
    code = fields.Char(required=True, help="Short code used on documents and in reports.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    partner_id = fields.Many2one(
        "res.partner",
        string="Address",
        help="The store's address. Fiscal receipts print the settlement address (tag 1009) the KKT "
        "was registered with at the tax service; keep the two the same.",
    )
    warehouse_id = fields.Many2one("stock.warehouse", check_company=True)
    manager_id = fields.Many2one("res.users", string="Store Manager", tracking=True)
    user_ids = fields.Many2many(
        "res.users", "optics_store_res_users_rel", "store_id", "user_id", string="Staff"
    )
    pos_config_ids = fields.One2many("pos.config", "optics_store_id", string="Points of Sale")
    pos_config_count = fields.Integer(compute="_compute_pos_config_count")

    _sql_constraints = [
        ("code_company_uniq", "unique(code, company_id)", "The store code must be unique per company."),
    ]

    @api.depends("pos_config_ids")
    def _compute_pos_config_count(self):
        counts = dict(
            self.env["pos.config"]._read_group(
                [("optics_store_id", "in", self.ids)], ["optics_store_id"], ["__count"]
            )
        )
        for store in self:
            store.pos_config_count = counts.get(store, 0)

    def action_view_pos_configs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("point_of_sale.action_pos_config_kanban")
        action["domain"] = [("optics_store_id", "=", self.id)]
        action["context"] = {"default_optics_store_id": self.id}
        return action
