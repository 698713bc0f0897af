import logging
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError

from ..ru54fz import grants

_logger = logging.getLogger(__name__)

PRIVATE_KEY_PARAM = "optics_pos_ru54fz.grant_private_key"
PUBLIC_KEY_PARAM = "optics_pos_ru54fz.grant_public_key"
MANAGER_GROUP = "optics_core.group_optics_store_manager"
#: wrong manager passwords accepted per login within the window before the grant desk refuses
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=10)


class PosConfig(models.Model):
    """Manager grants (ru54fz/grants.py): central signs, the till verifies offline.

    The Ed25519 private key lives in a system parameter (administrators only) and
    never leaves this server; its public half goes to the tills: to the in-server
    tills directly (controllers/hw_proxy.py), to a till PC through its till config
    file (``grant_public_key``, copied from the system parameter of the same name)."""

    _inherit = "pos.config"

    @api.model
    def _ru54fz_grant_private_key(self):
        params = self.env["ir.config_parameter"].sudo()
        private = params.get_param(PRIVATE_KEY_PARAM)
        if private:
            return private
        # one key per database: two workers creating it at once must not sign with two keys
        self.env.cr.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", [PRIVATE_KEY_PARAM])
        params.invalidate_model()
        private = params.get_param(PRIVATE_KEY_PARAM)
        if not private:
            private, public = grants.generate_keypair()
            params.set_param(PRIVATE_KEY_PARAM, private)
            params.set_param(PUBLIC_KEY_PARAM, public)
            _logger.info("manager-grant key pair created")
        return private

    @api.model
    def _ru54fz_grant_public_key(self):
        """Base64 Ed25519 public key the tills check manager grants with ("" while there is
        none: a till without a key refuses manager actions).  The pair is made at install
        (data/ru54fz_grant_key_data.xml); a read-only request never creates it."""
        public = self.env["ir.config_parameter"].sudo().get_param(PUBLIC_KEY_PARAM)
        if public or getattr(self.env.cr, "readonly", False):
            return public or ""
        return grants.public_from_private(self._ru54fz_grant_private_key())

    def ru54fz_issue_manager_grant(self, action, login=None, password=None):
        """A store manager's grant for one manager-only action on this POS's till
        (close_shift, cash_out, correction, refund_override), valid a few minutes.

        Called by the POS (and the back office).  Without ``login`` the grant is for
        the current user; with ``login``/``password`` a store manager standing at the
        cash desk confirms with their own credentials, checked here.  Either way the
        manager must belong to the store-manager group and may use this point of sale
        (store record rules).  Every grant and every refused attempt is audited.

        Returns ``{"grant", "expires_at", "user", "action"}``, or ``{"error": message}`` when
        the manager is refused: an answer, not an exception, so that the refusal's audit
        record is kept (a failed RPC rolls its transaction back) and counts towards the
        lock-out of a login after too many wrong passwords."""
        self.ensure_one()
        if action not in grants.ACTIONS:
            raise UserError(_("Unknown manager action %s.", action))
        self.check_access("read")  # the caller works at this store (record rules)
        if not (self.ru54fz_enabled and self.ru54fz_till_code):
            raise UserError(_("%s has no fiscal till.", self.display_name))
        Audit = self.env["optics.fiscal.audit"].sudo()
        if login:
            manager, refusal = self._ru54fz_check_manager_login(login, password, action)
            if refusal:
                return {"error": refusal}
        else:
            manager = self.env.user
        if not manager.has_group(MANAGER_GROUP) or \
                not self.with_user(manager).search_count([("id", "=", self.id)], limit=1):
            Audit._log("manager_grant_refused", self, _(
                "%(user)s asked for %(action)s on till %(till)s for %(manager)s, who is not a store "
                "manager of this point of sale", user=self.env.user.name, action=action,
                till=self.ru54fz_till_code, manager=manager.name))
            return {"error": _("Only a store manager of this store can authorise this action.")}
        token, claims = grants.issue(self._ru54fz_grant_private_key(), self.ru54fz_till_code, action,
                                     manager.name, uid=manager.id)
        Audit._log("manager_grant", self, _(
            "%(action)s on till %(till)s authorised by %(manager)s (asked by %(user)s), nonce %(nonce)s",
            action=action, till=self.ru54fz_till_code, manager=manager.name, user=self.env.user.name,
            nonce=claims["nonce"]))
        return {"grant": token, "expires_at": claims["exp"], "user": manager.name, "action": action}

    def _ru54fz_check_manager_login(self, login, password, action):
        """``(user, None)`` when ``password`` is the password of ``login``, else ``(None, why)``
        (audited).  A login with too many recent failures is refused without checking."""
        Audit = self.env["optics.fiscal.audit"].sudo()
        since = fields.Datetime.now() - FAILED_LOGIN_WINDOW
        marker = f"[login {login}]"
        failures = Audit.search_count([("action", "=", "manager_grant_refused"), ("date", ">=", since),
                                       ("reason", "like", marker)])
        user = self.env["res.users"].sudo().search([("login", "=", login)], limit=1)
        ok = False
        if user and failures < MAX_FAILED_LOGINS and isinstance(password, str) and password:
            try:
                user.with_user(user)._check_credentials(
                    {"type": "password", "login": login, "password": password}, {"interactive": True})
                ok = True
            except AccessDenied:
                ok = False
        if not ok:
            Audit._log("manager_grant_refused", self, _(
                "%(user)s gave a wrong manager login or password for %(action)s on till %(till)s %(marker)s",
                user=self.env.user.name, action=action, till=self.ru54fz_till_code, marker=marker))
            return None, (_("Wrong manager login or password.") if failures < MAX_FAILED_LOGINS else
                          _("Too many wrong manager passwords: try again in a few minutes."))
        return user, None

    def _ru54fz_manager_grant(self, action):
        """The current user's own grant (back-office wizards calling the till)."""
        reply = self.ru54fz_issue_manager_grant(action)
        if reply.get("error"):
            raise AccessError(reply["error"])
        return reply["grant"]
