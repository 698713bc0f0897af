from odoo import api, models

PAID_STATES = ("paid", "done", "invoiced")


class PosOrder(models.Model):
    _inherit = "pos.order"

    def _ru54fz_prepare_cash_movements(self):
        """Trail movements of the order's payments: one per (order uuid, kind), the
        cash part net of change, the card part over every card method.  The till
        push of the same receipt carries the same uuid and lands on the same rows."""
        self.ensure_one()
        session = self.session_id
        cash = card = 0.0
        card_method = self.env["pos.payment.method"]
        for payment in self.payment_ids:
            method = payment.payment_method_id
            if method.is_cash_count:
                cash += payment.amount
            elif method.type == "bank":
                card += payment.amount
                card_method = card_method or method
        cur = self.currency_id
        vals = []
        if not cur.is_zero(cash):
            vals.append(session._ru54fz_prepare_movement(
                "cash_sale" if cash > 0 else "cash_refund", cur.round(cash), self.uuid,
                "pos_order", order_id=self.id))
        if not cur.is_zero(card):
            vals.append(session._ru54fz_prepare_movement(
                "card_sale" if card > 0 else "card_refund", cur.round(card), self.uuid,
                "pos_order", order_id=self.id, payment_method_id=card_method.id))
        return vals

    def _ru54fz_record_cash_movements(self):
        vals = []
        for order in self.filtered(lambda o: o.state in PAID_STATES and o.uuid and o.session_id):
            vals += order._ru54fz_prepare_cash_movements()
        return self.env["optics.cash.movement"]._record(vals)

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
            self.sudo().search([("uuid", "in", uuids)])._ru54fz_record_cash_movements()
        return res
