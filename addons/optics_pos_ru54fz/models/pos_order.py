import logging

from odoo import _, api, fields, models
from odoo.exceptions import UserError

_logger = logging.getLogger(__name__)

PAID_STATES = ("paid", "done", "invoiced")
CONFIRMED_STATES = ("acknowledged", "resolved")
ADMIN_GROUP = "optics_core.group_optics_admin"


class PosOrder(models.Model):
    _inherit = "pos.order"

    # Filled by the POS front end from the till's answer and synced with the order
    # (pos.order loads all its fields in the POS, so these travel both ways).
    ru54fz_uuid = fields.Char(
        string="Fiscal UUID",
        copy=False,
        index=True,
        help="UUID of the fiscal operation at the till (normally the order's own UUID).",
    )
    ru54fz_fd_number = fields.Integer(string="FD Number", copy=False)
    ru54fz_fiscal_sign = fields.Char(string="Fiscal Sign", copy=False)
    ru54fz_fn_serial = fields.Char(string="FN Serial", copy=False)
    ru54fz_shift_number = fields.Integer(string="Fiscal Shift", copy=False)
    ru54fz_qr = fields.Char(string="Receipt QR", copy=False)

    # Set by the POS optical-sale screens on the order that pays a lab order: they only NAME the
    # lab order and the stage; the money reaches the lab order from the till's signed receipt
    # (optics_fiscal_document.py, lab-order settlement), never from these values.
    optics_lab_order_ref = fields.Integer(string="Lab Order (ID)", copy=False, index="btree_not_null")
    optics_settlement_stage = fields.Selection(
        [("prepayment", "Prepayment"), ("handover", "Hand-over"), ("prepayment_refund", "Prepayment refund")],
        string="Lab Order Payment",
        copy=False,
    )

    ru54fz_document_ids = fields.One2many(
        "optics.fiscal.document", "pos_order_id", string="Fiscal Documents", readonly=True
    )
    ru54fz_document_count = fields.Integer(compute="_compute_ru54fz_fiscal_state")
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
        search="_search_ru54fz_ofd_state",
    )

    @api.depends("ru54fz_document_ids.ofd_state")
    def _compute_ru54fz_fiscal_state(self):
        for order in self:
            docs = order.sudo().ru54fz_document_ids.filtered(lambda d: d.ofd_state != "not_applicable")
            order.ru54fz_document_count = len(order.sudo().ru54fz_document_ids)
            order.ru54fz_ofd_state = self._ru54fz_summarise(docs.mapped("ofd_state"))

    @api.model
    def _ru54fz_summarise(self, states):
        if not states:
            return "none"
        if "dead_lettered" in states:
            return "problem"
        if any(s in ("pending", "sending", "failed") for s in states):
            return "pending"
        if "resolved" in states:
            return "resolved"
        return "acknowledged"

    def _search_ru54fz_ofd_state(self, operator, value):
        mapping = {
            "pending": ["pending", "sending", "failed"],
            "acknowledged": ["acknowledged"],
            "problem": ["dead_lettered"],
            "resolved": ["resolved"],
        }
        if operator not in ("=", "in"):
            raise UserError(_("Unsupported search on the fiscal state."))
        values = value if isinstance(value, (list, tuple)) else [value]
        if "none" in values:
            return [("ru54fz_document_ids", "=", False)]
        states = [s for v in values for s in mapping.get(v, [])]
        return [("ru54fz_document_ids.ofd_state", "in", states)]

    # ---------------------------------------------------- POS sync -> documents
    @api.model_create_multi
    def create(self, vals_list):
        orders = super().create(vals_list)
        orders._ru54fz_attach_fiscal_documents()
        orders._optics_settle_lab_orders()
        return orders

    def write(self, vals):
        res = super().write(vals)
        if {"ru54fz_fd_number", "ru54fz_uuid", "ru54fz_fiscal_sign"} & set(vals):
            self._ru54fz_attach_fiscal_documents()
        if {"optics_lab_order_ref", "optics_settlement_stage", "ru54fz_uuid"} & set(vals):
            self._optics_settle_lab_orders()
        return res

    def _optics_settle_lab_orders(self):
        """The till may have pushed the receipt before this order synced: settle it now."""
        todo = self.filtered(lambda o: o.optics_lab_order_ref and o.optics_settlement_stage)
        if todo:
            todo.sudo().ru54fz_document_ids._optics_settle_lab_orders()

    def _ru54fz_prepare_document_values(self):
        """Values of the fiscal document the POS order sync knows about (no OFD message:
        that only comes with the till's push)."""
        self.ensure_one()
        refund = any(line.refunded_orderline_id for line in self.lines) or self.amount_total < 0
        return {
            "uuid": self.ru54fz_uuid or self.uuid,
            "kind": "refund" if refund else "sale",
            "company_id": self.company_id.id,
            "pos_config_id": self.config_id.id,
            "pos_session_id": self.session_id.id,
            "pos_order_id": self.id,
            "till_code": self.config_id.ru54fz_till_code or None,
            "pos_reference": self.pos_reference or None,
            "hlc": None,
            "payload": None,
            "total": int(round(abs(self.amount_total) * 100)),
            "fd_number": self.ru54fz_fd_number or None,
            "fiscal_sign": self.ru54fz_fiscal_sign or None,
            "fn_serial": self.ru54fz_fn_serial or None,
            "shift_number": self.ru54fz_shift_number or None,
            "doc_time": self.date_order,
            "qr": self.ru54fz_qr or None,
            "ofd_message": None,
            "ofd_state": "pending",
            "till_confirmed": False,
        }

    def _ru54fz_attach_fiscal_documents(self):
        """Link documents already pushed by the till to these orders; create the
        document (same UUID, so never a duplicate) from the fiscal data the POS synced
        when the till's push has not arrived yet."""
        with_uuid = self.filtered(lambda o: o.uuid or o.ru54fz_uuid)
        if not with_uuid:
            return
        Doc = self.env["optics.fiscal.document"].sudo()
        keys = {}
        for order in with_uuid:
            for key in {order.uuid, order.ru54fz_uuid} - {False, None, ""}:
                keys[key] = order
        docs = Doc.search([("uuid", "in", list(keys))])
        for doc in docs:
            order = keys[doc.uuid]
            if doc.pos_config_id and doc.pos_config_id != order.config_id:
                # the order's fiscal uuid is written by the browser: it never claims a
                # document of another point of sale (issue 12 item 5)
                _logger.warning(
                    "order %s names fiscal document %s of %s: not linked",
                    order.name,
                    doc.uuid,
                    doc.pos_config_id.display_name,
                )
                continue
            if doc.pos_order_id != order:
                doc.write(
                    {
                        "pos_order_id": order.id,
                        "pos_session_id": order.session_id.id,
                        "pos_config_id": doc.pos_config_id.id or order.config_id.id,
                    }
                )
        known = set(docs.mapped("uuid"))
        missing = with_uuid.filtered(lambda o: o.ru54fz_fd_number and (o.ru54fz_uuid or o.uuid) not in known)
        if missing:
            Doc._upsert([o._ru54fz_prepare_document_values() for o in missing], source="pos")
            Doc.search([("uuid", "in", [o.ru54fz_uuid or o.uuid for o in missing])])._link_orders()

    # ------------------------------------------------------------ refund saga
    def _ru54fz_refund_requires_ofd(self):
        """The company's refund saga policy (docs/refund_saga.md); administrators set it."""
        self.ensure_one()
        return self.company_id.sudo().ru54fz_refund_requires_ofd

    def _ru54fz_unconfirmed_sales(self):
        """Orders of this set that cannot be refunded yet: their sale is a fiscal document
        the OFD has not confirmed (company policy on), or no fiscal drive is known to
        have fiscalised it (policy off: an FN-fiscalised sale is always refundable)."""
        blocked = self.browse()
        for order in self:
            docs = order.sudo().ru54fz_document_ids.filtered(lambda d: d.kind == "sale")
            if docs:
                if order._ru54fz_refund_requires_ofd():
                    if any(d.ofd_state not in CONFIRMED_STATES for d in docs):
                        blocked |= order
                elif not all(d.fd_number and d.fiscal_sign for d in docs):
                    blocked |= order
            elif order.config_id.ru54fz_enabled and order.state != "draft" and order.amount_total > 0:
                # a fiscal till's sale whose document central has not received yet
                blocked |= order
        return blocked

    def refund(self):
        """Back-office refund: refused while the sale's fiscal document lacks the OFD
        confirmation (docs/refund_saga.md), unless an administrator overrides it with a
        reason (context key ``ru54fz_refund_override_reason``), which is audited."""
        blocked = self._ru54fz_unconfirmed_sales()
        if blocked:
            reason = (self.env.context.get("ru54fz_refund_override_reason") or "").strip()
            if not reason or not self.env.user.has_group(ADMIN_GROUP):
                order = blocked[0]
                doc = order.sudo().ru54fz_document_ids.filtered(lambda d: d.kind == "sale")[:1]
                state = (
                    dict(doc._fields["ofd_state"]._description_selection(self.env)).get(doc.ofd_state)
                    if doc
                    else _("not received from the till yet")
                )
                raise UserError(
                    _(
                        "Order %(order)s cannot be refunded yet: the OFD has not confirmed its fiscal "
                        "document%(fd)s (state: %(state)s). A refund is only possible once the sale is "
                        "confirmed; wait for the confirmation, or ask an administrator to override "
                        "with a reason.",
                        order=order.pos_reference or order.name,
                        fd=_(" (FD %s)", doc.fd_number) if doc and doc.fd_number else "",
                        state=state,
                    )
                )
            for order in blocked:
                self.env["optics.fiscal.audit"]._log(
                    "refund_override", order.sudo().ru54fz_document_ids[:1] or order, reason
                )
                order.message_post(
                    body=_(
                        "Refund of an OFD-unconfirmed sale allowed by %(user)s: %(reason)s",
                        user=self.env.user.name,
                        reason=reason,
                    )
                )
        return super().refund()

    def action_ru54fz_refund_override(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_reason_wizard"
        )
        action["context"] = {"default_pos_order_id": self.id, "default_operation": "refund_override"}
        return action

    def action_ru54fz_view_documents(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "optics_pos_ru54fz.action_optics_fiscal_document"
        )
        action["domain"] = [("pos_order_id", "=", self.id)]
        action["context"] = {}
        return action

    # ------------------------------------------------------------ cash trail
    def _ru54fz_cash_operation_uuid(self):
        """The till journal uuid of the order's receipt: the fiscal uuid the till answered
        with when the POS recorded one, else the order's own uuid (POS receipt payload)."""
        self.ensure_one()
        return self.ru54fz_uuid or self.uuid

    def _ru54fz_prepare_cash_movements(self):
        """Trail movements of the order's payments: one per (operation uuid, kind), the
        cash payments net of change, the card payments over every card method.  The till
        push of the same receipt carries the same uuid and lands on the same rows."""
        self.ensure_one()
        session = self.session_id
        # the drawer core Odoo counts is the session's first cash method; the trail follows it
        drawer_method = session._ru54fz_cash_method()
        cash = card = 0.0
        card_method = self.env["pos.payment.method"]
        for payment in self.payment_ids:
            method = payment.payment_method_id
            if method == drawer_method:
                cash += payment.amount
            elif method.type == "bank":
                card += payment.amount
                card_method = card_method or method
        cur = self.currency_id
        op_uuid = self._ru54fz_cash_operation_uuid()
        vals = []
        if not cur.is_zero(cash):
            vals.append(
                session._ru54fz_prepare_movement(
                    "cash_sale" if cash > 0 else "cash_refund",
                    cur.round(cash),
                    op_uuid,
                    "pos_order",
                    order_id=self.id,
                )
            )
        if not cur.is_zero(card):
            vals.append(
                session._ru54fz_prepare_movement(
                    "card_sale" if card > 0 else "card_refund",
                    cur.round(card),
                    op_uuid,
                    "pos_order",
                    order_id=self.id,
                    payment_method_id=card_method.id,
                )
            )
        return vals

    def _ru54fz_record_cash_movements(self):
        orders = self.filtered(lambda o: o.state in PAID_STATES and o.uuid and o.session_id)
        if not orders:
            return self.env["optics.cash.movement"]
        Movement = self.env["optics.cash.movement"].sudo()
        # a movement the till push recorded under the order's other uuid (own uuid vs
        # fiscal uuid) is the same operation: link it, never add a second one
        keys = set()
        for order in orders:
            keys |= {order.uuid, order._ru54fz_cash_operation_uuid()}
        known = Movement.search(["|", ("order_id", "in", orders.ids), ("operation_uuid", "in", list(keys))])
        vals = []
        for order in orders:
            uuids = {order.uuid, order._ru54fz_cash_operation_uuid()}
            for v in order._ru54fz_prepare_cash_movements():
                same = known.filtered(
                    lambda m, kind=v["kind"], order=order, uuids=uuids: (
                        m.kind == kind and (m.order_id == order or m.operation_uuid in uuids)
                    )
                )[:1]
                if same:
                    if not same.order_id:
                        same.write({"order_id": order.id})
                    continue
                vals.append(v)
        return Movement._record(vals)

    def action_pos_order_paid(self):
        res = super().action_pos_order_paid()
        self._ru54fz_record_cash_movements()
        return res

    @api.model
    def sync_from_ui(self, orders):
        res = super().sync_from_ui(orders)
        # action_pos_order_paid errors are swallowed by core's _process_saved_order:
        # record again here, idempotently, so a synced paid order is always in the trail.
        uuids = [o.get("uuid") for o in orders if o.get("uuid")]
        if uuids:
            # found with the user's rights (the uuids come from the client), recorded as superuser
            self.search([("uuid", "in", uuids)]).sudo()._ru54fz_record_cash_movements()
        return res
