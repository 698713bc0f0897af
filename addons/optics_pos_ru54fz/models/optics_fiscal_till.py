import json
import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.tools import SQL

from ..ru54fz import till_health, till_time

_logger = logging.getLogger(__name__)

#: how stale ``last_contact`` may get before a push without a status writes it again
CONTACT_PRECISION = timedelta(seconds=30)

ADMIN_GROUP = "optics_core.group_optics_admin"
#: the one rule's levels (ru54fz/till_health.py) as central's health
HEALTH_OF_LEVEL = {"green": "ok", "yellow": "warning", "red": "alarm"}


class OpticsFiscalTill(models.Model):
    """Health of one till as central sees it: last contact, the FN status and the
    journal/OFD backlog it reported, and central's own backlog for it.  One row per
    point of sale, updated by every push (so pos.config itself is never written by
    the pushes)."""

    _name = "optics.fiscal.till"
    _description = "Till Fiscal Health"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "store_id, pos_config_id"

    pos_config_id = fields.Many2one(
        "pos.config", required=True, readonly=True, ondelete="cascade", index=True
    )
    name = fields.Char(related="pos_config_id.name")
    store_id = fields.Many2one(related="pos_config_id.optics_store_id", store=True)
    company_id = fields.Many2one(related="pos_config_id.company_id", store=True)
    till_code = fields.Char(readonly=True)
    last_contact = fields.Datetime(readonly=True)
    fn_serial = fields.Char(string="FN Serial", readonly=True)
    fn_valid_until = fields.Date(string="FN Valid Until", readonly=True)
    fn_days_left = fields.Integer(string="FN Days Left", compute="_compute_fn_days_left")
    fn_memory_used_pct = fields.Integer(string="FN Memory Used (%)", readonly=True)
    fn_unconfirmed_count = fields.Integer(string="Unconfirmed in FN", readonly=True)
    fn_oldest_unconfirmed_at = fields.Datetime(string="Oldest Unconfirmed in FN", readonly=True)
    journal_backlog = fields.Integer(readonly=True, help="Entries the till has not delivered to central yet.")
    journal_fill_pct = fields.Integer(string="Journal Fill (%)", readonly=True)
    journal_set_aside = fields.Integer(
        string="Set Aside on the Till",
        readonly=True,
        help="Journal entries this central refused for good: the till keeps them aside (state dead_letter) "
        "so the others are delivered, and offers them again every hour. See the last status.",
    )
    status_json = fields.Text(string="Last Status", readonly=True)
    ofd_backlog = fields.Integer(string="OFD Backlog", compute="_compute_central_figures")
    dead_letters = fields.Integer(compute="_compute_central_figures")
    oldest_unconfirmed_at = fields.Datetime(compute="_compute_central_figures")
    oldest_unconfirmed_days = fields.Float(
        string="Oldest Unconfirmed (days)", compute="_compute_central_figures"
    )
    breaker_state = fields.Char(string="OFD Breaker", compute="_compute_central_figures")
    minutes_silent = fields.Integer(compute="_compute_central_figures")
    health = fields.Selection(
        [("ok", "OK"), ("warning", "Warning"), ("alarm", "Alarm")], compute="_compute_central_figures"
    )

    _sql_constraints = [("config_uniq", "unique(pos_config_id)", "One health row per point of sale.")]

    def _compute_fn_days_left(self):
        today = fields.Date.context_today(self)
        for till in self:
            till.fn_days_left = (
                till_health.days_left(till.fn_valid_until, today) if till.fn_valid_until else 0
            )

    def _compute_central_figures(self):
        figures = self._central_figures()
        breakers = {b.company_id.id: b.state for b in self.env["optics.ofd.breaker"].sudo().search([])}
        now = fields.Datetime.now()
        for till in self:
            fig = figures.get(till.pos_config_id.id, {})
            company = till.company_id
            till.ofd_backlog = fig.get("backlog", 0)
            till.dead_letters = fig.get("dead", 0)
            till.oldest_unconfirmed_at = fig.get("oldest")
            till.oldest_unconfirmed_days = (
                round((now - fig["oldest"]).total_seconds() / 86400, 2) if fig.get("oldest") else 0.0
            )
            till.breaker_state = breakers.get(company.id, "closed")
            till.minutes_silent = (
                int((now - till.last_contact).total_seconds() // 60) if till.last_contact else 0
            )
            till.health = till._health(company)

    def _health(self, company):
        return HEALTH_OF_LEVEL[self._health_result(company)["level"]]

    def _health_result(self, company):
        """The one till-health rule (ru54fz/till_health.py) on what central knows of this
        till, with the company's settings as overrides of its thresholds
        (``till_health.company_overrides``)."""
        facts = {
            "fn_days_left": self.fn_days_left if self.fn_valid_until else None,
            "fn_memory_used_pct": self.fn_memory_used_pct,
            "ofd_oldest_age_days": self.oldest_unconfirmed_days,
            "journal_fill_pct": self.journal_fill_pct,
            "set_aside_count": self.journal_set_aside,
            "minutes_silent": self.minutes_silent if self.last_contact else None,
            "central_dead_letters": self.dead_letters,
            "ofd_breaker_open": self.breaker_state == "open",
        }
        return till_health.evaluate(facts, self._health_overrides(company))

    @api.model
    def _health_overrides(self, company):
        return till_health.company_overrides(
            unconfirmed_alert_days=company.ru54fz_unconfirmed_alert_days,
            fn_alert_days=company.ru54fz_fn_alert_days,
            fn_memory_alert_pct=company.ru54fz_fn_memory_alert_pct,
            till_silence_minutes=company.ru54fz_till_silence_minutes,
        )

    def _central_figures(self):
        """Backlog per point of sale in one grouped query."""
        config_ids = tuple(self.pos_config_id.ids) or (0,)
        self.env["optics.fiscal.document"].flush_model(["pos_config_id", "ofd_state", "doc_time"])
        self.env.cr.execute(
            SQL(
                "SELECT pos_config_id,"
                " count(*) FILTER (WHERE ofd_state IN ('pending','sending','failed')),"
                " count(*) FILTER (WHERE ofd_state = 'dead_lettered'),"
                " min(COALESCE(doc_time, create_date))"
                " FROM optics_fiscal_document WHERE pos_config_id IN %s"
                " AND ofd_state IN ('pending','sending','failed','dead_lettered') GROUP BY pos_config_id",
                config_ids,
            )
        )
        return {r[0]: {"backlog": r[1], "dead": r[2], "oldest": r[3]} for r in self.env.cr.fetchall()}

    # ------------------------------------------------------------------ status push
    @api.model
    def _record_status(self, config, status):
        """Store the till's contact and, when present, its status (the till HTTP API's
        ``GET status``, docs/fiscal_contracts.md)."""
        now = fields.Datetime.now()
        vals = {"last_contact": now, "till_code": config.ru54fz_till_code}
        has_status = isinstance(status, dict) and bool(status)
        till = self.search([("pos_config_id", "=", config.id)], limit=1)
        if not has_status and till.last_contact and now - till.last_contact < CONTACT_PRECISION:
            # a push without status every few seconds: the dashboard counts silence in
            # minutes, so a contact is written at most once per CONTACT_PRECISION
            return till
        if has_status:
            fn = status.get("fn") or {}
            journal = status.get("journal") or {}
            tz = self._till_tz(config)
            if isinstance(fn, dict):
                vals.update(
                    {
                        "fn_serial": fn.get("fn_serial") or False,
                        "fn_valid_until": till_time.local_date(fn.get("fn_valid_until"), tz) or False,
                        "fn_memory_used_pct": int(fn.get("fn_memory_used_pct") or 0),
                        "fn_unconfirmed_count": int(fn.get("unconfirmed_count") or 0),
                        "fn_oldest_unconfirmed_at": till_time.utc_naive(fn.get("oldest_unconfirmed_at"), tz),
                    }
                )
                self._apply_fn_confirmations(config, fn)
            if isinstance(journal, dict):
                vals.update(
                    {
                        "journal_backlog": int(journal.get("undelivered") or 0),
                        "journal_fill_pct": int(float(journal.get("fill_pct") or 0)),
                        "journal_set_aside": int(journal.get("dead_letter") or 0),
                    }
                )
            vals["status_json"] = json.dumps(status, ensure_ascii=False, default=str)[:20000]
        if till:
            till.write(vals)
        else:
            till = self.create(dict(vals, pos_config_id=config.id))
        return till

    @api.model
    def _till_tz(self, config):
        """The zone of the till's times without offset (ru54fz/till_time.py): the store's
        first, then the company's, the user's, Moscow."""
        return (
            config.optics_store_id.partner_id.tz
            or config.company_id.partner_id.tz
            or self.env.user.tz
            or till_time.DEFAULT_TZ
        )

    @api.model
    def _apply_fn_confirmations(self, config, fn):
        """The FN holds the tickets of every FD below its first unconfirmed one: those
        tickets need not be sent again."""
        serial = fn.get("fn_serial")
        if not serial:
            return
        domain = [
            ("pos_config_id", "=", config.id),
            ("fn_serial", "=", serial),
            ("ofd_state", "=", "acknowledged"),
            ("till_confirmed", "=", False),
        ]
        first = fn.get("first_unconfirmed_fd")
        if fn.get("unconfirmed_count") == 0:
            pass
        elif isinstance(first, int) and first > 0:
            domain.append(("fd_number", "<", first))
        else:
            return
        self.env["optics.fiscal.document"].sudo().search(domain).write({"till_confirmed": True})

    # ---------------------------------------------------------------------- alerts
    @api.model
    def _admins(self):
        group = self.env.ref(ADMIN_GROUP, raise_if_not_found=False)
        users = group.users if group else self.env["res.users"]
        return users.filtered(lambda u: u.active and not u.share and u.id != 1)

    @api.model
    def _alert(self, record, summary, note):
        """One open activity per (record, summary) and administrator; assigning it mails
        the administrator (mail.activity's assignment notification)."""
        admins = self._admins()
        if not admins:
            return 0
        activity_type = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        model = self.env["ir.model"]._get(record._name)
        existing = (
            self.env["mail.activity"]
            .sudo()
            .search([("res_model", "=", record._name), ("res_id", "=", record.id), ("summary", "=", summary)])
        )
        done = set(existing.mapped("user_id").ids)
        created = 0
        for user in admins:
            if user.id in done:
                continue
            self.env["mail.activity"].sudo().create(
                {
                    "res_model_id": model.id,
                    "res_id": record.id,
                    "user_id": user.id,
                    "activity_type_id": activity_type.id if activity_type else False,
                    "summary": summary,
                    "note": note,
                    "date_deadline": fields.Date.context_today(self),
                }
            )
            created += 1
        return created

    @api.model
    def _check_alerts(self):
        """Raise the operations alerts; returns the list of alert summaries raised."""
        raised = []
        now = fields.Datetime.now()
        Doc = self.env["optics.fiscal.document"].sudo()
        for company in self.env["res.company"].sudo().search([]):
            # the one rule's red OFD threshold (the company setting overrides it)
            days = till_health.thresholds(self._health_overrides(company))["ofd_backlog"]["red"]
            old = Doc.search(
                [
                    ("company_id", "=", company.id),
                    ("ofd_state", "in", ("pending", "sending", "failed", "dead_lettered")),
                    ("doc_time", "<", now - timedelta(days=days)),
                ],
                limit=200,
            )
            for doc in old:
                summary = _(
                    "Fiscal document %(doc)s unconfirmed for %(days)s days",
                    doc=doc.name,
                    days=(now - doc.doc_time).days,
                )
                if self._alert(
                    doc,
                    summary,
                    _(
                        "The OFD has not confirmed %(doc)s of FN %(fn)s; "
                        "the fiscal drive blocks after 30 days.",
                        doc=doc.name,
                        fn=doc.fn_serial or "?",
                    ),
                ):
                    raised.append(summary)
        letters = self.env["optics.fiscal.dead.letter"].sudo().search([("state", "=", "open")])
        for letter in letters:
            summary = _("Dead letter: %s", letter.name)
            if self._alert(
                letter,
                summary,
                _("The OFD pipeline gave up on %(doc)s: %(reason)s", doc=letter.name, reason=letter.reason),
            ):
                raised.append(summary)
        # the health figures are computed, not stored: judge what the database holds now
        self.invalidate_model()
        for till in self.search([]):
            if not till.pos_config_id.active:
                continue
            health = till._health_result(till.company_id)
            if till_health.has(health, "till_silent"):
                summary = _("Till %s has not reported", till.name)
                if self._alert(
                    till,
                    summary,
                    _(
                        "No contact from till %(till)s since %(when)s.",
                        till=till.name,
                        when=till.last_contact,
                    ),
                ):
                    raised.append(summary)
            if till_health.has(health, "fn_expiry"):
                summary = _("FN of till %s near end of life", till.name)
                if self._alert(
                    till,
                    summary,
                    _(
                        "FN %(fn)s expires on %(date)s (%(days)s days left).",
                        fn=till.fn_serial,
                        date=till.fn_valid_until,
                        days=till.fn_days_left,
                    ),
                ):
                    raised.append(summary)
            if till_health.has(health, ("fn_memory", "fn_memory_full")):
                summary = _("FN memory of till %s almost full", till.name)
                if self._alert(
                    till,
                    summary,
                    _("FN %(fn)s memory is %(pct)s %% full.", fn=till.fn_serial, pct=till.fn_memory_used_pct),
                ):
                    raised.append(summary)
        return raised

    def action_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_document"
        )
        action["domain"] = [("pos_config_id", "=", self.pos_config_id.id)]
        action["context"] = {"search_default_unconfirmed": 1}
        return action
