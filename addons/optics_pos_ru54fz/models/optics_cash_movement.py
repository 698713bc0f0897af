import logging

import psycopg2

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

#: kinds that move money in the drawer; their sum is the expected cash
CASH_BALANCE_KINDS = ("opening_float", "cash_sale", "cash_refund", "cash_in", "cash_out", "difference")
CARD_KINDS = ("card_sale", "card_refund")
#: fields that may be filled in later on an existing movement, once: the till
#: entry and the POS order of one operation arrive in either order
LINK_FIELDS = (
    "order_id",
    "fiscal_fd_number",
    "fiscal_sign",
    "shift_number",
    "hlc",
    "till_state",
    "statement_line_id",
)


class OpticsCashMovement(models.Model):
    """One line of a session's append-only cash trail.

    The balance of a session is the sum of its trail, never a stored total:
    a till restart, an Odoo restart or a browser crash cannot change it.
    A movement is never edited nor deleted; a correction is a new movement.
    ``operation_uuid`` is the till journal uuid of the operation (the POS
    order uuid for receipts), so the till push and the POS order sync of the
    same operation land on the same row.
    """

    _name = "optics.cash.movement"
    _description = "Cash Movement"
    _order = "session_id, id"
    _rec_name = "operation_uuid"

    session_id = fields.Many2one("pos.session", required=True, index=True, ondelete="restrict", readonly=True)
    config_id = fields.Many2one(related="session_id.config_id", store=True, string="Point of Sale")
    company_id = fields.Many2one(related="session_id.company_id", store=True)
    currency_id = fields.Many2one(related="session_id.currency_id")
    kind = fields.Selection(
        [
            ("opening_float", "Opening Float"),
            ("cash_sale", "Cash Sale"),
            ("cash_refund", "Cash Refund"),
            ("card_sale", "Card Sale"),
            ("card_refund", "Card Refund"),
            ("cash_in", "Cash In"),
            ("cash_out", "Cash Out"),
            ("closing_count", "Closing Count"),
            ("difference", "Counting Difference"),
        ],
        required=True,
        readonly=True,
        index=True,
    )
    amount = fields.Monetary(
        required=True,
        readonly=True,
        currency_field="currency_id",
        help="Signed: money into the drawer (or the card terminal) is positive.",
    )
    payment_method_id = fields.Many2one("pos.payment.method", readonly=True, index=True)
    payment_kind = fields.Selection(
        [("cash", "Cash"), ("card", "Card"), ("none", "None")], required=True, readonly=True, default="cash"
    )
    operation_uuid = fields.Char(
        "Operation UUID",
        required=True,
        readonly=True,
        index=True,
        help="The till journal uuid of the operation (the POS order uuid for receipts).",
    )
    order_id = fields.Many2one("pos.order", readonly=True, index="btree_not_null", ondelete="restrict")
    source = fields.Selection(
        [
            ("pos_order", "POS Order"),
            ("till", "Till Journal"),
            ("back_office", "Back Office"),
            ("pos_session", "Session Control"),
        ],
        required=True,
        readonly=True,
    )
    hlc = fields.Char("HLC", readonly=True, help="Hybrid logical clock of the till journal entry.")
    till_state = fields.Char(readonly=True)
    fiscal_fd_number = fields.Integer("FD Number", readonly=True)
    fiscal_sign = fields.Char(readonly=True)
    shift_number = fields.Integer(readonly=True)
    statement_line_id = fields.Many2one(
        "account.bank.statement.line",
        readonly=True,
        index="btree_not_null",
        help="The cash statement line core Odoo posts at closing for a cash in/out or a counting difference.",
    )
    user_id = fields.Many2one("res.users", readonly=True, default=lambda self: self.env.user)
    reason = fields.Text(readonly=True)

    _sql_constraints = [
        (
            "operation_kind_uniq",
            "unique(operation_uuid, kind)",
            "A till operation is recorded once per kind in the cash trail.",
        ),
    ]

    def write(self, vals):
        # Only the links to the other side of one operation (the POS order / the
        # till entry) may be filled in later, and only where still empty.
        if set(vals) - set(LINK_FIELDS):
            raise UserError(_("Cash movements cannot be modified: record a correcting movement instead."))
        for movement in self:
            for fname, value in vals.items():
                current = movement[fname]
                current = current.id if isinstance(current, models.BaseModel) else current
                if current and current != value:
                    raise UserError(
                        _("Cash movements cannot be modified: record a correcting movement instead.")
                    )
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_never(self):
        raise UserError(_("Cash movements cannot be deleted: record a correcting movement instead."))

    # -- recording -------------------------------------------------------------------

    @api.model
    def _record(self, vals_list):
        """Create the movements that do not exist yet, keyed by (operation_uuid, kind).

        Returns the movements for every requested key, new or already there.
        Idempotent and safe against a concurrent creator of the same key: the
        unique index decides, the loser finds the winner's row.
        """
        result = self.browse()
        if not vals_list:
            return result
        keys = [(v["operation_uuid"], v["kind"]) for v in vals_list]
        existing = self._existing_by_key(keys)
        for vals in vals_list:
            key = (vals["operation_uuid"], vals["kind"])
            movement = existing.get(key)
            if movement is None:
                try:
                    with self.env.cr.savepoint(flush=True):
                        movement = self.sudo().create(vals)
                except psycopg2.IntegrityError:  # a concurrent creator won the unique index
                    movement = self._existing_by_key([key]).get(key)
                    if movement is None:
                        raise
                existing[key] = movement
            else:
                links = {f: vals[f] for f in LINK_FIELDS if vals.get(f) and not movement[f]}
                if links:
                    movement.sudo().write(links)
            result |= movement
        return result

    def _existing_by_key(self, keys):
        uuids = list({k[0] for k in keys})
        found = self.sudo().search([("operation_uuid", "in", uuids)])
        return {(m.operation_uuid, m.kind): m for m in found}

    # -- sums ------------------------------------------------------------------------

    @api.model
    def _sums_by_session(self, session_ids):
        """{session_id: {"cash": float, "card": {pm_id: float}, "by_kind": {kind: (count, sum)}}}
        from one grouped query over the trail."""
        res = {sid: {"cash": 0.0, "card": {}, "by_kind": {}} for sid in session_ids}
        if not session_ids:
            return res
        groups = self.sudo()._read_group(
            [("session_id", "in", list(session_ids))],
            ["session_id", "kind", "payment_method_id"],
            ["amount:sum", "__count"],
        )
        for session, kind, method, amount, count in groups:
            data = res[session.id]
            cnt, tot = data["by_kind"].get(kind, (0, 0.0))
            data["by_kind"][kind] = (cnt + count, tot + amount)
            if kind in CASH_BALANCE_KINDS:
                data["cash"] += amount
            elif kind in CARD_KINDS:
                data["card"][method.id] = data["card"].get(method.id, 0.0) + amount
        return res

    def init(self):
        # The trail is read per session and kind on every balance; keep that query an index scan.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS optics_cash_movement_session_kind_idx "
                "ON optics_cash_movement (session_id, kind)"
            )
        )
