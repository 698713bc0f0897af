import json
import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from ..ru54fz import shift_counters, till_time

_logger = logging.getLogger(__name__)

OPERATIONS = [
    ("sale", "Sale"),
    ("refund", "Sale Refund"),
    ("expense", "Expense"),
    ("expense_refund", "Expense Refund"),
    ("cash_in", "Cash In"),
    ("cash_out", "Cash Out"),
]
PAYMENTS = [
    ("cash", "Cash"),
    ("card", "Card"),
    ("prepayment", "Prepayment"),
    ("credit", "Credit"),
    ("other", "Other"),
    ("total", "Total"),
]


class OpticsShiftReport(models.Model):
    """A closed fiscal shift: the Z report (FD 5) of one KKT and the shift's counters.

    Created by the Z-report wizard (the KKT closed the shift on request of the
    back office) or adopted from a ``close_shift`` entry the till pushed later
    (the till closed the shift while central was down).  Keyed by the till
    operation uuid, so the same Z report is stored exactly once.
    """

    _name = "optics.shift.report"
    _description = "Shift Report (Z)"
    _order = "closed_at desc, id desc"

    name = fields.Char(compute="_compute_name", store=True)
    config_id = fields.Many2one(
        "pos.config", "Point of Sale", required=True, index=True, readonly=True, ondelete="restrict"
    )
    session_id = fields.Many2one(
        "pos.session", "POS Session", index="btree_not_null", readonly=True, ondelete="restrict"
    )
    company_id = fields.Many2one(related="config_id.company_id", store=True)
    currency_id = fields.Many2one(related="config_id.currency_id")
    operation_uuid = fields.Char("Operation UUID", required=True, readonly=True, index=True)
    source = fields.Selection(
        [("back_office", "Closed from the back office"), ("till", "Closed on the till (adopted)")],
        required=True,
        readonly=True,
    )
    shift_number = fields.Integer(required=True, readonly=True, index=True)
    fd_number = fields.Integer("FD Number", readonly=True)
    fiscal_sign = fields.Char(readonly=True)
    fn_serial = fields.Char("FN Serial", readonly=True)
    closed_at = fields.Datetime(readonly=True)
    cashier = fields.Char(readonly=True)
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    line_ids = fields.One2many("optics.shift.report.line", "report_id", readonly=True)
    receipt_count = fields.Integer(readonly=True)
    sale_total = fields.Monetary(compute="_compute_totals", store=True)
    refund_total = fields.Monetary(compute="_compute_totals", store=True)
    cash_in_total = fields.Monetary(compute="_compute_totals", store=True)
    cash_out_total = fields.Monetary(compute="_compute_totals", store=True)
    cash_in_drawer = fields.Monetary(readonly=True)
    ofd_unconfirmed_count = fields.Integer("Unconfirmed by OFD", readonly=True)
    ofd_first_unconfirmed_fd = fields.Integer("First Unconfirmed FD", readonly=True)
    ofd_oldest_unconfirmed_at = fields.Char("Oldest Unconfirmed At", readonly=True)
    ofd_unconfirmed_fds = fields.Text("FDs Not Confirmed by the OFD", readonly=True)
    counters_json = fields.Text("KKT Counters", readonly=True)

    _sql_constraints = [
        ("operation_uuid_uniq", "unique(operation_uuid)", "A Z report of the till is stored once."),
    ]

    @api.depends("config_id", "shift_number")
    def _compute_name(self):
        for report in self:
            report.name = _(
                "Z report %(shift)s, %(pos)s", shift=report.shift_number, pos=report.config_id.name or ""
            )

    @api.depends("line_ids.amount", "line_ids.operation", "line_ids.payment")
    def _compute_totals(self):
        for report in self:
            totals = {}
            for line in report.line_ids.filtered(lambda ln: ln.payment == "total"):
                totals[line.operation] = totals.get(line.operation, 0.0) + line.amount
            report.sale_total = totals.get("sale", 0.0)
            report.refund_total = totals.get("refund", 0.0)
            report.cash_in_total = totals.get("cash_in", 0.0)
            report.cash_out_total = totals.get("cash_out", 0.0)

    def write(self, vals):
        # a stored Z report is a fiscal fact; only the session link is filled in later
        if set(vals) - {"session_id"} or any(
            r.session_id for r in self if vals.get("session_id") and r.session_id.id != vals["session_id"]
        ):
            raise UserError(_("A Z report cannot be modified."))
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("A Z report cannot be deleted."))

    # -- counters --------------------------------------------------------------------

    @api.model
    def _normalise_counters(self, counters):
        """KKT shift counters (the one shape both drivers answer, kopecks:
        ru54fz/shift_counters.py) -> the same figures in roubles:
        {"shift_number", "receipt_count", "<operation>": {"count", "cash", "card", ...,
        "total"}, "cash_in", "cash_out", "cash_in_count", "cash_out_count",
        "cash_in_drawer" (None when unknown), "ofd": {...}}."""
        out = shift_counters.z_report_figures(counters)
        for op in shift_counters.OPERATIONS.values():
            out[op] = {key: value if key == "count" else value / 100.0 for key, value in out[op].items()}
        for kind in ("cash_in", "cash_out"):
            out[kind] = out[kind] / 100.0
        if out["cash_in_drawer"] is not None:
            out["cash_in_drawer"] = out["cash_in_drawer"] / 100.0
        return out

    @api.model
    def _prepare_from_fiscal(self, config, op_uuid, fiscal, counters, source):
        """Values of a report from the close_shift FiscalResult and the shift counters."""
        fiscal = fiscal or {}
        kkt = self._normalise_counters(counters)
        lines = []
        for op, _label in OPERATIONS:
            if op in ("cash_in", "cash_out"):
                if kkt[op] or kkt[f"{op}_count"]:
                    lines.append(
                        {"operation": op, "payment": "total", "count": kkt[f"{op}_count"], "amount": kkt[op]}
                    )
                continue
            row = kkt[op]
            for pay, _plabel in PAYMENTS:
                if row[pay] or (pay == "total" and row["count"]):
                    lines.append(
                        {
                            "operation": op,
                            "payment": pay,
                            "count": row["count"] if pay == "total" else 0,
                            "amount": row[pay],
                        }
                    )
        closed_at = self._parse_till_time(fiscal.get("doc_time"), config)
        return {
            "config_id": config.id,
            "operation_uuid": op_uuid,
            "source": source,
            "shift_number": fiscal.get("shift_number") or kkt["shift_number"],
            "fd_number": fiscal.get("fd_number") or 0,
            "fiscal_sign": str(fiscal.get("fiscal_sign") or ""),
            "fn_serial": fiscal.get("fn_serial") or "",
            "closed_at": closed_at or fields.Datetime.now(),
            "receipt_count": kkt["receipt_count"],
            "cash_in_drawer": kkt["cash_in_drawer"] or 0.0,
            "ofd_unconfirmed_count": kkt["ofd"]["unconfirmed_count"],
            "ofd_first_unconfirmed_fd": kkt["ofd"]["first_unconfirmed_fd"],
            "ofd_oldest_unconfirmed_at": kkt["ofd"]["oldest_unconfirmed_at"],
            "counters_json": json.dumps(counters or {}, sort_keys=True, ensure_ascii=False),
            "line_ids": [fields.Command.create(v) for v in lines],
        }

    @api.model
    def _parse_till_time(self, value, config):
        """The KKT's ISO time (the store's local time when it has no offset) -> naive UTC
        (ru54fz/till_time.py, the one parser of till times)."""
        tz_name = self.env["optics.fiscal.till"]._till_tz(config)
        return till_time.utc_naive(value, tz_name) or False

    @api.model
    def _store(self, vals):
        """Create the report once per operation uuid; return the stored one."""
        existing = self.sudo().search([("operation_uuid", "=", vals["operation_uuid"])], limit=1)
        if existing:
            return existing
        config = self.env["pos.config"].browse(vals["config_id"])
        fds = self.env["optics.fiscal.document"]._ru54fz_unconfirmed_fds(config, vals["shift_number"])
        if fds:
            vals["ofd_unconfirmed_fds"] = ", ".join(str(fd) for fd in fds)
            vals["ofd_unconfirmed_count"] = max(vals.get("ofd_unconfirmed_count") or 0, len(fds))
        return self.sudo().create(vals)

    @staticmethod
    def _counters_of_entry(entry):
        return shift_counters.of_close_shift(entry.get("fiscal"))

    @api.model
    def _adopt_till_entry(self, config, entry):
        """Store the Z report of a ``close_shift`` entry the till pushed (made while the
        back office could not reach it).  A second push of the same entry finds it."""
        vals = self._prepare_from_fiscal(
            config, entry["uuid"], entry.get("fiscal"), self._counters_of_entry(entry), "till"
        )
        vals["cashier"] = (entry.get("payload") or {}).get("cashier") or ""
        report = self._store(vals)
        _logger.info(
            "Z report %s (shift %s) of %s adopted from the till",
            report.operation_uuid,
            report.shift_number,
            config.display_name,
        )
        return report

    def _pending_for_config(self, config):
        """Z reports of this POS not yet tied to a closed POS session."""
        return self.sudo().search([("config_id", "=", config.id), ("session_id", "=", False)], order="id")

    def _counters_dict(self):
        self.ensure_one()
        return json.loads(self.counters_json or "{}")

    def action_print(self):
        # config=False: never divert a closing manager into the document-layout wizard
        return self.env.ref("optics_pos_ru54fz.action_report_shift_z").report_action(self, config=False)
