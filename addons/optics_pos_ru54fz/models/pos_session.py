from odoo import api, fields, models


class PosSession(models.Model):
    _inherit = "pos.session"

    ru54fz_document_ids = fields.One2many("optics.fiscal.document", "pos_session_id",
                                          string="Fiscal Documents", readonly=True)
    ru54fz_document_count = fields.Integer(compute="_compute_ru54fz_fiscal_state")
    ru54fz_unconfirmed_count = fields.Integer(string="Unconfirmed Fiscal Documents",
                                              compute="_compute_ru54fz_fiscal_state")
    ru54fz_ofd_state = fields.Selection(
        [("none", "No fiscal document"), ("pending", "Waiting for the OFD"),
         ("acknowledged", "Confirmed by the OFD"), ("problem", "Dead-lettered"),
         ("resolved", "Resolved manually")],
        string="Fiscal State", compute="_compute_ru54fz_fiscal_state")

    @api.depends("ru54fz_document_ids.ofd_state")
    def _compute_ru54fz_fiscal_state(self):
        counts = {}
        if self.ids:
            rows = self.env["optics.fiscal.document"].sudo()._read_group(
                [("pos_session_id", "in", self.ids), ("ofd_state", "!=", "not_applicable")],
                ["pos_session_id", "ofd_state"], ["__count"])
            for session, state, count in rows:
                counts.setdefault(session.id, {})[state] = count
        for session in self:
            by_state = counts.get(session.id, {})
            session.ru54fz_document_count = sum(by_state.values())
            session.ru54fz_unconfirmed_count = sum(
                n for s, n in by_state.items() if s in ("pending", "sending", "failed", "dead_lettered"))
            session.ru54fz_ofd_state = self.env["pos.order"]._ru54fz_summarise(list(by_state))

    def action_ru54fz_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_document")
        action["domain"] = [("pos_session_id", "=", self.id)]
        action["context"] = {}
        return action
