from odoo import api, models

PAID_STATES = ("paid", "done", "invoiced")


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _ru54fz_cash_operation_uuid(self):
        """The till journal uuid of the order's receipt: the fiscal uuid the till answered
        with when the POS recorded one, else the order's own uuid (contract D)."""
        self.ensure_one()
        fiscal_uuid = self["ru54fz_uuid"] if "ru54fz_uuid" in self._fields else False
        return fiscal_uuid or self.uuid

    def _ru54fz_prepare_cash_movements(self):
        """Trail movements of the order's payments: one per (operation uuid, kind), the
        cash part net of change, the card part over every card method.  The till
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
            vals.append(session._ru54fz_prepare_movement(
                "cash_sale" if cash > 0 else "cash_refund", cur.round(cash), op_uuid,
                "pos_order", order_id=self.id))
        if not cur.is_zero(card):
            vals.append(session._ru54fz_prepare_movement(
                "card_sale" if card > 0 else "card_refund", cur.round(card), op_uuid,
                "pos_order", order_id=self.id, payment_method_id=card_method.id))
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
        known = Movement.search(["|", ("order_id", "in", orders.ids),
                                 ("operation_uuid", "in", list(keys))])
        vals = []
        for order in orders:
            uuids = {order.uuid, order._ru54fz_cash_operation_uuid()}
            for v in order._ru54fz_prepare_cash_movements():
                same = known.filtered(lambda m: m.kind == v["kind"] and (
                    m.order_id == order or m.operation_uuid in uuids))[:1]
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
