from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

ADMIN_GROUP = "optics_core.group_optics_admin"


class OpticsFiscalDeadLetter(models.Model):
    """A fiscal document the pipeline gave up on: the OFD rejected it, or it had no
    confirmation after the last attempt.  Only an administrator requeues it (after
    fixing the cause) or resolves it (it was settled outside the pipeline), always
    with a reason; both are audited."""

    _name = "optics.fiscal.dead.letter"
    _description = "Fiscal Dead Letter"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"

    name = fields.Char(related="document_id.name", store=True)
    document_id = fields.Many2one(
        "optics.fiscal.document", required=True, readonly=True, ondelete="restrict", index=True
    )
    company_id = fields.Many2one(related="document_id.company_id", store=True)
    pos_config_id = fields.Many2one(related="document_id.pos_config_id", store=True)
    store_id = fields.Many2one(related="document_id.store_id", store=True)
    fd_number = fields.Integer(related="document_id.fd_number")
    fn_serial = fields.Char(related="document_id.fn_serial")
    doc_time = fields.Datetime(related="document_id.doc_time")
    kind = fields.Selection(
        [
            ("rejected", "Rejected by the OFD"),
            ("exhausted", "Attempts exhausted"),
            ("malformed", "Malformed document"),
        ],
        required=True,
        readonly=True,
    )
    reason = fields.Text(required=True, readonly=True)
    attempts = fields.Integer(readonly=True)
    error_history = fields.Text(readonly=True, help="The document's OFD log when it was dead-lettered.")
    state = fields.Selection(
        [("open", "Open"), ("requeued", "Requeued"), ("resolved", "Resolved")],
        default="open",
        required=True,
        readonly=True,
        tracking=True,
        index=True,
    )
    action_reason = fields.Text(string="Decision Reason", readonly=True, tracking=True)
    action_user_id = fields.Many2one("res.users", string="Decided By", readonly=True, tracking=True)
    action_date = fields.Datetime(string="Decided On", readonly=True)

    @api.model
    def _open_for(self, document, reason, kind):
        history = "\n".join(
            f"{log.date} #{log.attempt} {log.kind}: {log.message}"
            for log in document.sudo().log_ids.sorted("id")
        )
        letter = self.sudo().create(
            {
                "document_id": document.id,
                "kind": kind,
                "reason": reason,
                "attempts": document.attempts,
                "error_history": history,
            }
        )
        letter.message_post(body=_("Dead-lettered: %s", reason))
        return letter

    def _check_admin(self):
        if not self.env.user.has_group(ADMIN_GROUP):
            raise AccessError(_("Only administrators may requeue or resolve dead letters."))

    def _check_open(self):
        for letter in self:
            if letter.state != "open":
                raise UserError(
                    _(
                        "Dead letter %(letter)s is already %(state)s.",
                        letter=letter.display_name,
                        state=letter.state,
                    )
                )

    def _require_reason(self, reason):
        if not (reason or "").strip():
            raise UserError(_("Give a reason: it is kept in the audit log."))

    def _check_closable(self, reason):
        """Only an administrator closes a case, an open one, and says why."""
        self._check_admin()
        self._require_reason(reason)
        self._check_open()

    def _close_case(self, state, reason, note, audit_action):
        """The letter's case closed by the current user: its state and reason, a chatter note
        and the audit log entry."""
        self.sudo().write(
            {
                "state": state,
                "action_reason": reason,
                "action_user_id": self.env.user.id,
                "action_date": fields.Datetime.now(),
            }
        )
        self.message_post(body=note)
        self.env["optics.fiscal.audit"]._log(audit_action, self, reason)

    def action_requeue(self, reason):
        """Send the document to the OFD again with a fresh attempt budget."""
        self._check_closable(reason)
        for letter in self:
            doc = letter.document_id.sudo()
            doc._ofd_log(
                "requeue", _("Requeued by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
            )
            doc.write({"ofd_state": "pending", "attempts": 0, "ofd_job_key": False, "last_error": False})
            letter._close_case("requeued", reason, _("Requeued: %s", reason), "dlq_requeue")
        self.document_id.sudo()._ofd_enqueue()
        return True

    def action_resolve(self, reason):
        """Close the case without sending (settled outside the pipeline)."""
        self._check_closable(reason)
        for letter in self:
            doc = letter.document_id.sudo()
            doc._ofd_log(
                "resolved", _("Resolved by %(user)s: %(reason)s", user=self.env.user.name, reason=reason)
            )
            doc.write({"ofd_state": "resolved", "ofd_job_key": False})
            letter._close_case("resolved", reason, _("Resolved: %s", reason), "dlq_resolve")
        return True

    def action_open_wizard(self):
        self._check_admin()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_reason_wizard"
        )
        action["context"] = {
            "default_dead_letter_ids": self.ids,
            "default_operation": self.env.context.get("dlq_operation", "requeue"),
        }
        return action
