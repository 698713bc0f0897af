import uuid as uuidlib

from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ru54fz import errors as fiscal_errors
from ..ru54fz.money import MoneyError, to_kopecks


class OpticsCashMoveWizard(models.TransientModel):
    """Cash in / cash out from the back office.

    The operation is registered on the KKT first (the till journals it like a
    receipt and pushes it to central later); the trail movement is recorded
    at once under the same operation uuid, so the till's push does not count
    it a second time.  Confirming again after a timeout reuses the uuid: the
    till answers with the first result instead of registering twice.
    """

    _name = "optics.cash.move.wizard"
    _description = "Cash In / Cash Out"

    session_id = fields.Many2one(
        "pos.session", required=True, domain=[("state", "in", ("opened", "closing_control"))]
    )
    currency_id = fields.Many2one(related="session_id.currency_id")
    kind = fields.Selection(
        [("cash_in", "Cash In"), ("cash_out", "Cash Out")], required=True, default="cash_in"
    )
    amount = fields.Monetary(required=True)
    reason = fields.Char(required=True)
    operation_uuid = fields.Char(default=lambda self: str(uuidlib.uuid4()), readonly=True)

    def action_confirm(self):
        self.ensure_one()
        session = self.session_id
        if session.state not in ("opened", "closing_control"):
            raise UserError(_("Cash can only be moved in an open session."))
        try:
            kopecks = to_kopecks(self.currency_id.round(self.amount))
        except MoneyError as exc:
            raise UserError(str(exc)) from None
        if kopecks <= 0:
            raise UserError(_("The amount must be positive."))
        client = session.config_id.sudo()._ru54fz_till_client()
        if self.kind == "cash_in":
            call = client.cash_in
        else:
            # cash out is a store manager's act: the till wants the manager's grant
            grant = session.config_id._ru54fz_manager_grant("cash_out")

            def call(*args):
                return client.cash_out(*args, grant=grant)

        try:
            reply = call(self.operation_uuid, kopecks, self.env.user.name)
        except fiscal_errors.FiscalError as exc:
            raise UserError(
                _(
                    "The till refused the %(kind)s: %(error)s",
                    kind=dict(self._fields["kind"]._description_selection(self.env))[self.kind],
                    error=exc.message,
                )
            ) from None
        entry_state = reply.get("state") if isinstance(reply, dict) else None
        session._ru54fz_register_cash_move(
            self.kind,
            kopecks / 100.0,
            self.operation_uuid,
            "back_office",
            reason=self.reason,
            link={"till_state": entry_state or False},
        )
        session.message_post(
            body=_(
                "%(kind)s of %(amount)s registered on the KKT by %(user)s: %(reason)s",
                kind=dict(self._fields["kind"]._description_selection(self.env))[self.kind],
                amount=self.currency_id.format(self.amount),
                user=self.env.user.name,
                reason=self.reason,
            )
        )
        return {"type": "ir.actions.act_window_close"}
