import logging
import uuid as uuidlib

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError

from ..ru54fz import ffd, shift_counters
from .optics_cash_movement import CARD_KINDS, CASH_BALANCE_KINDS

_logger = logging.getLogger(__name__)

MANAGER_GROUP = "optics_core.group_optics_store_manager"
#: till journal states of an entry that is fiscalised on the KKT
FISCALISED_STATES = ("fiscalised", "delivered", "archived")


def _kop_to_amount(kop):
    return (kop or 0) / 100.0


class PosSession(models.Model):
    _inherit = "pos.session"

    ru54fz_document_ids = fields.One2many(
        "optics.fiscal.document", "pos_session_id", string="Fiscal Documents", readonly=True
    )
    ru54fz_document_count = fields.Integer(compute="_compute_ru54fz_fiscal_state")
    ru54fz_unconfirmed_count = fields.Integer(
        string="Unconfirmed Fiscal Documents", compute="_compute_ru54fz_fiscal_state"
    )
    ru54fz_ofd_state = fields.Selection(
        [
            ("none", "No fiscal document"),
            ("pending", "Waiting for the OFD"),
            ("acknowledged", "Confirmed by the OFD"),
            ("problem", "Dead-lettered"),
            ("resolved", "Resolved manually"),
        ],
        string="Fiscal State",
        compute="_compute_ru54fz_fiscal_state",
    )

    ru54fz_cash_movement_ids = fields.One2many(
        "optics.cash.movement", "session_id", string="Cash Trail", readonly=True
    )
    ru54fz_expected_cash = fields.Monetary(
        "Expected Cash (trail)",
        compute="_compute_ru54fz_cash",
        currency_field="currency_id",
        help="Opening float + cash sales - cash refunds + cash in - cash out (+ counting "
        "difference once closed), summed from the cash trail.",
    )
    ru54fz_card_total = fields.Monetary(
        "Card Total (trail)", compute="_compute_ru54fz_cash", currency_field="currency_id"
    )
    ru54fz_cash_movement_count = fields.Integer(compute="_compute_ru54fz_cash")

    @api.depends("ru54fz_document_ids.ofd_state")
    def _compute_ru54fz_fiscal_state(self):
        counts = {}
        if self.ids:
            rows = (
                self.env["optics.fiscal.document"]
                .sudo()
                ._read_group(
                    [("pos_session_id", "in", self.ids), ("ofd_state", "!=", "not_applicable")],
                    ["pos_session_id", "ofd_state"],
                    ["__count"],
                )
            )
            for session, state, count in rows:
                counts.setdefault(session.id, {})[state] = count
        for session in self:
            by_state = counts.get(session.id, {})
            session.ru54fz_document_count = sum(by_state.values())
            session.ru54fz_unconfirmed_count = sum(
                n for s, n in by_state.items() if s in ("pending", "sending", "failed", "dead_lettered")
            )
            session.ru54fz_ofd_state = self.env["pos.order"]._ru54fz_summarise(list(by_state))

    def action_ru54fz_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_document"
        )
        action["domain"] = [("pos_session_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------ POS front end
    def _load_pos_data(self, data):
        result = super()._load_pos_data(data)
        if result.get("data"):
            vals = result["data"][0]
            vals.update(self._ru54fz_prepare_ui_data())
            # Cash in / cash out is a cashier's daily job here (registered on the KKT and in the
            # session's cash trail); core shows the button to invoicing users only.
            if self.env.user.has_group("optics_core.group_optics_cashier"):
                vals["_has_cash_move_perm"] = True
        return result

    def _ru54fz_prepare_ui_data(self):
        """What the POS front end needs to talk to its till and to show the shift actions.

        A till token has to reach the browser: the till checks it on every call and the
        POS calls the till directly (the till may be on the shop LAN with central unreachable).
        It is not the pairing token (central keeps only its hash) but a token derived for this
        session, expiring, refused by a central-served till once the session is closed
        (docs/security.md).  It is handed out here, once per POS load, only to a user who may run
        this very session: a POS user who can read the session and its config, which the
        per-store record rules of optics_core limit to the store's own staff.
        """
        self.ensure_one()
        config = self.config_id
        user = self.env.user
        enabled = config.ru54fz_enabled
        token = ""
        if enabled and self._ru54fz_may_receive_till_token(user):
            token = config._ru54fz_pos_till_token(self)
        return {
            "_ru54fz_till_token": token,
            "_ru54fz_is_store_manager": user.has_group("optics_core.group_optics_store_manager"),
            "_ru54fz_cashier_inn": self._ru54fz_cashier_inn(user),
            "_ru54fz_poll_interval_ms": int(
                self.env["ir.config_parameter"].sudo().get_param("optics_pos_ru54fz.status_poll_ms", 15000)
            ),
        }

    def _ru54fz_may_receive_till_token(self, user):
        self.ensure_one()
        if not user.has_group("point_of_sale.group_pos_user"):
            return False
        if self.state not in ("opening_control", "opened"):
            return False
        # read access through the record rules (store scoping), not sudo
        session = self.with_user(user)
        return bool(
            session.search_count([("id", "=", self.id)], limit=1)
            and session.config_id.search_count([("id", "=", self.config_id.id)], limit=1)
        )

    @api.model
    def _ru54fz_cashier_inn(self, user):
        """INN of the cashier for tag 1203: the personal INN recorded as the tax number
        (``vat``) of the user's contact, when it is a valid one (ffd.cashier_inn)."""
        return ffd.cashier_inn(user.partner_id.vat)

    def ru54fz_action_pos_z_report(self):
        """The back-office Z-report flow for this session, opened from the POS after the
        POS closed the fiscal shift on the KKT: the cash reconciliation wizard in
        ``z_report`` mode adopts the Z report the till delivered (no second close)."""
        self.ensure_one()
        if not self.env.user.has_group("optics_core.group_optics_store_manager"):
            raise AccessError(self.env._("Only a store manager can close the fiscal shift."))
        Wizard = self.env["optics.cash.reconcile.wizard"]
        wizard = Wizard.create({"session_id": self.id, "mode": "z_report"})
        return wizard._action_open()

    # ------------------------------------------------------------ cash trail
    @api.depends("ru54fz_cash_movement_ids.amount", "ru54fz_cash_movement_ids.kind")
    def _compute_ru54fz_cash(self):
        sums = self.env["optics.cash.movement"]._sums_by_session(self.ids)
        for session in self:
            data = sums.get(session.id) or {"cash": 0.0, "card": {}, "by_kind": {}}
            session.ru54fz_expected_cash = data["cash"]
            session.ru54fz_card_total = sum(data["card"].values())
            session.ru54fz_cash_movement_count = sum(c for c, _s in data["by_kind"].values())

    # -- helpers -------------------------------------------------------------------

    def _ru54fz_cash_method(self):
        self.ensure_one()
        return self.payment_method_ids.filtered("is_cash_count")[:1]

    def _ru54fz_card_method(self):
        self.ensure_one()
        return self.payment_method_ids.filtered(lambda pm: pm.type == "bank")[:1]

    def _ru54fz_is_manager(self):
        return self.env.user.has_group(MANAGER_GROUP)

    def _ru54fz_system_closing(self):
        # OdooBot (crons, scripts, install) is no person who could give a reason;
        # no user can log in as it, so this never opens a door to a cashier.
        return self.env.uid == SUPERUSER_ID

    def _ru54fz_threshold(self):
        self.ensure_one()
        return self.config_id.ru54fz_cash_diff_threshold or 0.0

    def _ru54fz_over_threshold(self, difference):
        self.ensure_one()
        return self.currency_id.compare_amounts(abs(difference), self._ru54fz_threshold()) > 0

    def _ru54fz_check_difference(self, differences, reason):
        """Refuse a closing difference the current user may not confirm.

        ``differences`` is a list of (label, amount).  Under the threshold
        anybody may close; over it, only a store manager, with a reason.
        Raises ``AccessError`` / ``UserError``; this is the server-side rule
        the closing popup of the POS (which only checks in the browser) and
        every other closing path go through.
        """
        self.ensure_one()
        if self._ru54fz_system_closing():
            return
        over = [(label, amount) for label, amount in differences if self._ru54fz_over_threshold(amount)]
        if not over:
            return
        detail = "\n".join(f"{label}: {self.currency_id.format(amount)}" for label, amount in over)
        threshold = self.currency_id.format(self._ru54fz_threshold())
        if not self._ru54fz_is_manager():
            raise AccessError(
                _(
                    "The counting difference is over the allowed %(threshold)s; only a store manager "
                    "may confirm it.\n%(detail)s",
                    threshold=threshold,
                    detail=detail,
                )
            )
        if not (reason or "").strip():
            raise UserError(
                _(
                    "The counting difference is over the allowed %(threshold)s: give the reason for "
                    "it.\n%(detail)s",
                    threshold=threshold,
                    detail=detail,
                )
            )

    # -- the trail -----------------------------------------------------------------------

    def _ru54fz_prepare_movement(self, kind, amount, op_uuid, source, **extra):
        self.ensure_one()
        method = extra.pop("payment_method_id", None)
        if method is None:
            if kind in CARD_KINDS:
                method = self._ru54fz_card_method().id
            elif kind in CASH_BALANCE_KINDS or kind == "closing_count":
                method = self._ru54fz_cash_method().id
        payment_kind = extra.pop("payment_kind", None) or ("card" if kind in CARD_KINDS else "cash")
        return {
            "session_id": self.id,
            "kind": kind,
            "amount": amount,
            "operation_uuid": op_uuid,
            "source": source,
            "payment_method_id": method or False,
            "payment_kind": payment_kind,
            **extra,
        }

    def _ru54fz_record_opening(self):
        """Make the trail's opening float equal ``cash_register_balance_start``.

        A second opening count (the popup may be confirmed again after a
        reload) is a correcting movement, never an edit."""
        Movement = self.env["optics.cash.movement"]
        for session in self.filtered(lambda s: s.cash_control and s._ru54fz_cash_method()):
            data = Movement._sums_by_session(session.ids)[session.id]["by_kind"]
            count, recorded = data.get("opening_float", (0, 0.0))
            delta = session.cash_register_balance_start - recorded
            if count and session.currency_id.is_zero(delta):
                continue
            if not count and session.currency_id.is_zero(delta):
                delta = 0.0
            op_uuid = f"pos.session/{session.id}/opening" + (f"/{count}" if count else "")
            Movement._record(
                [
                    session._ru54fz_prepare_movement(
                        "opening_float", delta, op_uuid, "pos_session", reason=session.opening_notes or False
                    )
                ]
            )

    def set_opening_control(self, cashbox_value, notes):
        res = super().set_opening_control(cashbox_value, notes)
        self._ru54fz_record_opening()
        return res

    def _ru54fz_register_cash_move(self, kind, amount, op_uuid, source, reason="", extras=None, link=None):
        """Record a cash in / cash out once: the trail movement and, only when this call
        created it, the cash statement line core Odoo posts at closing.

        ``amount`` is positive; the sign follows the kind.  The POS (through
        ``try_cash_in_out``), the back-office wizard and the till push of the
        same operation uuid all end up here; whichever comes first wins."""
        self.ensure_one()
        if kind not in ("cash_in", "cash_out"):
            raise UserError(_("Unknown cash operation %s.", kind))
        if not self.cash_journal_id:
            raise UserError(_("There is no cash payment method for this PoS Session"))
        Movement = self.env["optics.cash.movement"]
        existing = Movement._existing_by_key([(op_uuid, kind)]).get((op_uuid, kind))
        if existing:
            if link:
                Movement._record(
                    [self._ru54fz_prepare_movement(kind, existing.amount, op_uuid, source, **link)]
                )
            return existing, False
        signed = amount if kind == "cash_in" else -amount
        vals = self._ru54fz_prepare_movement(
            kind, signed, op_uuid, source, reason=reason or False, **(link or {})
        )
        movement = Movement._record([vals])
        if movement.statement_line_id:
            return movement, False
        extras = dict(extras or {})
        extras.setdefault(
            "translatedType", dict(Movement._fields["kind"]._description_selection(self.env))[kind]
        )
        line_vals = self._prepare_account_bank_statement_line_vals(
            self, 1 if kind == "cash_in" else -1, amount, reason or "", extras
        )
        line = self.env["account.bank.statement.line"].sudo().create(line_vals)
        movement.sudo().write({"statement_line_id": line.id})
        # core's cash balance reads this one2many; a value cached before the line existed
        # would make the closing post a wrong difference
        self.invalidate_recordset(["statement_line_ids"])
        return movement, True

    def try_cash_in_out(self, _type, amount, reason, extras):
        """Core's cash in/out from the POS, keyed by the till operation uuid when the POS
        passes ``extras['ru54fz_uuid']`` (the same uuid it sent to the till's
        cash_in / cash_out), so the till push of that operation is not counted twice."""
        # the movement is recorded as superuser: the caller must be able to run these sessions
        self.check_access("write")
        extras = dict(extras or {})
        op_uuid = extras.get("ru54fz_uuid")
        kind = "cash_in" if _type == "in" else "cash_out"
        sessions = self.filtered("cash_journal_id")
        if not sessions:
            raise UserError(_("There is no cash payment method for this PoS Session"))
        for session in sessions:
            key = (
                op_uuid
                if (op_uuid and len(sessions) == 1)
                else (f"{op_uuid}/{session.id}" if op_uuid else str(uuidlib.uuid4()))
            )
            session._ru54fz_register_cash_move(
                kind, abs(amount), key, "pos_order", reason=reason, extras=extras
            )

    def _ru54fz_heal_trail(self):
        """Bring into the trail what core Odoo holds and the trail does not (orders paid
        through a path we do not hook, statement lines created directly).  Idempotent;
        the trail stays the single source of the expected cash."""
        for session in self:
            session._ru54fz_record_opening()
            session.order_ids._ru54fz_record_cash_movements()
            linked = session.ru54fz_cash_movement_ids.statement_line_id
            for line in session.sudo().statement_line_ids - linked:
                kind = "cash_in" if line.amount > 0 else "cash_out"
                self.env["optics.cash.movement"]._record(
                    [
                        session._ru54fz_prepare_movement(
                            kind,
                            line.amount,
                            f"account.bank.statement.line/{line.id}",
                            "pos_session",
                            reason=line.payment_ref or False,
                            statement_line_id=line.id,
                        )
                    ]
                )

    def _ru54fz_unsynced_till_movements(self):
        """Trail movements of receipts the till fiscalised whose POS order has not
        reached the server: core's accounting would not include them."""
        self.ensure_one()
        return self.ru54fz_cash_movement_ids.filtered(
            lambda m: m.kind in ("cash_sale", "cash_refund", "card_sale", "card_refund") and not m.order_id
        )

    def _ru54fz_check_trail_matches_core(self):
        self.ensure_one()
        if not self.cash_control:
            return
        missing = self._ru54fz_unsynced_till_movements()
        if missing:
            raise UserError(
                _(
                    "These receipts were fiscalised on the till but their POS orders have not reached "
                    "the server yet; sync the POS before closing:\n%s",
                    "\n".join(
                        f"{m.operation_uuid} ({m.config_id.name}, FD {m.fiscal_fd_number}): "
                        f"{self.currency_id.format(m.amount)}"
                        for m in missing
                    ),
                )
            )
        # core's balance reads the statement lines, which a store manager may not see
        # (accounting rules): compare as the system, like core's closing data does
        session = self.sudo()
        session.invalidate_recordset(
            ["cash_register_balance_end", "ru54fz_expected_cash", "statement_line_ids"]
        )
        if self.currency_id.compare_amounts(session.ru54fz_expected_cash, session.cash_register_balance_end):
            raise UserError(
                _(
                    "The cash trail (%(trail)s) and the session's cash balance (%(core)s) disagree; "
                    "nothing was closed.",
                    trail=self.currency_id.format(session.ru54fz_expected_cash),
                    core=self.currency_id.format(session.cash_register_balance_end),
                )
            )

    # -- closing guards (server side) ---------------------------------------------------------

    def post_closing_cash_details(self, counted_cash):
        self.ensure_one()
        if self.cash_control and self.state != "closed":
            self._ru54fz_heal_trail()
            difference = counted_cash - self.ru54fz_expected_cash
            if self._ru54fz_over_threshold(difference) and not self._ru54fz_is_manager():
                return {
                    "successful": False,
                    "redirect": False,
                    "message": _(
                        "The counting difference %(diff)s is over the allowed %(threshold)s: a "
                        "store manager has to count and confirm it.",
                        diff=self.currency_id.format(difference),
                        threshold=self.currency_id.format(self._ru54fz_threshold()),
                    ),
                }
        return super().post_closing_cash_details(counted_cash)

    def close_session_from_ui(self, bank_payment_method_diff_pairs=None):
        self.ensure_one()
        try:
            self._ru54fz_precheck_close(dict(bank_payment_method_diff_pairs or []), self.closing_notes)
        except (UserError, AccessError) as exc:
            return {"successful": False, "message": str(exc.args[0]), "redirect": False}
        return super().close_session_from_ui(bank_payment_method_diff_pairs)

    def _ru54fz_precheck_close(self, bank_diffs, reason):
        self.ensure_one()
        if self.state == "closed":
            return
        differences = []
        if self.cash_control:
            self._ru54fz_heal_trail()
            differences.append((_("Cash"), self.cash_register_balance_end_real - self.ru54fz_expected_cash))
        methods = self.env["pos.payment.method"].browse(list(bank_diffs))
        differences += [(pm.name, bank_diffs[pm.id]) for pm in methods]
        self._ru54fz_check_difference(differences, reason)

    def _validate_session(self, balancing_account=False, amount_to_balance=0, bank_payment_method_diffs=None):
        self.ensure_one()
        bank_diffs = bank_payment_method_diffs or {}
        if self.state != "closed" and not self.rescue:
            reason = self.env.context.get("ru54fz_difference_reason") or self.closing_notes
            self._ru54fz_precheck_close(bank_diffs, reason)
            if self.cash_control:
                self._ru54fz_check_trail_matches_core()
        closing = self.state != "closed" and self.cash_control and not self.rescue
        self.invalidate_recordset(
            ["statement_line_ids", "cash_register_balance_end", "cash_register_difference"]
        )
        res = super()._validate_session(balancing_account, amount_to_balance, bank_payment_method_diffs)
        if closing and self.state == "closed":
            self._ru54fz_record_closing(bank_diffs)
        return res

    def _post_statement_difference(self, amount):
        # core's counting-difference statement line joins the trail as the session's
        # "difference" movement (same transaction: both or neither)
        before = set(self.sudo().statement_line_ids.ids)
        res = super()._post_statement_difference(amount)
        self.invalidate_recordset(["statement_line_ids"])
        created = (
            self.env["account.bank.statement.line"]
            .sudo()
            .browse(sorted(set(self.sudo().statement_line_ids.ids) - before))
        )
        if created and self.cash_control:
            reason = self.env.context.get("ru54fz_difference_reason") or self.closing_notes or False
            self.env["optics.cash.movement"]._record(
                [
                    self._ru54fz_prepare_movement(
                        "difference",
                        line.amount,
                        f"pos.session/{self.id}/closing/cash/{line.id}",
                        "pos_session",
                        reason=reason,
                        statement_line_id=line.id,
                    )
                    for line in created
                ]
            )
        return res

    def _ru54fz_record_closing(self, bank_diffs):
        """Closing count and the posted differences join the trail, so that after
        closing the trail's cash equals the counted cash."""
        self.ensure_one()
        Movement = self.env["optics.cash.movement"]
        base = f"pos.session/{self.id}/closing"
        reason = self.env.context.get("ru54fz_difference_reason") or self.closing_notes or False
        vals = [
            self._ru54fz_prepare_movement(
                "closing_count",
                self.cash_register_balance_end_real,
                base,
                "pos_session",
                payment_kind="none",
                reason=reason,
            )
        ]
        for method_id, diff in bank_diffs.items():
            if diff and not self.currency_id.is_zero(diff):
                vals.append(
                    self._ru54fz_prepare_movement(
                        "difference",
                        diff,
                        f"{base}/card/{method_id}",
                        "pos_session",
                        payment_method_id=method_id,
                        payment_kind="card",
                        reason=reason,
                    )
                )
        Movement._record(vals)

    # -- API for the POS screens (JSON-friendly) ------------------------------------------------

    def _ru54fz_check_read(self):
        if not self.env.user.has_group("point_of_sale.group_pos_user"):
            raise AccessError(_("Only point of sale users may read the cash state."))
        self.check_access("read")

    def ru54fz_get_cash_state(self):
        """Cash state of one session for the POS: see docs/cash_sessions.md."""
        self.ensure_one()
        self._ru54fz_check_read()
        sums = self.env["optics.cash.movement"]._sums_by_session(self.ids)[self.id]
        methods = self.env["pos.payment.method"].browse(list(sums["card"]))
        trail = [
            {
                "id": m.id,
                "kind": m.kind,
                "amount": m.amount,
                "payment_method": m.payment_method_id.name or "",
                "operation_uuid": m.operation_uuid,
                "order": m.order_id.pos_reference or "",
                "fd_number": m.fiscal_fd_number or None,
                "user": m.user_id.name or "",
                "reason": m.reason or "",
                "date": fields.Datetime.to_string(m.create_date),
            }
            for m in self.sudo().ru54fz_cash_movement_ids
        ]
        return {
            "session_id": self.id,
            "session": self.name,
            "state": self.state,
            "currency": self.currency_id.name,
            "cash_balance": sums["cash"],
            "opening_float": sums["by_kind"].get("opening_float", (0, 0.0))[1],
            "card_totals": [
                {"payment_method_id": pm.id, "name": pm.name, "amount": sums["card"][pm.id]} for pm in methods
            ],
            "card_total": sum(sums["card"].values()),
            "by_kind": {kind: {"count": c, "amount": s} for kind, (c, s) in sums["by_kind"].items()},
            "threshold": self._ru54fz_threshold(),
            "is_manager": self._ru54fz_is_manager(),
            "trail": trail,
        }

    def _ru54fz_session_figures(self):
        self.ensure_one()
        sums = self.env["optics.cash.movement"]._sums_by_session(self.ids)[self.id]
        by_kind = sums["by_kind"]

        def kind(k):
            count, total = by_kind.get(k, (0, 0.0))
            return {"count": count, "amount": total}

        return {
            "opening_float": kind("opening_float")["amount"],
            "cash_sales": kind("cash_sale"),
            "cash_refunds": kind("cash_refund"),
            "card_sales": kind("card_sale"),
            "card_refunds": kind("card_refund"),
            "cash_in": kind("cash_in"),
            "cash_out": kind("cash_out"),
            "cash_balance": sums["cash"],
            "card_total": sum(sums["card"].values()),
        }

    def ru54fz_x_report_data(self, print_on_kkt=False):
        """X report: the session's figures from the trail and, when the till answers,
        the KKT's shift counters (printed on the KKT when ``print_on_kkt``)."""
        self.ensure_one()
        self._ru54fz_check_read()
        result = {
            "session_id": self.id,
            "session": self.name,
            "config": self.config_id.name,
            "currency": self.currency_id.name,
            "printed_at": fields.Datetime.to_string(fields.Datetime.now()),
            "cashier": self.env.user.name,
            "figures": self._ru54fz_session_figures(),
            "kkt": None,
            "kkt_error": None,
            "comparison": [],
        }
        try:
            client = self.config_id.sudo()._ru54fz_till_client()
            if print_on_kkt:
                counters = shift_counters.of_reply(client.x_report(client.new_uuid(), self.env.user.name))
            else:
                counters = client.counters()
        except Exception as exc:  # noqa: BLE001 - the X report still shows the session
            _logger.info("X report of %s without KKT counters: %s", self.name, exc)
            result["kkt_error"] = getattr(exc, "message", None) or str(exc)
        else:
            kkt = self.env["optics.shift.report"]._normalise_counters(counters)
            result["kkt"] = kkt
            result["comparison"] = self._ru54fz_compare_counters(kkt)
        return result

    def _ru54fz_compare_counters(self, kkt):
        """[{label, session, kkt, difference, ok}] of the trail against the KKT counters."""
        self.ensure_one()
        fig = self._ru54fz_session_figures()
        rows = [
            (_("Cash sales"), fig["cash_sales"]["amount"], kkt["sale"]["cash"]),
            (_("Cash refunds"), -fig["cash_refunds"]["amount"], kkt["refund"]["cash"]),
            (_("Card sales"), fig["card_sales"]["amount"], kkt["sale"]["card"]),
            (_("Card refunds"), -fig["card_refunds"]["amount"], kkt["refund"]["card"]),
            (_("Cash in"), fig["cash_in"]["amount"], kkt["cash_in"]),
            (_("Cash out"), -fig["cash_out"]["amount"], kkt["cash_out"]),
        ]
        if kkt.get("cash_in_drawer") is not None:
            rows.append(
                (
                    _("Cash in drawer (without opening float)"),
                    fig["cash_balance"] - fig["opening_float"],
                    kkt["cash_in_drawer"],
                )
            )
        cur = self.currency_id
        return [
            {
                "label": label,
                "session": ours,
                "kkt": theirs,
                "difference": theirs - ours,
                "ok": not cur.compare_amounts(ours, theirs),
            }
            for label, ours, theirs in rows
        ]

    # -- back-office actions --------------------------------------------------------------------

    def action_ru54fz_cash_trail(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Cash Trail"),
            "res_model": "optics.cash.movement",
            "view_mode": "list,form",
            "domain": [("session_id", "=", self.id)],
            "context": {"create": False},
        }

    def action_ru54fz_reconcile(self):
        self.ensure_one()
        wizard = self.env["optics.cash.reconcile.wizard"].create({"session_id": self.id})
        return wizard._action_open()

    def action_ru54fz_cash_move(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": _("Cash In / Out"),
            "res_model": "optics.cash.move.wizard",
            "view_mode": "form",
            "target": "new",
            "context": {"default_session_id": self.id},
        }

    def action_ru54fz_x_report(self):
        self.ensure_one()
        wizard = self.env["optics.x.report.wizard"].create({"session_id": self.id})
        wizard._load()
        return wizard._action_open()

    def action_ru54fz_z_report(self):
        """Back-office Z report: the reconciliation wizard in ``z_report`` mode closes the
        fiscal shift on the KKT (or adopts the Z the till made offline) and the session."""
        self.ensure_one()
        wizard = self.env["optics.cash.reconcile.wizard"].create({"session_id": self.id, "mode": "z_report"})
        return wizard._action_open()

    # -- the till journal, as pushed to central ------------------------------------------------

    @api.model
    def _ru54fz_ingest_till_entries(self, config, entries):
        """Bring cash-relevant till journal entries (till push format) into the cash trail.

        Called for every entry central accepts from a till push (the fiscal
        document's create).  Receipts add their cash / card parts, cash in /
        cash out add the movement and its statement line, a ``close_shift``
        is adopted as the shift's Z report.  Each operation lands once, keyed
        by its uuid, whichever of the till push and the POS order sync comes first.
        """
        for entry in entries:
            try:
                with self.env.cr.savepoint():
                    self._ru54fz_ingest_till_entry(config, entry)
            except UserError as exc:
                # never refuse a till push for cash bookkeeping; the fiscal document is stored
                _logger.warning(
                    "cash trail: till entry %s of %s not recorded: %s",
                    entry.get("uuid"),
                    config.display_name,
                    exc,
                )

    @api.model
    def _ru54fz_session_for_entry(self, config, entry):
        op_uuid = entry.get("uuid")
        Order = self.env["pos.order"].sudo()
        domain = ["|", ("ru54fz_uuid", "=", op_uuid), ("uuid", "=", op_uuid)]
        # the pushing till's own orders only: a uuid never reaches into another store
        order = Order.search([("config_id", "=", config.id)] + domain, limit=1)
        if order:
            return order.session_id, order
        session = self.sudo().search(
            [("config_id", "=", config.id), ("state", "in", ("opened", "closing_control"))],
            order="id desc",
            limit=1,
        )
        return session, order

    @api.model
    def _ru54fz_ingest_till_entry(self, config, entry):
        kind = entry.get("kind")
        if kind not in ("sale", "refund", "cash_in", "cash_out", "close_shift"):
            return
        fiscal = entry.get("fiscal") or {}
        if kind == "close_shift":
            if fiscal:
                self.env["optics.shift.report"].sudo()._adopt_till_entry(config, entry)
            return
        if kind in ("sale", "refund") and not fiscal:
            return  # not on the KKT (yet): no money changed hands
        session, order = self._ru54fz_session_for_entry(config, entry)
        if not session:
            _logger.warning(
                "cash trail: no open session of %s for till entry %s", config.display_name, entry.get("uuid")
            )
            return
        session = session.sudo()
        link = {
            "hlc": entry.get("hlc") or False,
            "till_state": entry.get("state") or False,
            "fiscal_fd_number": fiscal.get("fd_number") or 0,
            "fiscal_sign": str(fiscal.get("fiscal_sign") or "") or False,
            "shift_number": fiscal.get("shift_number") or 0,
        }
        payload = entry.get("payload") or {}
        if kind in ("cash_in", "cash_out"):
            amount = _kop_to_amount(payload.get("amount"))
            if amount <= 0:
                return
            session._ru54fz_register_cash_move(
                kind,
                amount,
                entry["uuid"],
                "till",
                reason=payload.get("reason") or "",
                extras={"translatedType": kind},
                link=link,
            )
            return
        payments = payload.get("payments") or {}
        sign = -1 if kind == "refund" else 1
        vals = []
        cash = _kop_to_amount(payments.get("cash"))
        card = _kop_to_amount(payments.get("electronic"))
        if order:
            link["order_id"] = order.id
            # the POS order sync got there first, maybe under the order's own uuid
            synced = session.ru54fz_cash_movement_ids.filtered(lambda m: m.order_id == order)
            for movement in synced:
                movement.write({f: v for f, v in link.items() if v and not movement[f]})
            done = set(synced.mapped("kind"))
            cash = 0.0 if ("cash_sale" in done or "cash_refund" in done) else cash
            card = 0.0 if ("card_sale" in done or "card_refund" in done) else card
        if cash:
            vals.append(
                session._ru54fz_prepare_movement(
                    "cash_refund" if sign < 0 else "cash_sale", sign * cash, entry["uuid"], "till", **link
                )
            )
        if card:
            vals.append(
                session._ru54fz_prepare_movement(
                    "card_refund" if sign < 0 else "card_sale", sign * card, entry["uuid"], "till", **link
                )
            )
        self.env["optics.cash.movement"]._record(vals)
