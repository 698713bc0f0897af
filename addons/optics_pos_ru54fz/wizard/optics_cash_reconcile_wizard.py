import logging
import uuid as uuidlib

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..models.pos_session import MANAGER_GROUP
from ..ru54fz import shift_counters

_logger = logging.getLogger(__name__)

#: till journal states of entries fiscalised on the KKT but not yet at central
#: dead_letter: fiscalised, but central refused it and the till set it aside; the session's
#: cash is not reconciled without it (support resolves it, the till then delivers it)
UNDELIVERED_STATES = ("sent", "fiscalised", "dead_letter")
#: KKT counter rows that must match the trail before a Z report (receipts and cash moves
#: delivered to central); the drawer total depends on the device's own bookkeeping
BLOCKING_COUNTERS = 6


class OpticsCashReconcileWizard(models.TransientModel):
    """Closing count of a POS session, and optionally its Z report.

    * expected cash from the session's cash trail against the cash counted by
      denomination;
    * each card method's trail total against the acquirer's slip total;
    * the trail against the KKT's own shift counters (read through the till proxy);

    every mismatch is shown line by line.  Confirming closes the POS session:
    core Odoo posts the cash difference to the cash journal's loss / profit
    account and the card differences to their journals' accounts.  In
    ``z_report`` mode the fiscal shift is closed on the KKT (or the Z report the
    till made offline is adopted) first, and the shift report is stored and printed.
    """

    _name = "optics.cash.reconcile.wizard"
    _description = "Cash Reconciliation and Shift Closing"

    session_id = fields.Many2one("pos.session", required=True, readonly=True, ondelete="cascade")
    config_id = fields.Many2one(related="session_id.config_id")
    currency_id = fields.Many2one(related="session_id.currency_id")
    mode = fields.Selection(
        [
            ("reconcile", "Reconcile and Close the Session"),
            ("z_report", "Z Report: Close the Fiscal Shift and the Session"),
        ],
        required=True,
        default="reconcile",
        readonly=True,
    )
    count_line_ids = fields.One2many("optics.cash.reconcile.count", "wizard_id", string="Cash Count")
    card_line_ids = fields.One2many("optics.cash.reconcile.card", "wizard_id", string="Card Totals")
    kkt_line_ids = fields.One2many(
        "optics.cash.reconcile.kkt", "wizard_id", string="KKT Counters", readonly=True
    )
    kkt_error = fields.Char("KKT Counters Unavailable", readonly=True)
    kkt_counters = fields.Json(readonly=True)
    expected_cash = fields.Monetary(compute="_compute_cash", currency_field="currency_id")
    counted_cash = fields.Monetary(compute="_compute_cash", currency_field="currency_id")
    cash_difference = fields.Monetary(compute="_compute_cash", currency_field="currency_id")
    threshold = fields.Monetary(related="config_id.ru54fz_cash_diff_threshold")
    over_threshold = fields.Boolean(compute="_compute_cash")
    is_manager = fields.Boolean(compute="_compute_is_manager")
    reason = fields.Text(help="Required when a difference is over the threshold.")
    mismatch_html = fields.Html("Mismatches", compute="_compute_mismatch_html", sanitize=False)
    z_operation_uuid = fields.Char("Z Report Operation UUID", readonly=True)
    pending_report_id = fields.Many2one(
        "optics.shift.report",
        "Z Report Made on the Till",
        readonly=True,
        help="The till closed the fiscal shift while the back office could not reach it; this "
        "Z report is adopted instead of closing the shift again.",
    )
    undelivered_html = fields.Html("Undelivered Operations", readonly=True, sanitize=False)
    shift_report_id = fields.Many2one("optics.shift.report", readonly=True)

    # -- creation / loading ------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        wizards = super().create(vals_list)
        for wizard in wizards:
            wizard._load()
        return wizards

    def _load(self):
        """Fill the count lines, the card lines and the KKT comparison."""
        self.ensure_one()
        session = self.session_id
        if session.state == "closed":
            raise UserError(_("The session %s is already closed.", session.name))
        session._ru54fz_heal_trail()
        denominations = self.env["optics.cash.denomination"].search(
            [("currency_id", "=", session.currency_id.id)]
        )
        sums = self.env["optics.cash.movement"]._sums_by_session(session.ids)[session.id]
        card_methods = session.payment_method_ids.filtered(lambda pm: pm.type == "bank")
        vals = {
            "count_line_ids": [fields.Command.clear()]
            + [fields.Command.create({"denomination_id": d.id}) for d in denominations],
            "card_line_ids": [fields.Command.clear()]
            + [
                fields.Command.create(
                    {
                        "payment_method_id": pm.id,
                        "expected": sums["card"].get(pm.id, 0.0),
                        "slip_total": sums["card"].get(pm.id, 0.0),
                    }
                )
                for pm in card_methods
            ],
        }
        if self.mode == "z_report" and not self.z_operation_uuid:
            vals["z_operation_uuid"] = self._z_operation_uuid()
            pending = self.env["optics.shift.report"]._pending_for_config(session.config_id)
            vals["pending_report_id"] = pending[:1].id
        vals.update(self._load_kkt_counters())
        self.write(vals)

    def _z_operation_uuid(self):
        # Deterministic per session: a Z wizard confirmed again after a timeout sends
        # the same uuid, and the till answers with the same Z report instead of a second one.
        db_uuid = self.env["ir.config_parameter"].sudo().get_param("database.uuid", "")
        return str(
            uuidlib.uuid5(uuidlib.NAMESPACE_URL, f"optics_pos_ru54fz:z_report:{db_uuid}:{self.session_id.id}")
        )

    def _load_kkt_counters(self):
        session = self.session_id
        pending = self.pending_report_id or (
            self.mode == "z_report"
            and self.env["optics.shift.report"]._pending_for_config(session.config_id)[:1]
        )
        try:
            if pending:
                counters = pending._counters_dict()
            else:
                counters = session.config_id.sudo()._ru54fz_till_client().counters()
        except Exception as exc:  # noqa: BLE001 - shown to the user; closing may go on
            message = getattr(exc, "message", None) or str(exc)
            _logger.info("KKT counters of %s unavailable: %s", session.config_id.name, message)
            return {"kkt_error": message, "kkt_line_ids": [fields.Command.clear()], "kkt_counters": False}
        kkt = self.env["optics.shift.report"]._normalise_counters(counters)
        rows = session._ru54fz_compare_counters(kkt)
        return {
            "kkt_error": False,
            "kkt_counters": counters,
            "kkt_line_ids": [fields.Command.clear()]
            + [
                fields.Command.create(
                    {
                        "sequence": i,
                        "label": r["label"],
                        "session_amount": r["session"],
                        "kkt_amount": r["kkt"],
                        "blocking": i < BLOCKING_COUNTERS,
                    }
                )
                for i, r in enumerate(rows)
            ],
        }

    def action_refresh(self):
        self.ensure_one()
        self.write(self._load_kkt_counters())
        return self._action_open()

    def _action_open(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": dict(self._fields["mode"]._description_selection(self.env))[self.mode],
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }

    # -- computes ---------------------------------------------------------------------

    @api.depends("session_id", "count_line_ids.subtotal")
    def _compute_cash(self):
        for wizard in self:
            session = wizard.session_id
            wizard.expected_cash = session.ru54fz_expected_cash if session else 0.0
            wizard.counted_cash = sum(wizard.count_line_ids.mapped("subtotal"))
            wizard.cash_difference = wizard.counted_cash - wizard.expected_cash
            wizard.over_threshold = bool(session) and any(
                session._ru54fz_over_threshold(d) for _l, d in wizard._differences()
            )

    def _compute_is_manager(self):
        for wizard in self:
            wizard.is_manager = self.env.user.has_group(MANAGER_GROUP)

    def _differences(self):
        """[(label, difference)] of every reconciled total."""
        self.ensure_one()
        diffs = [(_("Cash"), self.counted_cash - self.expected_cash)]
        diffs += [(line.payment_method_id.name, line.difference) for line in self.card_line_ids]
        return diffs

    @api.depends("count_line_ids.subtotal", "card_line_ids.difference", "kkt_line_ids", "kkt_error")
    def _compute_mismatch_html(self):
        for wizard in self:
            cur = wizard.currency_id
            rows = []
            if wizard.session_id:
                for label, diff in wizard._differences():
                    if cur and not cur.is_zero(diff):
                        rows.append((label, diff))
                for line in wizard.kkt_line_ids.filtered(lambda ln: not ln.ok):
                    rows.append((_("KKT: %s", line.label), line.difference))
            if not rows:
                wizard.mismatch_html = Markup("<p>%s</p>") % _("Everything matches.")
                continue
            items = Markup("").join(
                Markup("<li>%s: %s</li>") % (label, cur.format(diff)) for label, diff in rows
            )
            wizard.mismatch_html = Markup("<ul>%s</ul>") % items

    # -- confirmation --------------------------------------------------------------------

    def action_confirm(self):
        self.ensure_one()
        session = self.session_id
        if session.state == "closed":
            raise UserError(_("The session %s is already closed.", session.name))
        if self.mode == "z_report" and not self.env.user.has_group(MANAGER_GROUP):
            raise AccessError(_("Only a store manager may close the fiscal shift (Z report)."))
        bank_diffs = {
            line.payment_method_id.id: line.difference
            for line in self.card_line_ids
            if not self.currency_id.is_zero(line.difference)
        }
        cannot = session._cannot_close_session(bank_diffs)
        if cannot:
            raise UserError(cannot.get("message"))
        session._ru54fz_heal_trail()
        session._ru54fz_check_difference(self._differences(), self.reason)
        if session.cash_control:
            session.cash_register_balance_end_real = self.counted_cash
            session._ru54fz_check_trail_matches_core()
        report = self.env["optics.shift.report"]
        if self.mode == "z_report":
            report = self._close_fiscal_shift()
        notes = "\n".join(filter(None, [session.closing_notes, self.reason]))
        if notes != (session.closing_notes or ""):
            session.closing_notes = notes
        result = session.with_context(
            ru54fz_difference_reason=self.reason or False,
        ).action_pos_session_closing_control(bank_payment_method_diffs=bank_diffs)
        if isinstance(result, dict):
            # core's "unbalanced accounting entry" wizard: the transaction was rolled back
            return result
        if session.state != "closed":
            raise UserError(_("The session %s could not be closed.", session.name))
        session.message_post(
            body=_(
                "Cash reconciled and session closed by %(user)s: counted %(counted)s, expected %(expected)s.",
                user=self.env.user.name,
                counted=self.currency_id.format(self.counted_cash),
                expected=self.currency_id.format(self.expected_cash),
            )
        )
        if report:
            report.sudo().write({"session_id": session.id})
            self.shift_report_id = report
            return report.action_print()
        return {"type": "ir.actions.act_window_close"}

    # -- Z report ----------------------------------------------------------------------

    def _undelivered_entries(self, client):
        entries = []
        for state in UNDELIVERED_STATES:
            entries += [e for e in client.journal(state=state) if e.get("kind") not in ("x_report",)]
        return entries

    def _close_fiscal_shift(self):
        """Close the fiscal shift on the KKT through the till proxy, or adopt the Z
        report the till made while central was down.  Refuses, with the list, while
        fiscal operations of the shift are still undelivered from the till."""
        self.ensure_one()
        session = self.session_id
        Report = self.env["optics.shift.report"]
        pending = self.pending_report_id or Report._pending_for_config(session.config_id)[:1]
        if pending:
            self.pending_report_id = pending
            self.write(self._load_kkt_counters())
            self._check_counters_match()
            return pending
        client = session.config_id.sudo()._ru54fz_till_client()
        undelivered = self._undelivered_entries(client)
        # the POS (or the till itself) closed the shift a moment ago and the till has not
        # pushed that Z yet: adopt it from the till's journal, under its own uuid
        made = [e for e in undelivered if e.get("kind") == "close_shift" and e.get("fiscal")]
        undelivered = [e for e in undelivered if e.get("kind") != "close_shift"]
        if undelivered:
            raise UserError(
                _(
                    "The till still holds fiscal operations of this shift that have not reached "
                    "the server; push the till and try again:\n%s",
                    "\n".join(self._describe_entry(e) for e in undelivered),
                )
            )
        if made:
            report = Report._adopt_till_entry(session.config_id, made[-1])
            self.pending_report_id = report
            self.write(self._load_kkt_counters())
            self._check_counters_match()
            return report
        self.write(self._load_kkt_counters())
        self._check_counters_match()
        ofd = self._fn_ofd_state(client)
        reply = client.close_shift(
            self.z_operation_uuid,
            self.env.user.name,
            self._cashier_inn(),
            grant=session.config_id._ru54fz_manager_grant("close_shift"),
        )
        fiscal = reply.get("fiscal") or reply
        # the counters the KKT read just before closing; those read for the comparison
        # when the answer has none (a close settled from the FN after a lost reply)
        counters = shift_counters.of_close_shift(fiscal) or self.kkt_counters or {}
        if ofd and not counters.get("ofd"):
            counters = dict(counters, ofd=ofd)
        vals = Report._prepare_from_fiscal(
            session.config_id, self.z_operation_uuid, fiscal, counters, "back_office"
        )
        vals["cashier"] = self.env.user.name
        return Report._store(vals)

    @staticmethod
    def _fn_ofd_state(client):
        """What the FN says the OFD has not confirmed yet (before the Z report)."""
        try:
            fn = client.status().get("fn") or {}
        except Exception:  # noqa: BLE001 - the Z report does not depend on it
            _logger.info("till status unavailable before the Z report", exc_info=True)
            return {}
        return {k: fn.get(k) for k in ("unconfirmed_count", "first_unconfirmed_fd", "oldest_unconfirmed_at")}

    def _check_counters_match(self):
        if self.kkt_error:
            raise UserError(_("The KKT counters cannot be read: %s", self.kkt_error))
        blocking = self.kkt_line_ids.filtered(lambda ln: ln.blocking and not ln.ok)
        if blocking:
            raise UserError(
                _(
                    "The KKT's shift counters do not match the session; some operations have not "
                    "reached the server:\n%s",
                    "\n".join(
                        f"{ln.label}: {self.currency_id.format(ln.session_amount)} / KKT "
                        f"{self.currency_id.format(ln.kkt_amount)}"
                        for ln in blocking
                    ),
                )
            )

    def _cashier_inn(self):
        """Tag 1203 of the Z report: the same rule as the POS's shift close."""
        return self.env["pos.session"]._ru54fz_cashier_inn(self.env.user)

    def _describe_entry(self, entry):
        fiscal = entry.get("fiscal") or {}
        return _(
            "%(kind)s %(ref)s (FD %(fd)s, %(state)s)",
            kind=entry.get("kind"),
            ref=entry.get("pos_reference") or entry.get("uuid"),
            fd=fiscal.get("fd_number") or "-",
            state=entry.get("state"),
        )
