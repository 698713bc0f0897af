from odoo import api, fields, models


class ResPartner(models.Model):
    _inherit = "res.partner"

    optics_prescription_ids = fields.One2many(
        "optics.prescription", "partner_id", string="Prescriptions",
        domain=[("snapshot_lab_order_id", "=", False)])
    optics_lab_order_ids = fields.One2many("optics.lab.order", "partner_id", string="Lab orders")
    optics_prescription_count = fields.Integer(compute="_compute_optics_counts")
    optics_lab_order_count = fields.Integer(compute="_compute_optics_counts")

    @api.depends("optics_prescription_ids", "optics_lab_order_ids")
    def _compute_optics_counts(self):
        rx_counts = dict(self.env["optics.prescription"]._read_group(
            [("partner_id", "in", self.ids), ("snapshot_lab_order_id", "=", False)], ["partner_id"], ["__count"]))
        lo_counts = dict(self.env["optics.lab.order"]._read_group(
            [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]))
        for partner in self:
            partner.optics_prescription_count = rx_counts.get(partner, 0)
            partner.optics_lab_order_count = lo_counts.get(partner, 0)

    def action_view_optics_prescriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.optics_prescription_action")
        action.update(domain=[("partner_id", "=", self.id)], context={"default_partner_id": self.id})
        return action

    def action_view_optics_lab_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.optics_lab_order_action")
        action.update(domain=[("partner_id", "=", self.id)], context={"default_partner_id": self.id})
        return action
