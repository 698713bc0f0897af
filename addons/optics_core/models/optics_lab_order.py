import contextlib
import contextvars
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from ..opticslib import fiscal, laborder, leadtime
from .optics_lead_time import LENS_SOURCES

_lt = LazyTranslate(__name__)

STATES = [
    ("draft", "Draft"),
    ("confirmed", "Confirmed"),
    ("ordered", "Ordered"),
    ("in_production", "In production"),
    ("quality_check", "Quality check"),
    ("ready", "Ready"),
    ("issued", "Issued"),
    ("cancelled", "Cancelled"),
]
REMAKE_REASONS = [
    ("lab_error", "Lab error"),
    ("measurement", "Measurement error"),
    ("prescription", "Prescription change"),
    ("intolerance", "Customer cannot adapt"),
    ("breakage", "Breakage in the workshop"),
    ("other", "Other"),
]
ROLE_LABELS = {
    "cashier": _lt("Cashier"),
    "optician": _lt("Optician / lab technician"),
    "manager": _lt("Store Manager"),
    "accountant": _lt("Accountant"),
    "admin": _lt("Administrator"),
}
# Group xml ids -> opticslib roles; implied groups give the lower roles.
ROLE_GROUPS = {
    "cashier": "optics_core.group_optics_cashier",
    "optician": "optics_core.group_optics_optician",
    "manager": "optics_core.group_optics_store_manager",
    "accountant": "optics_core.group_optics_accountant",
    "admin": "optics_core.group_optics_admin",
}

# Which lab orders the model's own server code is writing right now, and for what: the state
# machine ("workflow") or a fiscalised POS receipt ("fiscal").  A Python context variable, not a
# key of the env context: a client sets any context key over RPC, it cannot reach this.
_PRIVILEGED_WRITES = contextvars.ContextVar("optics_lab_order_privileged_writes", default=frozenset())
# Money actually taken, and the receipts that took it: written from a fiscal result only.
FISCAL_FIELDS = ("amount_prepaid", "amount_paid_handover", "prepayment_pos_order_id", "handover_pos_order_id")
# What only the workflow sets.
WORKFLOW_FIELDS = ("state", "rx_snapshot_id", "date_confirmed", "date_ready", "date_issued")


class OpticsLabOrder(models.Model):
    """A pair of glasses to make: frame + two lenses + work, with its own life cycle."""

    _name = "optics.lab.order"
    _description = "Lab Order"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "id desc"
    _rec_names_search = ["name", "partner_id.name", "partner_id.phone"]

    name = fields.Char(required=True, readonly=True, copy=False, default="/", index=True)
    state = fields.Selection(
        STATES,
        required=True,
        default="draft",
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
        group_expand="_group_expand_states",
    )
    partner_id = fields.Many2one("res.partner", string="Customer", required=True, index=True, tracking=True)
    partner_phone = fields.Char(related="partner_id.phone", string="Phone")
    partner_mobile = fields.Char(related="partner_id.mobile", string="Mobile")
    store_id = fields.Many2one(
        "optics.store",
        required=True,
        index=True,
        tracking=True,
        default=lambda self: self.env.user.optics_store_id,
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    currency_id = fields.Many2one(related="company_id.currency_id")
    user_id = fields.Many2one("res.users", string="Salesperson", default=lambda self: self.env.user)
    prescription_id = fields.Many2one(
        "optics.prescription",
        tracking=True,
        domain="[('partner_id', '=', partner_id), ('snapshot_lab_order_id', '=', False)]",
    )
    rx_snapshot_id = fields.Many2one(
        "optics.prescription",
        string="Prescription snapshot",
        readonly=True,
        copy=False,
        context={"active_test": False},
    )
    prescription_expired = fields.Boolean(compute="_compute_prescription_expired")
    # The kit
    frame_product_id = fields.Many2one(
        "product.product", string="Frame", domain="[('optics_type', 'in', ('frame', 'sunglasses'))]"
    )
    frame_by_customer = fields.Boolean(string="Customer's own frame")
    od_design_id = fields.Many2one("optics.lens.design", string="OD lens design")
    os_design_id = fields.Many2one("optics.lens.design", string="OS lens design")
    coating_ids = fields.Many2many(
        "optics.lens.coating",
        string="Coatings",
        help="Coatings chosen for the lenses (among those the designs offer).",
    )
    od_lens_source = fields.Selection(LENS_SOURCES, string="OD lens source", default="supplier")
    os_lens_source = fields.Selection(LENS_SOURCES, string="OS lens source", default="supplier")
    line_ids = fields.One2many("optics.lab.order.line", "order_id", string="Kit", copy=True)
    # Frame measurements (box system) taken in the store
    frame_a = fields.Float(string="A (mm)", digits=(4, 1))
    frame_b = fields.Float(string="B (mm)", digits=(4, 1))
    frame_dbl = fields.Float(string="DBL (mm)", digits=(4, 1))
    frame_ed = fields.Float(string="ED (mm)", digits=(4, 1))
    pantoscopic_tilt = fields.Float(string="Pantoscopic tilt (°)", digits=(3, 1))
    wrap_angle = fields.Float(string="Wrap angle (°)", digits=(3, 1))
    supplier_id = fields.Many2one("res.partner", string="Lab / supplier", tracking=True)
    supplier_ref = fields.Char(string="Supplier order ref.")
    lab_notes = fields.Text(string="Notes to the lab")
    note = fields.Text(string="Internal note")
    # Dates
    date_order = fields.Datetime(string="Order date", default=fields.Datetime.now, readonly=True)
    date_confirmed = fields.Datetime(readonly=True, copy=False)
    promised_date = fields.Date(tracking=True, copy=False)
    date_ready = fields.Datetime(readonly=True, copy=False)
    date_issued = fields.Datetime(readonly=True, copy=False)
    is_overdue = fields.Boolean(compute="_compute_is_overdue", search="_search_is_overdue", string="Overdue")
    # Remakes
    remake_of_id = fields.Many2one(
        "optics.lab.order", string="Remake of", readonly=True, copy=False, index=True
    )
    remake_ids = fields.One2many("optics.lab.order", "remake_of_id", string="Remakes")
    remake_count = fields.Integer(compute="_compute_remake_count")
    remake_reason = fields.Selection(REMAKE_REASONS, readonly=True, copy=False)
    remake_note = fields.Text(readonly=True, copy=False)
    # Money: VAT-included amounts; the POS/fiscal side reads them through
    # _get_fiscal_settlement_lines() and records payments with _register_fiscal_settlement().
    amount_total = fields.Monetary(compute="_compute_amounts", store=True)
    prepayment_amount = fields.Monetary(
        string="Agreed prepayment",
        tracking=True,
        help="Amount the customer pays when ordering (advance or 100 %).",
    )
    amount_prepaid = fields.Monetary(string="Prepaid", readonly=True, copy=False, tracking=True)
    amount_paid_handover = fields.Monetary(
        string="Paid at hand-over", readonly=True, copy=False, tracking=True
    )
    amount_due = fields.Monetary(string="Balance due", compute="_compute_amounts", store=True)
    prepayment_pos_order_id = fields.Many2one(
        "pos.order", string="Prepayment receipt", readonly=True, copy=False
    )
    handover_pos_order_id = fields.Many2one(
        "pos.order", string="Hand-over receipt", readonly=True, copy=False
    )
    allowed_action_ids = fields.Char(
        compute="_compute_allowed_actions", help="Space-separated target states the current user may move to."
    )
    can_remake = fields.Boolean(compute="_compute_allowed_actions")

    _sql_constraints = [
        ("name_company_uniq", "unique(name, company_id)", "The lab order number must be unique."),
        ("prepayment_positive", "CHECK(prepayment_amount >= 0)", "The prepayment cannot be negative."),
    ]

    # ------------------------------------------------------------------ computes
    @api.model
    def _group_expand_states(self, states, domain):
        return [key for key, _label in self._fields["state"].selection]

    @api.depends("line_ids.price_total", "amount_prepaid", "amount_paid_handover")
    def _compute_amounts(self):
        for order in self:
            order.amount_total = sum(order.line_ids.mapped("price_total"))
            order.amount_due = (
                order.currency_id.round(
                    order.amount_total - order.amount_prepaid - order.amount_paid_handover
                )
                if order.currency_id
                else (order.amount_total - order.amount_prepaid - order.amount_paid_handover)
            )

    @api.depends("prescription_id.expiry_date", "rx_snapshot_id.expiry_date")
    def _compute_prescription_expired(self):
        for order in self:
            rx = order.rx_snapshot_id or order.prescription_id
            order.prescription_expired = bool(rx.is_expired) if rx else False

    @api.depends("promised_date", "state")
    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for order in self:
            order.is_overdue = bool(
                order.promised_date
                and order.promised_date < today
                and order.state in laborder.OPEN_STATES
                and order.state != "draft"
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on Overdue."))
        today = fields.Date.context_today(self)
        domain = [
            ("promised_date", "<", today),
            ("state", "in", [s for s in laborder.OPEN_STATES if s != "draft"]),
        ]
        return domain if (operator == "=") == bool(value) else ["!", "&"] + domain

    def _compute_remake_count(self):
        for order in self:
            order.remake_count = len(order.remake_ids)

    @api.depends("state")
    @api.depends_context("uid")
    def _compute_allowed_actions(self):
        roles = self.env.user._optics_roles()
        for order in self:
            order.allowed_action_ids = " ".join(laborder.targets(order.state, roles))
            order.can_remake = order.state in laborder.REMAKE_FROM and bool(laborder.REMAKE_ROLES & roles)

    # ------------------------------------------------------------------ onchanges / CRUD
    @api.onchange("partner_id")
    def _onchange_partner_id(self):
        if self.partner_id and self.prescription_id.partner_id != self.partner_id:
            self.prescription_id = self.env["optics.prescription"].search(
                [
                    ("partner_id", "=", self.partner_id.id),
                    ("snapshot_lab_order_id", "=", False),
                    ("purpose", "!=", "contact_lenses"),
                ],
                limit=1,
            )

    @api.onchange("frame_product_id")
    def _onchange_frame_product_id(self):
        frame = self.frame_product_id
        if frame:
            for fname in ("frame_a", "frame_b", "frame_dbl", "frame_ed"):
                if frame[fname]:
                    self[fname] = frame[fname]

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            self._check_client_create_vals(vals)
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("optics.lab.order") or "/"
        return super().create(vals_list)

    # Fields that describe what is being made: frozen once the order left draft.
    _FROZEN_FIELDS = (
        "partner_id",
        "prescription_id",
        "rx_snapshot_id",
        "frame_product_id",
        "od_design_id",
        "os_design_id",
        "line_ids",
        "frame_a",
        "frame_b",
        "frame_dbl",
        "frame_ed",
    )

    def _check_client_create_vals(self, vals):
        """A new order starts as a draft with nothing paid, whoever creates it and however
        (superuser code may record money a fiscal result brought, see _is_privileged_write)."""
        if vals.get("state", "draft") != "draft" or any(vals.get(f) for f in WORKFLOW_FIELDS if f != "state"):
            raise AccessError(self.env._("A lab order is created as a draft; its buttons move it on."))
        if any(vals.get(f) for f in FISCAL_FIELDS) and not self.env.su:
            raise AccessError(
                self.env._(
                    "The amounts paid on a lab order come from fiscalised POS receipts "
                    "only; they cannot be entered."
                )
            )

    @contextlib.contextmanager
    def _privileged_write_scope(self, purpose):
        """Within the block, writes of ``purpose`` to these orders come from this model's code."""
        token = _PRIVILEGED_WRITES.set(_PRIVILEGED_WRITES.get() | {(purpose, oid) for oid in self.ids})
        try:
            yield
        finally:
            _PRIVILEGED_WRITES.reset(token)

    def _write_privileged(self, purpose, vals):
        with self._privileged_write_scope(purpose):
            return self.write(vals)

    def _is_privileged_write(self, purpose):
        """The workflow fields: only inside _write_privileged, even for the superuser (as the
        snapshot, they are what the lab was told).  The money: also superuser code that
        records a fiscal result; never a client (RPC never runs as superuser)."""
        allowed = _PRIVILEGED_WRITES.get()
        if purpose == "fiscal" and self.env.su:
            return True
        return all((purpose, oid) in allowed for oid in self.ids)

    def write(self, vals):
        if set(vals) & set(FISCAL_FIELDS) and not self._is_privileged_write("fiscal"):
            raise AccessError(
                self.env._(
                    "The amounts paid on a lab order come from fiscalised POS receipts only; they cannot be "
                    "changed by hand."
                )
            )
        if not self._is_privileged_write("workflow"):
            if set(vals) & (set(WORKFLOW_FIELDS) - {"rx_snapshot_id"}):
                raise UserError(self.env._("Use the lab order's buttons to change its state."))
            if "rx_snapshot_id" in vals:
                raise UserError(
                    self.env._(
                        "The prescription snapshot is set when the order is confirmed "
                        "and can never be replaced."
                    )
                )
            frozen = set(vals) & set(self._FROZEN_FIELDS)
            locked = self.filtered(lambda o: o.state in laborder.FROZEN_STATES)
            if frozen and locked:
                labels = ", ".join(
                    sorted(self._fields[f].get_description(self.env)["string"] for f in frozen)
                )
                raise UserError(
                    self.env._(
                        "Lab order %(orders)s is already with the lab: %(fields)s can no longer be changed "
                        "(make a remake instead).",
                        orders=", ".join(locked.mapped("name")),
                        fields=labels,
                    )
                )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_draft_or_cancelled(self):
        if any(order.state not in ("draft", "cancelled") for order in self):
            raise UserError(self.env._("Only draft or cancelled lab orders can be deleted."))

    # ------------------------------------------------------------------ state machine
    def _check_transition(self, target):
        """Raise unless the current user may move every order of self to ``target``."""
        roles = self.env.user._optics_roles()
        states = dict(self._fields["state"]._description_selection(self.env))
        for order in self:
            try:
                laborder.check_transition(order.state, target, roles)
            except laborder.TransitionError as exc:
                if exc.code == "forbidden":
                    allowed = laborder.roles_for(order.state, target)
                    raise AccessError(
                        self.env._(
                            "Lab order %(order)s: you may not move it from %(from)s to %(to)s. Allowed for: "
                            "%(roles)s.",
                            order=order.name,
                            **{"from": states[order.state], "to": states[target]},
                            roles=", ".join(
                                ROLE_LABELS[r]._translate(self.env.lang or "en_US")
                                for r in laborder.ROLES
                                if r in allowed
                            ),
                        )
                    ) from None
                raise UserError(
                    self.env._(
                        "Lab order %(order)s cannot go from %(from)s to %(to)s.",
                        order=order.name,
                        **{"from": states[order.state], "to": states[target]},
                    )
                ) from None

    def _set_state(self, target, extra_vals=None):
        self._check_transition(target)
        vals = dict(extra_vals or {}, state=target)
        self._write_privileged("workflow", vals)

    def action_confirm(self):
        self._check_transition("confirmed")
        for order in self:
            order._check_confirmable()
            if not order.line_ids:
                order._fill_kit_lines()
            snapshot = order.prescription_id._make_snapshot(order)
            vals = {"rx_snapshot_id": snapshot.id, "date_confirmed": fields.Datetime.now()}
            if not order.promised_date:
                vals["promised_date"] = order._compute_promised_date()
            order._set_state("confirmed", vals)
            if order.prescription_expired:
                order.message_post(
                    body=self.env._(
                        "Warning: the prescription expired on %(date)s. The order was confirmed anyway.",
                        date=order.prescription_id.expiry_date,
                    )
                )
        return True

    def _check_confirmable(self):
        self.ensure_one()
        if not self.prescription_id:
            raise UserError(
                self.env._(
                    "Lab order %(order)s: choose the prescription to make the glasses for.", order=self.name
                )
            )
        if self.prescription_id.partner_id != self.partner_id:
            raise UserError(
                self.env._(
                    "Lab order %(order)s: the prescription belongs to another customer.", order=self.name
                )
            )
        problems = self._get_makeability_problems()
        if problems:
            raise UserError(
                self.env._(
                    "Lab order %(order)s cannot be made:\n%(problems)s",
                    order=self.name,
                    problems="\n".join(problems),
                )
            )

    def _get_makeability_problems(self):
        """Messages for every lens that its design cannot make (both meridians, ADD, fitting height)."""
        self.ensure_one()
        rx = self.rx_snapshot_id or self.prescription_id
        if not rx:
            return []
        by_design = {}
        for eye, design in (("od", self.od_design_id), ("os", self.os_design_id)):
            if design:
                by_design.setdefault(design, {})[eye] = {
                    "sph": rx[f"{eye}_sph"],
                    "cyl": rx[f"{eye}_cyl"],
                    "axis": rx[f"{eye}_axis"] or None,
                    "add": rx[f"{eye}_add"] or None,
                    "fitting_height": rx[f"{eye}_fitting_height"] or None,
                }
        problems = []
        for design, eyes in by_design.items():
            result = design._check_makeable(eyes, frame=self.frame_product_id or None)
            problems += [f"{design.display_name}: {design._format_problem(p)}" for p in result.problems]
        return problems

    def _compute_promised_date(self):
        self.ensure_one()
        company = self.company_id
        table = self.env["optics.lead.time"]._get_table(company)
        lenses = [
            (d.lens_type, src)
            for d, src in ((self.od_design_id, self.od_lens_source), (self.os_design_id, self.os_lens_source))
            if d
        ]
        weekdays, holidays = self._get_working_calendar()
        start = fields.Date.context_today(self)
        return leadtime.promised_date(start, lenses, table, company.optics_assembly_days, weekdays, holidays)

    def _get_working_calendar(self):
        """(weekdays, holidays) of the company's working calendar, Monday..Friday by default."""
        calendar = self.company_id.resource_calendar_id
        weekdays = leadtime.MONDAY_TO_FRIDAY
        holidays = set()
        if calendar:
            days = {int(d) for d in calendar.attendance_ids.mapped("dayofweek")}
            weekdays = frozenset(days) or weekdays
            today = fields.Date.context_today(self)
            leaves = (
                self.env["resource.calendar.leaves"]
                .sudo()
                .search(
                    [
                        ("calendar_id", "in", [calendar.id, False]),
                        ("resource_id", "=", False),
                        ("company_id", "in", [self.company_id.id, False]),
                        ("date_to", ">=", fields.Datetime.to_datetime(today)),
                    ]
                )
            )
            for leave in leaves:
                day = leave.date_from.date()
                while day <= leave.date_to.date():
                    holidays.add(day)
                    day += timedelta(days=1)
        return weekdays, holidays

    def action_order(self):
        self._set_state("ordered")
        return True

    def action_start_production(self):
        self._set_state("in_production")
        return True

    def action_to_quality_check(self):
        self._set_state("quality_check")
        return True

    def action_quality_ok(self):
        self._set_state("ready", {"date_ready": fields.Datetime.now()})
        self._notify_ready()
        return True

    def action_quality_failed(self):
        self._set_state("in_production")
        return True

    def action_issue(self):
        self._check_transition("issued")
        for order in self:
            if order.currency_id.compare_amounts(order.amount_due, 0) > 0:
                raise UserError(
                    self.env._(
                        "Lab order %(order)s: the balance of %(amount)s is not paid yet; take it in the POS "
                        "first.",
                        order=order.name,
                        amount=order.amount_due,
                    )
                )
        self._set_state("issued", {"date_issued": fields.Datetime.now()})
        return True

    def action_cancel(self):
        self._set_state("cancelled")
        for order in self.filtered(lambda o: o.currency_id.compare_amounts(o.amount_prepaid, 0) > 0):
            order.message_post(
                body=self.env._(
                    "Cancelled with %(amount)s prepaid: refund the prepayment through the POS.",
                    amount=order.amount_prepaid,
                )
            )
        return True

    def action_reopen(self):
        self._set_state("draft", {"promised_date": False})
        return True

    def action_open_remake_wizard(self):
        self.ensure_one()
        laborder_roles = self.env.user._optics_roles()
        try:
            laborder.check_remake(self.state, laborder_roles)
        except laborder.TransitionError as exc:
            raise (AccessError if exc.code == "forbidden" else UserError)(
                self.env._(
                    "Lab order %(order)s cannot be remade by you in its current state.", order=self.name
                )
            ) from None
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Remake"),
            "res_model": "optics.lab.order.remake",
            "view_mode": "form",
            "target": "new",
            "context": {"default_order_id": self.id},
        }

    def _create_remake(self, reason, note=False, prescription=None):
        """A new draft order for the same glasses, linked to this one."""
        self.ensure_one()
        roles = self.env.user._optics_roles()
        try:
            laborder.check_remake(self.state, roles)
        except laborder.TransitionError as exc:
            raise (AccessError if exc.code == "forbidden" else UserError)(
                self.env._(
                    "Lab order %(order)s cannot be remade by you in its current state.", order=self.name
                )
            ) from None
        if not reason:
            raise UserError(self.env._("A remake needs a reason."))
        remake = self.copy(
            {
                "remake_of_id": self.id,
                "remake_reason": reason,
                "remake_note": note,
                "prescription_id": (
                    prescription or self.rx_snapshot_id.source_prescription_id or self.prescription_id
                ).id,
                "prepayment_amount": 0.0,
            }
        )
        if self.state in laborder.REMAKE_CANCELS_ORIGINAL:
            self._write_privileged("workflow", {"state": "cancelled"})
        self.message_post(body=self.env._("Remake %(remake)s created.", remake=remake.name))
        return remake

    def action_view_remakes(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.optics_lab_order_action")
        action.update(domain=[("remake_of_id", "=", self.id)], context={})
        return action

    # ------------------------------------------------------------------ kit and notifications
    def _prepare_kit_line_vals(self):
        self.ensure_one()
        vals = []
        if self.frame_product_id and not self.frame_by_customer:
            vals.append({"role": "frame", "product_id": self.frame_product_id.id})
        for eye, design in (("od", self.od_design_id), ("os", self.os_design_id)):
            if design:
                vals.append(
                    {"role": f"lens_{eye}", "product_id": design.product_tmpl_id.product_variant_id.id}
                )
        service = self.env.ref("optics_core.product_service_edging", raise_if_not_found=False)
        if service and vals and service.active:
            vals.append({"role": "work", "product_id": service.product_variant_id.id})
        return vals

    def _fill_kit_lines(self):
        for order in self:
            new = [vals for vals in order._prepare_kit_line_vals()]
            order._write_privileged("workflow", {"line_ids": [fields.Command.create(v) for v in new]})

    def action_fill_kit_lines(self):
        self.ensure_one()
        if self.state != "draft":
            raise UserError(self.env._("The kit can only be changed in a draft lab order."))
        self.line_ids.unlink()
        self._fill_kit_lines()
        return True

    def _notify_ready(self):
        template = self.env.ref("optics_core.mail_template_lab_order_ready", raise_if_not_found=False)
        for order in self:
            if template and order.partner_id.email:
                order.message_post_with_source(
                    template, message_type="comment", subtype_xmlid="mail.mt_comment"
                )
            else:
                order.message_post(
                    body=self.env._(
                        "The glasses are ready. The customer has no e-mail: call %(phone)s.",
                        phone=order.partner_id.phone or order.partner_id.mobile or "-",
                    )
                )

    def action_print_job_ticket(self):
        self.ensure_one()
        return self.env.ref("optics_core.action_report_lab_order_ticket").report_action(self)

    # ------------------------------------------------------------------ fiscal interface
    def _get_fiscal_kit(self):
        """The kit as :class:`opticslib.fiscal.KitLine` (kopecks, VAT code 1199)."""
        self.ensure_one()
        kit = []
        for line in self.line_ids:
            kit.append(
                fiscal.KitLine(
                    name=line.product_id.display_name if not line.name else line.name,
                    amount=self._to_kopecks(line.price_total),
                    quantity=int(round(line.quantity * 1000)),
                    vat_code=line._get_ffd_vat_code(),
                    subject=fiscal.SUBJECT_SERVICE
                    if line.product_id.type == "service"
                    else fiscal.SUBJECT_GOODS,
                    barcode=line.product_id.barcode or "",
                )
            )
        return kit

    def _to_kopecks(self, amount):
        return int(round(self.currency_id.round(amount) * 100))

    def _get_fiscal_settlement_lines(self, stage, amount=None):
        """Receipt content for one stage; see docs/lab_order_fiscal_interface.md.

        stage 'prepayment': lines with 1214 = 1 (amount == total) or 3 (advance),
        for ``amount`` (default: the agreed prepayment) in kopecks.
        stage 'handover': every kit line with 1214 = 4; ``prepaid`` goes to 1215.
        """
        self.ensure_one()
        kit = self._get_fiscal_kit()
        total = sum(k.amount for k in kit)
        if stage == "prepayment":
            if self.state not in ("draft", "confirmed", "ordered", "in_production", "quality_check", "ready"):
                raise UserError(
                    self.env._("Lab order %(order)s takes no prepayment in its state.", order=self.name)
                )
            kop = self._to_kopecks(self.prepayment_amount) if amount is None else int(amount)
            already = self._to_kopecks(self.amount_prepaid)
            try:
                lines = fiscal.prepayment_lines(kit, kop, self.name) if kop + already <= total else None
            except ValueError as exc:
                raise UserError(
                    self.env._("Lab order %(order)s: %(error)s", order=self.name, error=exc)
                ) from None
            if lines is None:
                raise UserError(
                    self.env._(
                        "Lab order %(order)s: the prepayment would exceed the order total.", order=self.name
                    )
                )
            return {
                "stage": stage,
                "order": self.name,
                "lines": lines,
                "total": kop,
                "prepaid": 0,
                "due": kop,
            }
        if stage == "handover":
            if self.state != "ready":
                raise UserError(
                    self.env._("Lab order %(order)s is not ready for hand-over.", order=self.name)
                )
            prepaid = self._to_kopecks(self.amount_prepaid)
            return {
                "stage": stage,
                "order": self.name,
                "lines": fiscal.handover_lines(kit),
                "total": total,
                "prepaid": prepaid,
                "due": total - prepaid,
            }
        raise UserError(self.env._("Unknown settlement stage %(stage)s.", stage=stage))

    def _register_fiscal_settlement(self, stage, amount_kop, pos_order=None):
        """Record money taken by a fiscalised POS receipt (called by the POS side)."""
        self.ensure_one()
        amount = amount_kop / 100.0
        if amount_kop <= 0:
            raise UserError(self.env._("The settled amount must be positive."))
        if stage == "prepayment_refund":
            return self._register_prepayment_refund(amount)
        vals = {}
        if stage == "prepayment":
            vals["amount_prepaid"] = self.amount_prepaid + amount
            if pos_order:
                vals["prepayment_pos_order_id"] = pos_order.id
        elif stage == "handover":
            vals["amount_paid_handover"] = self.amount_paid_handover + amount
            if pos_order:
                vals["handover_pos_order_id"] = pos_order.id
        else:
            raise UserError(self.env._("Unknown settlement stage %(stage)s.", stage=stage))
        if (
            self.currency_id.compare_amounts(
                self.amount_prepaid + self.amount_paid_handover + amount, self.amount_total
            )
            > 0
        ):
            raise UserError(
                self.env._("Lab order %(order)s: payments would exceed the order total.", order=self.name)
            )
        self._write_privileged("fiscal", vals)
        return True

    @api.constrains("prepayment_amount", "amount_total")
    def _check_prepayment(self):
        for order in self:
            if (
                order.state == "draft"
                and order.line_ids
                and order.currency_id.compare_amounts(order.prepayment_amount, order.amount_total) > 0
            ):
                raise ValidationError(
                    self.env._(
                        "Lab order %(order)s: the prepayment %(prepay)s exceeds the total %(total)s.",
                        order=order.name,
                        prepay=order.prepayment_amount,
                        total=order.amount_total,
                    )
                )

    def _register_prepayment_refund(self, amount):
        """A refund receipt gave ``amount`` of the prepayment back (cancelled order only)."""
        self.ensure_one()
        if self.state != "cancelled":
            raise UserError(
                self.env._(
                    "Lab order %(order)s: a prepayment is refunded only when the order is cancelled.",
                    order=self.name,
                )
            )
        if self.currency_id.compare_amounts(amount, self.amount_prepaid) > 0:
            raise UserError(
                self.env._(
                    "Lab order %(order)s: the refund %(amount)s exceeds the prepaid %(prepaid)s.",
                    order=self.name,
                    amount=amount,
                    prepaid=self.amount_prepaid,
                )
            )
        self._write_privileged(
            "fiscal", {"amount_prepaid": self.currency_id.round(self.amount_prepaid - amount)}
        )
        self.message_post(
            body=self.env._("Prepayment of %(amount)s refunded by a fiscal refund receipt.", amount=amount)
        )
        return True

    # ------------------------------------------------------------------ POS (optical sale screens)
    @api.model
    def _optics_pos_config(self, config_id):
        """The POS the call comes from, read through the caller's store rules."""
        config = self.env["pos.config"].browse(int(config_id or 0)).exists()
        if not config or not config.optics_store_id:
            raise UserError(self.env._("This point of sale belongs to no store."))
        config.check_access("read")
        return config

    def _optics_pos_check_store(self, config):
        for order in self:
            if order.store_id != config.optics_store_id:
                raise AccessError(
                    self.env._("Lab order %(order)s belongs to another store.", order=order.name)
                )

    def _optics_pos_info(self, config=None):
        """What the POS shows and needs of a lab order (money in roubles; settlement lines in
        kopecks, computed here so that the POS can fiscalise them even with this server down)."""
        self.ensure_one()
        states = dict(self._fields["state"]._description_selection(self.env))
        rx = self.rx_snapshot_id or self.prescription_id
        info = {
            "id": self.id,
            "name": self.name,
            "state": self.state,
            "state_label": states.get(self.state),
            "partner_id": self.partner_id.id,
            "partner_name": self.partner_id.name,
            "partner_phone": self.partner_id.phone or self.partner_id.mobile or "",
            "store_id": self.store_id.id,
            "amount_total": self.amount_total,
            "prepayment_amount": self.prepayment_amount,
            "amount_prepaid": self.amount_prepaid,
            "amount_paid_handover": self.amount_paid_handover,
            "amount_due": self.amount_due,
            "promised_date": fields.Date.to_string(self.promised_date) if self.promised_date else "",
            "prescription": rx.name or "",
            "prescription_expired": self.prescription_expired,
            "frame": self.frame_product_id.display_name
            if self.frame_product_id and not self.frame_by_customer
            else self.env._("Customer's own frame"),
            "od_design": self.od_design_id.display_name or "",
            "os_design": self.os_design_id.display_name or "",
            "coatings": ", ".join(self.coating_ids.mapped("name")),
            "kit": [
                {"name": line.name or line.product_id.display_name, "amount": line.price_total}
                for line in self.line_ids
            ],
            "prepayment": False,
            "handover": False,
            "refundable": self.state == "cancelled"
            and self.currency_id.compare_amounts(self.amount_prepaid, 0) > 0,
        }
        prepaid_kop = self._to_kopecks(self.amount_prepaid)
        agreed_kop = self._to_kopecks(self.prepayment_amount)
        if self.state not in ("issued", "cancelled") and agreed_kop > prepaid_kop and self.line_ids:
            with contextlib.suppress(UserError):
                info["prepayment"] = self._get_fiscal_settlement_lines("prepayment", agreed_kop - prepaid_kop)
        if self.state == "ready":
            info["handover"] = self._get_fiscal_settlement_lines("handover")
        return info

    @api.model
    def optics_pos_order_info(self, config_id, order_ids):
        config = self._optics_pos_config(config_id)
        orders = self.browse([int(i) for i in order_ids]).exists()
        orders._optics_pos_check_store(config)
        return [order._optics_pos_info() for order in orders]

    @api.model
    def optics_pos_find_orders(self, config_id, query):
        """POS hand-over: lab orders of this store by number (typed or scanned from the job
        ticket) or by the customer's phone."""
        config = self._optics_pos_config(config_id)
        query = (query or "").strip()
        if not query:
            return []
        domain = [("store_id", "=", config.optics_store_id.id)]
        digits = "".join(ch for ch in query if ch.isdigit())
        orders = self.search(domain + [("name", "=ilike", query)], limit=20)
        if not orders and len(digits) >= 10 and not any(ch.isalpha() for ch in query):
            partners = self.env["res.partner"]._optics_search_by_phone(query)
            orders = self.search(domain + [("partner_id", "in", partners.ids)], limit=20)
        if not orders:
            orders = self.search(domain + [("name", "ilike", query)], limit=20)
        return [order._optics_pos_info() for order in orders]

    @api.model
    def optics_pos_catalog(self, config_id, prescription_id, frame_id=False):
        """Frames of the store's stock, coatings, and every lens design with, per eye, whether it
        can be made for this prescription (opticslib makeability, both meridians, ADD, diameter,
        fitting height against the frame) and if not, why (the range it can make)."""
        config = self._optics_pos_config(config_id)
        rx = self.env["optics.prescription"].browse(int(prescription_id)).exists()
        if not rx:
            raise UserError(self.env._("Choose a prescription first."))
        frame = self.env["product.product"].browse(int(frame_id)).exists() if frame_id else None
        frames = self.env["product.product"].search(
            [("optics_type", "in", ("frame", "sunglasses")), ("sale_ok", "=", True)], limit=200
        )
        warehouse = config.optics_store_id.warehouse_id or config.picking_type_id.warehouse_id
        if warehouse:
            frames = frames.with_context(warehouse_id=warehouse.id)
        designs = []
        for design in self.env["optics.lens.design"].search([]):
            entry = {
                "id": design.id,
                "name": design.display_name,
                "lens_type": design.lens_type,
                "price": design.product_tmpl_id.list_price,
                "coatings": [{"id": c.id, "name": c.name} for c in design.coating_ids],
            }
            for eye in ("od", "os"):
                values = {
                    "sph": rx[f"{eye}_sph"],
                    "cyl": rx[f"{eye}_cyl"],
                    "axis": rx[f"{eye}_axis"] or None,
                    "add": rx[f"{eye}_add"] or None,
                    "fitting_height": rx[f"{eye}_fitting_height"] or None,
                }
                result = design._check_makeable({eye: values}, frame=frame)
                entry[f"{eye}_ok"] = not result.problems
                entry[f"{eye}_problems"] = [design._format_problem(p) for p in result.problems]
            designs.append(entry)
        return {
            "frames": [
                {
                    "id": f.id,
                    "name": f.display_name,
                    "price": f.lst_price,
                    "qty": f.qty_available if "qty_available" in f._fields else 0,
                    "barcode": f.barcode or "",
                }
                for f in frames
                if f.type != "consu" or not warehouse or f.qty_available > 0
            ],
            "designs": designs,
            "prescription": rx._optics_pos_info(),
        }

    @api.model
    def optics_pos_create_order(self, config_id, vals):
        """POS: create and confirm the lab order (makeability checked, prescription snapshot taken,
        promised date from the lead times); returns its POS info with the prepayment lines."""
        config = self._optics_pos_config(config_id)
        partner = self.env["res.partner"].browse(int(vals.get("partner_id") or 0)).exists()
        rx = self.env["optics.prescription"].browse(int(vals.get("prescription_id") or 0)).exists()
        if not partner or not rx:
            raise UserError(self.env._("Choose the customer and the prescription."))
        own_frame = bool(vals.get("frame_by_customer"))
        frame_id = False if own_frame else int(vals.get("frame_product_id") or 0)
        if not own_frame and not frame_id:
            raise UserError(self.env._("Choose a frame from stock or tick the customer's own frame."))
        designs = self.env["optics.lens.design"]
        od = designs.browse(int(vals.get("od_design_id") or 0)).exists()
        os_ = designs.browse(int(vals.get("os_design_id") or 0)).exists()
        if not od or not os_:
            raise UserError(self.env._("Choose a lens design for each eye."))
        coatings = (
            self.env["optics.lens.coating"].browse([int(c) for c in vals.get("coating_ids") or []]).exists()
        )
        foreign = coatings - (od.coating_ids | os_.coating_ids)
        if foreign:
            raise UserError(
                self.env._(
                    "The chosen lens designs do not offer %(coatings)s.",
                    coatings=", ".join(foreign.mapped("name")),
                )
            )
        order = self.create(
            {
                "partner_id": partner.id,
                "prescription_id": rx.id,
                "store_id": config.optics_store_id.id,
                "company_id": config.company_id.id,
                "frame_product_id": frame_id or False,
                "frame_by_customer": own_frame,
                "od_design_id": od.id,
                "os_design_id": os_.id,
                "coating_ids": [fields.Command.set(coatings.ids)],
                "lab_notes": vals.get("lab_notes") or False,
            }
        )
        if frame_id:
            order._onchange_frame_product_id()
        order._fill_kit_lines()
        if not vals.get("fitting", True):
            order.line_ids.filtered(lambda line: line.role == "work").unlink()
        prepayment = float(vals.get("prepayment_amount") or 0.0)
        if prepayment < 0 or order.currency_id.compare_amounts(prepayment, order.amount_total) > 0:
            raise UserError(
                self.env._(
                    "The prepayment must be between 0 and the order total %(total)s.",
                    total=order.amount_total,
                )
            )
        order.prepayment_amount = prepayment
        order.action_confirm()
        return order._optics_pos_info()

    def optics_pos_issue(self, config_id):
        """POS hand-over without a balance (everything prepaid): issue, refused while anything is due."""
        config = self._optics_pos_config(config_id)
        self._optics_pos_check_store(config)
        self.action_issue()
        return [order._optics_pos_info() for order in self]
