import contextvars

from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools.translate import LazyTranslate

from ..opticslib import rx, transpose

_lt = LazyTranslate(__name__)

PURPOSES = [
    ("distance", "Distance"),
    ("near", "Near"),
    ("computer", "Computer"),
    ("contact_lenses", "Contact lenses"),
]
PRISM_BASES = [
    ("up", "Base up"),
    ("down", "Base down"),
    ("in", "Base in"),
    ("out", "Base out"),
    ("angle", "Degrees"),
]
CL_TYPES = [
    ("soft_sph", "Soft spherical"),
    ("soft_toric", "Soft toric"),
    ("soft_multifocal", "Soft multifocal"),
    ("rgp", "Rigid gas-permeable"),
    ("ortho_k", "Orthokeratology"),
]

EYE_LABELS = {"od": _lt("OD (right eye)"), "os": _lt("OS (left eye)"), None: _lt("Both eyes")}
FIELD_LABELS = {
    "sph": _lt("SPH"),
    "cyl": _lt("CYL"),
    "axis": _lt("AXIS"),
    "add": _lt("ADD"),
    "prism1": _lt("Prism 1"),
    "prism1_base": _lt("Prism 1 base"),
    "prism1_angle": _lt("Prism 1 base"),
    "prism2": _lt("Prism 2"),
    "prism2_base": _lt("Prism 2 base"),
    "prism2_angle": _lt("Prism 2 base"),
    "pd_far": _lt("PD far"),
    "pd_near": _lt("PD near"),
    "fitting_height": _lt("Fitting height"),
    "va_sc": _lt("Visual acuity without correction"),
    "va_cc": _lt("Visual acuity with correction"),
    "bc": _lt("Base curve"),
    "dia": _lt("Diameter"),
    "vertex_distance": _lt("Vertex distance"),
}
# opticslib.rx error code -> message; placeholders: eye, field and, when the field has a rule,
# min, max, step, unit and value.  A code without a message here shows rx's own English text.
RX_ERROR_MESSAGES = {
    "range": _lt("%(eye)s, %(field)s = %(value)s: allowed %(min)s … %(max)s in steps of %(step)s %(unit)s."),
    "step": _lt(
        "%(eye)s, %(field)s = %(value)s: must be in steps of %(step)s %(unit)s (allowed %(min)s … %(max)s)."
    ),
    "range_transposed": _lt(
        "%(eye)s, %(field)s in minus-cylinder form = %(value)s: allowed %(min)s … %(max)s "
        "%(unit)s (the written SPH + CYL is out of range)."
    ),
    "axis_required": _lt("%(eye)s, %(field)s: required when CYL is not 0 (allowed %(min)s … %(max)s)."),
    "axis_forbidden": _lt("%(eye)s, %(field)s: must be empty when CYL is 0."),
    "required": _lt(
        "%(eye)s, %(field)s: required for a contact-lens prescription (allowed %(min)s … %(max)s %(unit)s)."
    ),
    "prism_base_required": _lt(
        "%(eye)s, %(field)s: a prism needs a base (up, down, in, out or degrees 0 … 359)."
    ),
    "prism_base_without_prism": _lt("%(eye)s, %(field)s: a base is given without a prism amount."),
    "prism_same_direction": _lt(
        "%(eye)s, %(field)s: the two prism components must be one vertical (up/down) "
        "and one horizontal (in/out)."
    ),
    "prism2_without_prism1": _lt("%(eye)s, %(field)s: fill prism 1 before prism 2."),
}
# Per-eye values handed to opticslib.rx (field suffix -> rule name).
EYE_VALUE_FIELDS = (
    "sph",
    "cyl",
    "axis",
    "add",
    "prism1",
    "prism1_base",
    "prism1_angle",
    "prism2",
    "prism2_base",
    "prism2_angle",
    "pd_far",
    "pd_near",
    "fitting_height",
    "va_sc",
    "va_cc",
    "bc",
    "dia",
)
PAIR_VALUE_FIELDS = ("pd_far", "pd_near", "vertex_distance")

# Set while _make_snapshot copies a prescription into a lab order: the only code that may create
# or change a snapshot.  A Python context variable, not an env context key a client could send.
_SNAPSHOT_WRITE = contextvars.ContextVar("optics_prescription_snapshot_write", default=False)


def _eye_fields(eye, label):
    """The per-eye columns: written values plus the normalised minus-cylinder form."""
    return {
        f"{eye}_sph": fields.Float(string=f"{label} SPH", digits=(5, 2)),
        f"{eye}_cyl": fields.Float(string=f"{label} CYL", digits=(5, 2)),
        f"{eye}_axis": fields.Integer(string=f"{label} AXIS"),
        f"{eye}_add": fields.Float(string=f"{label} ADD", digits=(4, 2)),
        f"{eye}_prism1": fields.Float(string=f"{label} Prism 1 (Δ)", digits=(4, 2)),
        f"{eye}_prism1_base": fields.Selection(PRISM_BASES, string=f"{label} Prism 1 base"),
        f"{eye}_prism1_angle": fields.Integer(string=f"{label} Prism 1 base (°)"),
        f"{eye}_prism2": fields.Float(string=f"{label} Prism 2 (Δ)", digits=(4, 2)),
        f"{eye}_prism2_base": fields.Selection(PRISM_BASES, string=f"{label} Prism 2 base"),
        f"{eye}_prism2_angle": fields.Integer(string=f"{label} Prism 2 base (°)"),
        f"{eye}_pd_far": fields.Float(string=f"{label} PD far (mm)", digits=(4, 1)),
        f"{eye}_pd_near": fields.Float(string=f"{label} PD near (mm)", digits=(4, 1)),
        f"{eye}_fitting_height": fields.Float(string=f"{label} Fitting height (mm)", digits=(4, 1)),
        f"{eye}_va_sc": fields.Float(string=f"{label} VA without correction", digits=(3, 2)),
        f"{eye}_va_cc": fields.Float(string=f"{label} VA with correction", digits=(3, 2)),
        f"{eye}_bc": fields.Float(string=f"{label} Base curve (mm)", digits=(4, 2)),
        f"{eye}_dia": fields.Float(string=f"{label} Diameter (mm)", digits=(4, 1)),
        f"{eye}_sph_minus": fields.Float(
            string=f"{label} SPH (minus cyl)", digits=(5, 2), compute="_compute_minus_cyl", store=True
        ),
        f"{eye}_cyl_minus": fields.Float(
            string=f"{label} CYL (minus cyl)", digits=(5, 2), compute="_compute_minus_cyl", store=True
        ),
        f"{eye}_axis_minus": fields.Integer(
            string=f"{label} AXIS (minus cyl)", compute="_compute_minus_cyl", store=True
        ),
    }


class OpticsPrescription(models.Model):
    """A customer's prescription, as written, plus its minus-cylinder form.

    A prescription copied into a lab order at confirmation is a *snapshot*
    (``snapshot_lab_order_id`` set): it never changes again.
    """

    _name = "optics.prescription"
    _description = "Prescription"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _rec_names_search = ["name", "partner_id"]

    name = fields.Char(compute="_compute_name", store=True)
    partner_id = fields.Many2one(
        "res.partner", string="Customer", required=True, index=True, ondelete="restrict", tracking=True
    )
    partner_phone = fields.Char(related="partner_id.phone", string="Phone")
    date = fields.Date(required=True, default=fields.Date.context_today, tracking=True)
    prescriber_id = fields.Many2one(
        "res.partner",
        help="The ophthalmologist or optometrist who wrote the prescription.",
    )
    prescriber_internal = fields.Boolean(string="Our specialist")
    purpose = fields.Selection(PURPOSES, required=True, default="distance", tracking=True)
    kind = fields.Selection(
        [("spectacles", "Spectacles"), ("contact_lenses", "Contact lenses")],
        compute="_compute_kind",
        store=True,
    )
    cl_type = fields.Selection(CL_TYPES, string="Contact-lens type")
    expiry_date = fields.Date(compute="_compute_expiry_date", store=True, readonly=False, tracking=True)
    is_expired = fields.Boolean(compute="_compute_is_expired", search="_search_is_expired", string="Expired")
    store_id = fields.Many2one("optics.store", default=lambda self: self.env.user.optics_store_id)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    pd_far = fields.Float(string="Binocular PD far (mm)", digits=(4, 1))
    pd_near = fields.Float(string="Binocular PD near (mm)", digits=(4, 1))
    vertex_distance = fields.Float(string="Vertex distance (mm)", digits=(4, 1))
    notes = fields.Text()
    snapshot_lab_order_id = fields.Many2one(
        "optics.lab.order",
        string="Snapshot of lab order",
        readonly=True,
        index="btree_not_null",
        ondelete="cascade",
        copy=False,
    )
    source_prescription_id = fields.Many2one(
        "optics.prescription", string="Copied from", readonly=True, copy=False
    )
    active = fields.Boolean(default=True)

    locals().update(_eye_fields("od", "OD"))
    locals().update(_eye_fields("os", "OS"))

    @api.depends("partner_id", "date", "purpose")
    def _compute_name(self):
        purposes = dict(self._fields["purpose"]._description_selection(self.env))
        for rec in self:
            rec.name = " · ".join(
                filter(
                    None,
                    [
                        rec.date and fields.Date.to_string(rec.date),
                        purposes.get(rec.purpose),
                        rec.partner_id.name,
                    ],
                )
            )

    @api.depends("purpose")
    def _compute_kind(self):
        for rec in self:
            rec.kind = "contact_lenses" if rec.purpose == "contact_lenses" else "spectacles"

    @api.depends("date", "kind", "company_id")
    def _compute_expiry_date(self):
        for rec in self:
            if not rec.date:
                rec.expiry_date = False
                continue
            months = (
                rec.company_id.optics_cl_rx_validity_months
                if rec.kind == "contact_lenses"
                else rec.company_id.optics_rx_validity_months
            )
            rec.expiry_date = rec.date + relativedelta(months=months) if months else False

    @api.depends("expiry_date")
    def _compute_is_expired(self):
        today = fields.Date.context_today(self)
        for rec in self:
            rec.is_expired = bool(rec.expiry_date and rec.expiry_date < today)

    def _search_is_expired(self, operator, value):
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on Expired."))
        today = fields.Date.context_today(self)
        expired = [("expiry_date", "!=", False), ("expiry_date", "<", today)]
        return expired if (operator == "=") == bool(value) else ["!", "&"] + expired

    @api.depends(*[f"{eye}_{f}" for eye in ("od", "os") for f in ("sph", "cyl", "axis")])
    def _compute_minus_cyl(self):
        for rec in self:
            for eye in ("od", "os"):
                sph, cyl, axis = rec[f"{eye}_sph"], rec[f"{eye}_cyl"], rec[f"{eye}_axis"]
                try:
                    m_sph, m_cyl, m_axis = transpose.to_convention(sph, cyl, axis or None, transpose.MINUS)
                except ValueError:
                    # incomplete values: the constraint reports them; keep the written form
                    m_sph, m_cyl, m_axis = sph, cyl, axis
                rec[f"{eye}_sph_minus"] = float(m_sph)
                rec[f"{eye}_cyl_minus"] = float(m_cyl)
                rec[f"{eye}_axis_minus"] = m_axis or 0

    # ------------------------------------------------------------------ validation
    def _get_rx_values(self):
        self.ensure_one()
        eyes = {eye: {f: self[f"{eye}_{f}"] for f in EYE_VALUE_FIELDS} for eye in ("od", "os")}
        pair = {f: self[f] for f in PAIR_VALUE_FIELDS}
        return eyes, pair

    def _format_rx_error(self, err):
        """A translated message naming the eye, the field and the allowed range."""
        lang = self.env.lang or "en_US"
        eye = EYE_LABELS[err.eye]._translate(lang)
        label = FIELD_LABELS.get(err.field)
        if err.eye is None and err.field in ("pd_far", "pd_near"):
            label = self.env._("Binocular %(field)s", field=FIELD_LABELS[err.field]._translate(lang))
        label = label._translate(lang) if hasattr(label, "_translate") else str(label or err.field)
        rule = err.rule
        parts = {"eye": eye, "field": label}
        if rule is not None:
            units = {"D": self.env._("D"), "mm": self.env._("mm")}
            parts.update(
                min=rule.fmt(rule.minimum),
                max=rule.fmt(rule.maximum),
                step=rule.fmt(rule.step).lstrip("+"),
                unit=units.get(rule.unit, rule.unit),
                value=rule.fmt(err.value) if err.value is not None and err.code != "not_a_number" else "",
            )
        message = RX_ERROR_MESSAGES.get(err.code)
        if message is not None:
            return self.env._(message) % parts
        return f"{eye}, {label}: {err.message}"

    def _rx_errors(self):
        self.ensure_one()
        eyes, pair = self._get_rx_values()
        return rx.validate(eyes["od"], eyes["os"], pair, kind=self.kind)

    @api.constrains(
        *[f"{eye}_{f}" for eye in ("od", "os") for f in EYE_VALUE_FIELDS], *PAIR_VALUE_FIELDS, "purpose"
    )
    def _check_rx_values(self):
        for rec in self:
            errors = rec._rx_errors()
            if errors:
                raise ValidationError("\n".join(rec._format_rx_error(e) for e in errors))

    # ------------------------------------------------------------------ snapshots
    def _is_snapshot_write(self):
        # not even the superuser: a snapshot is what the lab was told to make
        return _SNAPSHOT_WRITE.get()

    @api.model_create_multi
    def create(self, vals_list):
        if any(vals.get("snapshot_lab_order_id") for vals in vals_list) and not self._is_snapshot_write():
            raise AccessError(self.env._("A prescription snapshot is made by confirming its lab order."))
        return super().create(vals_list)

    def write(self, vals):
        if self._is_snapshot_write():
            return super().write(vals)
        if "snapshot_lab_order_id" in vals:
            raise AccessError(self.env._("A prescription snapshot is made by confirming its lab order."))
        if self.filtered("snapshot_lab_order_id"):
            frozen = self.filtered("snapshot_lab_order_id")
            raise UserError(
                self.env._(
                    "The prescription copied into lab order %(orders)s cannot be changed: edit the "
                    "customer's prescription and make a remake instead.",
                    orders=", ".join(frozen.snapshot_lab_order_id.mapped("name")),
                )
            )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_except_snapshot(self):
        if self.filtered("snapshot_lab_order_id") and not self._is_snapshot_write():
            raise UserError(self.env._("A lab order's prescription snapshot cannot be deleted."))

    def _make_snapshot(self, lab_order):
        """A frozen copy for ``lab_order`` (archived so it stays out of the history lists)."""
        self.ensure_one()
        token = _SNAPSHOT_WRITE.set(True)
        try:
            return self.with_context(mail_notrack=True, mail_create_nolog=True).copy(
                {
                    "snapshot_lab_order_id": lab_order.id,
                    "source_prescription_id": self.id,
                    "expiry_date": self.expiry_date,
                    "active": False,
                }
            )
        finally:
            _SNAPSHOT_WRITE.reset(token)

    # ------------------------------------------------------------------ audited reading
    @api.model
    def _get_store_staff_domain(self, stores):
        """Prescriptions the staff of ``stores`` see: written there, or of a customer who bought
        there.  Kept equal to the rule rule_prescription_store_staff."""
        return [
            "|",
            "|",
            ("store_id", "in", stores.ids),
            ("partner_id.pos_order_ids.config_id.optics_store_id", "in", stores.ids),
            ("partner_id.optics_lab_order_ids.store_id", "in", stores.ids),
        ]

    def _get_audited_reads(self):
        """The records of self the current user reads without being one of their natural
        readers (see the record rules): those reads go to the access log."""
        if self.env.su or not self.ids:
            return self.browse()
        user = self.env.user
        if user.has_group("optics_core.group_optics_optician"):
            return self.browse()
        natural = (
            self.sudo()
            .with_context(active_test=False)
            .search([("id", "in", self.ids)] + self._get_store_staff_domain(user.optics_store_ids))
        )
        return self - natural.with_env(self.env)

    def _audit_reads(self, access):
        audited = self._get_audited_reads()
        if audited:
            self.env["optics.prescription.access.log"]._log(audited, access)

    def _read_format(self, fnames, load="_classic_read"):
        # read(), search_read() and the web client's web_read() all format through here
        result = super()._read_format(fnames, load)
        self._audit_reads("read")
        return result

    def export_data(self, fields_to_export):
        result = super().export_data(fields_to_export)
        self._audit_reads("export")
        return result

    def action_print(self):
        self.ensure_one()
        self.check_access("read")
        self._audit_reads("print")
        return self.env.ref("optics_core.action_report_prescription").report_action(self)

    # ------------------------------------------------------------------ POS
    # What the POS may send: the written prescription (either cylinder sign) and the PDs.
    _POS_EYE_FIELDS = (
        "sph",
        "cyl",
        "axis",
        "add",
        "prism1",
        "prism1_base",
        "prism2",
        "prism2_base",
        "pd_far",
    )
    _POS_PAIR_FIELDS = ("pd_far", "pd_near")
    # Measurements taken by the optician at fitting: refused from anyone else.
    _POS_OPTICIAN_FIELDS = ("od_fitting_height", "os_fitting_height", "vertex_distance")

    @api.model
    def optics_pos_create_prescription(self, partner_id, vals):
        """POS: a new prescription for ``partner_id``, validated by the same opticslib rules
        (and messages) as the back office; returns what the POS shows of it."""
        partner = self.env["res.partner"].browse(int(partner_id)).exists()
        if not partner:
            raise UserError(self.env._("The customer no longer exists."))
        allowed = {f"{eye}_{f}" for eye in ("od", "os") for f in self._POS_EYE_FIELDS}
        allowed |= set(self._POS_PAIR_FIELDS) | set(self._POS_OPTICIAN_FIELDS) | {"date", "purpose", "notes"}
        unknown = set(vals) - allowed
        if unknown:
            raise UserError(
                self.env._(
                    "These prescription fields cannot be set from the POS: %(fields)s.",
                    fields=", ".join(sorted(unknown)),
                )
            )
        optician_only = [f for f in self._POS_OPTICIAN_FIELDS if vals.get(f)]
        if optician_only and not self.env.user.has_group("optics_core.group_optics_optician"):
            raise AccessError(
                self.env._(
                    "Only an optician may enter %(fields)s.",
                    fields=", ".join(
                        self._fields[f].get_description(self.env)["string"] for f in optician_only
                    ),
                )
            )
        if vals.get("purpose") == "contact_lenses":
            raise UserError(self.env._("Contact-lens prescriptions are entered in the back office."))
        record_vals = {key: value for key, value in vals.items() if value not in (None, "")}
        record_vals["partner_id"] = partner.id
        rx_record = self.create(record_vals)
        return rx_record._optics_pos_info()

    def _optics_pos_info(self):
        self.ensure_one()
        purposes = dict(self._fields["purpose"]._description_selection(self.env))

        def eye(prefix):
            values = {
                f: self[f"{prefix}_{f}"]
                for f in ("sph", "cyl", "axis", "add", "prism1", "prism2", "pd_far", "fitting_height")
            }
            values.update(
                sph_minus=self[f"{prefix}_sph_minus"],
                cyl_minus=self[f"{prefix}_cyl_minus"],
                axis_minus=self[f"{prefix}_axis_minus"],
                prism1_base=self[f"{prefix}_prism1_base"] or "",
                prism2_base=self[f"{prefix}_prism2_base"] or "",
            )
            return values

        return {
            "id": self.id,
            "name": self.name,
            "date": fields.Date.to_string(self.date),
            "purpose": purposes.get(self.purpose, ""),
            "expiry_date": fields.Date.to_string(self.expiry_date) if self.expiry_date else "",
            "is_expired": self.is_expired,
            "od": eye("od"),
            "os": eye("os"),
            "pd_far": self.pd_far,
            "pd_near": self.pd_near,
        }
