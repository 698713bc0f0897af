from odoo import api, models
from odoo.exceptions import AccessError

from ..ru54fz import ffd


class PosSession(models.Model):
    _inherit = "pos.session"

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
        enabled = bool(config._fields.get("ru54fz_enabled") and config.ru54fz_enabled)
        token = ""
        if enabled and self._ru54fz_may_receive_till_token(user):
            token = config._ru54fz_pos_till_token(self)
        return {
            "_ru54fz_till_token": token,
            "_ru54fz_is_store_manager": user.has_group("optics_core.group_optics_store_manager"),
            "_ru54fz_cashier_inn": self._ru54fz_cashier_inn(user),
            "_ru54fz_poll_interval_ms": int(self.env["ir.config_parameter"].sudo().get_param(
                "optics_pos_ru54fz.status_poll_ms", 15000)),
        }

    def _ru54fz_may_receive_till_token(self, user):
        self.ensure_one()
        if not user.has_group("point_of_sale.group_pos_user"):
            return False
        if self.state not in ("opening_control", "opened"):
            return False
        # read access through the record rules (store scoping), not sudo
        session = self.with_user(user)
        return bool(session.search_count([("id", "=", self.id)], limit=1)
                    and session.config_id.search_count([("id", "=", self.config_id.id)], limit=1))

    @api.model
    def _ru54fz_cashier_inn(self, user):
        """INN of the cashier for tag 1203: the personal INN recorded as the tax number
        (``vat``) of the user's contact, when it is a valid one (ffd.cashier_inn)."""
        return ffd.cashier_inn(user.partner_id.vat)

    def ru54fz_action_pos_z_report(self):
        """The back-office Z-report flow for this session, opened from the POS after the
        POS closed the fiscal shift on the KKT: the cash part's reconciliation wizard in
        ``z_report`` mode adopts the Z report the till delivered (no second close)."""
        self.ensure_one()
        if not self.env.user.has_group("optics_core.group_optics_store_manager"):
            raise AccessError(self.env._("Only a store manager can close the fiscal shift."))
        Wizard = self.env["optics.cash.reconcile.wizard"]
        wizard = Wizard.create({"session_id": self.id, "mode": "z_report"})
        return wizard._action_open()
