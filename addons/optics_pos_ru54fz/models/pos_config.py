import logging
import secrets
import time
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import AccessDenied, AccessError, UserError, ValidationError

from ..ru54fz import ffd, grants, till_client, till_policy, tokens

_logger = logging.getLogger(__name__)

# who may generate (and so see) till tokens: the same group that may read their hashes
TOKEN_ADMIN_GROUP = "base.group_system"
# central's secret the per-till session keys are derived from (ru54fz/tokens.py), and the KKT
# addresses a central-served till may connect to (ru54fz/till_policy.py): system parameters,
# so administrators only
SESSION_SECRET_PARAM = "optics_pos_ru54fz.till_session_secret"
KKT_ALLOWLIST_PARAM = "optics_pos_ru54fz.kkt_address_allowlist"
# a POS keeps its token while the page is open; a fiscal shift lasts at most 24 hours
POS_TOKEN_TTL = 36 * 3600
BACK_OFFICE_TOKEN_TTL = 300
TAX_SYSTEM_SELECTION = [(str(code), label) for code, label in sorted(ffd.TAX_SYSTEMS.items())]
# manager grants (ru54fz/grants.py)
PRIVATE_KEY_PARAM = "optics_pos_ru54fz.grant_private_key"
PUBLIC_KEY_PARAM = "optics_pos_ru54fz.grant_public_key"
MANAGER_GROUP = "optics_core.group_optics_store_manager"
#: wrong manager passwords accepted per login within the window before the grant desk refuses
MAX_FAILED_LOGINS = 5
FAILED_LOGIN_WINDOW = timedelta(minutes=10)


class PosConfig(models.Model):
    _inherit = "pos.config"

    ru54fz_enabled = fields.Boolean(
        string="54-FZ Fiscalisation",
        help="Fiscalise every order of this point of sale on a KKT through the till proxy.",
    )
    ru54fz_till_code = fields.Char(
        string="Till Code",
        copy=False,
        index=True,
        help="Unique code of this till; the till proxy and the central server identify it by this code.",
    )
    ru54fz_proxy_url = fields.Char(
        string="Till Proxy URL",
        help="Base URL of the till fiscal proxy, e.g. http://127.0.0.1:8069 when this server also "
        "serves the till.",
    )
    ru54fz_pairing_token_hash = fields.Char(
        string="Pairing Token Hash",
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Salted hash of the token the POS presents to the till proxy; the token itself is "
        "shown once when generated.",
    )
    ru54fz_central_token_hash = fields.Char(
        string="Central Token Hash",
        copy=False,
        readonly=True,
        groups="base.group_system",
        help="Salted hash of the token the till proxy presents when it pushes its journal here.",
    )
    ru54fz_device_type = fields.Selection(
        [("shtrih", "Shtrih-M"), ("atol", "ATOL (driver web server)"), ("emulator", "KKT emulator")],
        string="KKT Type",
        default="shtrih",
    )
    ru54fz_device_address = fields.Char(
        string="KKT Address", help="Where the KKT is: tcp://host:port, serial:///dev/ttyACM0 or usb://."
    )
    ru54fz_tax_system = fields.Selection(
        TAX_SYSTEM_SELECTION,
        string="Tax System (1055)",
        default="1",
        help="Taxation system printed on receipts (FFD tag 1055).",
    )
    ru54fz_paired = fields.Boolean(string="Paired", compute="_compute_ru54fz_paired")

    ru54fz_cash_diff_threshold = fields.Monetary(
        "Cash Difference Threshold",
        default=500.0,
        currency_field="currency_id",
        help="A closing difference (cash, or a card total against the acquirer's slip) above "
        "this amount needs a reason and a store manager's confirmation. Checked on the "
        "server for every way of closing a session.",
    )

    # where the till asks for the permissive-mode check of marked goods (ПП № 1944,
    # ru54fz/marking.py); administrators only: the server connects to these addresses
    ru54fz_marking_local_url = fields.Char(
        string="Local marking module (ЛМ ЧЗ)",
        groups="base.group_system",
        help="http://host:port of the store's local module of Честный ЗНАК; the till checks every "
        "marking code there before the receipt when the online check does not answer.",
    )
    ru54fz_marking_online_url = fields.Char(
        string="Честный ЗНАК online check",
        groups="base.group_system",
        help="Base URL of the Честный ЗНАК permissive-mode API (codes/check).",
    )
    ru54fz_marking_online_token = fields.Char(
        string="Честный ЗНАК API key", groups="base.group_system", copy=False
    )

    _sql_constraints = [
        ("ru54fz_till_code_unique", "UNIQUE(ru54fz_till_code)", "Each till code must be unique."),
    ]

    def _get_special_products(self):
        # the line that pays a lab order is loaded into every POS whatever its categories
        # (a store's till usually shows only its goods' categories) and, as Odoo does with
        # its special products, never shown among the goods on the product screen
        payment = self.env.ref("optics_pos_ru54fz.product_lab_order_payment", raise_if_not_found=False)
        return super()._get_special_products() | (payment or self.env["product.product"])

    def _get_optics_admin_only_fields(self):
        # whether and how the till fiscalises, where the POS finds it and where marked goods
        # are checked: a store that turned these off or away would sell without fiscal receipts
        return super()._get_optics_admin_only_fields() | {
            "ru54fz_enabled",
            "ru54fz_till_code",
            "ru54fz_proxy_url",
            "ru54fz_device_type",
            "ru54fz_tax_system",
            "ru54fz_marking_local_url",
            "ru54fz_marking_online_url",
            "ru54fz_marking_online_token",
            "ru54fz_pairing_token_hash",
            "ru54fz_central_token_hash",
        }

    @api.depends("ru54fz_enabled")
    def _compute_ru54fz_paired(self):
        rows = dict(self.sudo().mapped(lambda c: (c.id, bool(c.ru54fz_pairing_token_hash))))
        for config in self:
            config.ru54fz_paired = rows.get(config.id, False)

    @api.constrains("ru54fz_enabled", "ru54fz_till_code", "ru54fz_proxy_url", "ru54fz_device_address")
    def _check_ru54fz_settings(self):
        for config in self:
            code = config.ru54fz_till_code
            if code and not till_policy.TILL_CODE_RE.match(code):
                raise ValidationError(
                    _(
                        "The till code %(code)s is not valid: use 1 to 32 letters, digits, "
                        "'-' or '_', starting with a letter or a digit.",
                        code=code,
                    )
                )
            address = config.ru54fz_device_address
            if address and not till_policy.address_allowed(address, self._ru54fz_kkt_allowlist()):
                raise ValidationError(
                    _(
                        "The KKT address %(address)s is not allowed. An administrator lists the addresses a "
                        "till may use in the system parameter %(param)s.",
                        address=address,
                        param=KKT_ALLOWLIST_PARAM,
                    )
                )
        for config in self.filtered("ru54fz_enabled"):
            if not config.ru54fz_till_code:
                raise ValidationError(_("A point of sale with 54-FZ fiscalisation needs a till code."))
            if config.ru54fz_proxy_url and not config.ru54fz_proxy_url.startswith(("http://", "https://")):
                raise ValidationError(_("The till proxy URL must start with http:// or https://."))

    def _ru54fz_check_may_rotate_tokens(self):
        """Rotating a till token cuts the till off until it is reconfigured and hands the
        raw token to the caller: administrators only, checked here on the server (the
        button's ``groups`` only hides it; the method is reachable over RPC)."""
        if not (self.env.su or self.env.user.has_group(TOKEN_ADMIN_GROUP)):
            raise AccessError(_("Only an administrator may generate till tokens."))
        # the record rules too: an administrator limited to some companies stays there
        self.check_access("write")

    def _ru54fz_new_token(self, field_name, title, audit_action):
        self.ensure_one()
        self._ru54fz_check_may_rotate_tokens()
        token = tokens.generate()
        token_hash = tokens.hash_token(token)
        self.sudo().write({field_name: token_hash})
        self.env["optics.fiscal.audit"]._log(
            audit_action,
            self,
            _(
                "%(title)s of till %(till)s (%(config)s) replaced by %(user)s.",
                title=title,
                till=self.ru54fz_till_code or "-",
                config=self.display_name,
                user=self.env.user.name,
            ),
        )
        message = _("%(token)s — copy it now: it is stored hashed and will not be shown again.", token=token)
        if field_name == "ru54fz_pairing_token_hash":
            message += " " + _(
                'A till config file for this till needs "token_hash": "%(hash)s" and '
                '"session_key": "%(key)s".',
                hash=token_hash,
                key=self._ru54fz_session_key(),
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": message,
                "sticky": True,
                "type": "warning",
            },
        }

    def action_ru54fz_generate_pairing_token(self):
        """New pairing token for the POS -> till proxy link (replaces the old one)."""
        self.ensure_one()
        # Only the hash is kept.  The POS and the back office get tokens derived per session
        # (_ru54fz_issue_till_token); a till config file needs the hash and the session key.
        return self._ru54fz_new_token(
            "ru54fz_pairing_token_hash", _("Till pairing token"), "pairing_token_rotated"
        )

    def action_ru54fz_generate_central_token(self):
        """New token the till proxy uses to push its journal to this server."""
        self.ensure_one()
        return self._ru54fz_new_token(
            "ru54fz_central_token_hash", _("Till central token"), "central_token_rotated"
        )

    @api.model
    def _ru54fz_kkt_allowlist(self):
        value = self.env["ir.config_parameter"].sudo().get_param(KKT_ALLOWLIST_PARAM)
        return till_policy.parse_allowlist(value if value else None)

    @api.model
    def _ru54fz_session_secret(self):
        Param = self.env["ir.config_parameter"].sudo()
        secret = Param.get_param(SESSION_SECRET_PARAM)
        # made at install (data/ru54fz_till_security_data.xml); the till routes run on a
        # read-only cursor, where a missing secret just means no session token is accepted
        if not secret and not self.env.cr.readonly:
            secret = secrets.token_hex(32)
            Param.set_param(SESSION_SECRET_PARAM, secret)
        return secret or ""

    def _ru54fz_session_key(self):
        """The key this till checks session tokens with; changes with every new pairing token."""
        self.ensure_one()
        config = self.sudo()
        return tokens.derive_session_key(
            self._ru54fz_session_secret(), config.ru54fz_till_code, config.ru54fz_pairing_token_hash
        )

    def _ru54fz_issue_till_token(self, subject, ttl):
        """A token the till accepts for ``subject`` during ``ttl`` seconds (the raw pairing
        token is never stored here).  Callers check that the user may have it."""
        self.ensure_one()
        key = self._ru54fz_session_key()
        if not key:
            return ""
        return tokens.issue_session_token(key, self.ru54fz_till_code, subject, time.time() + ttl)

    def _get_ru54fz_device_config(self):
        """Device settings for the till service (controllers/hw_proxy.py), with the marking
        checkers when this point of sale has any."""
        self.ensure_one()
        device = {"type": self.ru54fz_device_type or "shtrih", "address": self.ru54fz_device_address or ""}
        marking = self._get_ru54fz_marking_config()
        if marking:
            device["marking"] = marking
        return device

    # ------------------------------------------------------------ marked goods
    @api.constrains("ru54fz_marking_local_url", "ru54fz_marking_online_url")
    def _check_ru54fz_marking_urls(self):
        allowlist = self._ru54fz_kkt_allowlist()
        for config in self.sudo():
            for url in (config.ru54fz_marking_local_url, config.ru54fz_marking_online_url):
                if url and not till_policy.address_allowed(url, allowlist):
                    raise ValidationError(
                        _(
                            "The marking check address %(address)s is not allowed. An administrator lists "
                            "the "
                            "addresses a till may use in the system parameter %(param)s.",
                            address=url,
                            param=KKT_ALLOWLIST_PARAM,
                        )
                    )

    def _get_ru54fz_marking_config(self):
        """The checkers of ru54fz.marking.make_checker; empty: the till sells marked goods
        with the KKT's own check only (docs/marking.md)."""
        self.ensure_one()
        config = self.sudo()
        out = {}
        if config.ru54fz_marking_online_url:
            out["online"] = {
                "url": config.ru54fz_marking_online_url,
                "token": config.ru54fz_marking_online_token or "",
            }
        if config.ru54fz_marking_local_url:
            out["local"] = {"url": config.ru54fz_marking_local_url}
        return out

    # ------------------------------------------------------------ back office -> till
    def _ru54fz_till_client(self, timeout=None):
        """A ``TillClient`` for this point of sale's till proxy (till HTTP API), with a
        short-lived token derived for the back office (the raw pairing token is not kept)."""
        self.ensure_one()
        url = self._ru54fz_proxy_url()
        token = self._ru54fz_issue_till_token("bo", BACK_OFFICE_TOKEN_TTL) if url else ""
        if not url or not token:
            raise UserError(
                _("The till proxy of %s is not configured (proxy URL and pairing token).", self.display_name)
            )
        kwargs = {"timeout": timeout} if timeout else {}
        return till_client.TillClient(url, token, **kwargs)

    def _ru54fz_proxy_url(self):
        return self.ru54fz_proxy_url

    # ------------------------------------------------------------ POS
    def _ru54fz_pos_till_token(self, session):
        """A till token for the POS running ``session``: derived from this till's session key,
        it names the session and expires (a central-served till also refuses it once the
        session is closed).  Callers must have checked that the current user may run this
        point of sale (see pos.session._ru54fz_may_receive_till_token)."""
        self.ensure_one()
        return self._ru54fz_issue_till_token(f"pos{session.id}", POS_TOKEN_TTL)

    @api.model
    def _load_pos_data_fields(self, config_id):
        field_names = super()._load_pos_data_fields(config_id)
        if not field_names:
            return field_names
        return field_names + [
            f for f in ("ru54fz_enabled", "ru54fz_proxy_url", "ru54fz_tax_system") if f not in field_names
        ]

    # ------------------------------------------------------------ manager grants
    # Manager grants (ru54fz/grants.py): central signs, the till verifies offline.
    #
    # The Ed25519 private key lives in a system parameter (administrators only) and
    # never leaves this server; its public half goes to the tills: to the in-server
    # tills directly (controllers/hw_proxy.py), to a till PC through its till config
    # file (``grant_public_key``, copied from the system parameter of the same name).
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
        if not manager.has_group(MANAGER_GROUP) or not self.with_user(manager).search_count(
            [("id", "=", self.id)], limit=1
        ):
            Audit._log(
                "manager_grant_refused",
                self,
                _(
                    "%(user)s asked for %(action)s on till %(till)s for %(manager)s, who is not a store "
                    "manager of this point of sale",
                    user=self.env.user.name,
                    action=action,
                    till=self.ru54fz_till_code,
                    manager=manager.name,
                ),
            )
            return {"error": _("Only a store manager of this store can authorise this action.")}
        token, claims = grants.issue(
            self._ru54fz_grant_private_key(), self.ru54fz_till_code, action, manager.name, uid=manager.id
        )
        Audit._log(
            "manager_grant",
            self,
            _(
                "%(action)s on till %(till)s authorised by %(manager)s (asked by %(user)s), nonce %(nonce)s",
                action=action,
                till=self.ru54fz_till_code,
                manager=manager.name,
                user=self.env.user.name,
                nonce=claims["nonce"],
            ),
        )
        return {"grant": token, "expires_at": claims["exp"], "user": manager.name, "action": action}

    def _ru54fz_check_manager_login(self, login, password, action):
        """``(user, None)`` when ``password`` is the password of ``login``, else ``(None, why)``
        (audited).  A login with too many recent failures is refused without checking."""
        Audit = self.env["optics.fiscal.audit"].sudo()
        since = fields.Datetime.now() - FAILED_LOGIN_WINDOW
        marker = f"[login {login}]"
        failures = Audit.search_count(
            [("action", "=", "manager_grant_refused"), ("date", ">=", since), ("reason", "like", marker)]
        )
        user = self.env["res.users"].sudo().search([("login", "=", login)], limit=1)
        ok = False
        if user and failures < MAX_FAILED_LOGINS and isinstance(password, str) and password:
            try:
                user.with_user(user)._check_credentials(
                    {"type": "password", "login": login, "password": password}, {"interactive": True}
                )
                ok = True
            except AccessDenied:
                ok = False
        if not ok:
            Audit._log(
                "manager_grant_refused",
                self,
                _(
                    "%(user)s gave a wrong manager login or password for %(action)s on till %(till)s "
                    "%(marker)s",
                    user=self.env.user.name,
                    action=action,
                    till=self.ru54fz_till_code,
                    marker=marker,
                ),
            )
            return None, (
                _("Wrong manager login or password.")
                if failures < MAX_FAILED_LOGINS
                else _("Too many wrong manager passwords: try again in a few minutes.")
            )
        return user, None

    def _ru54fz_manager_grant(self, action):
        """The current user's own grant (back-office wizards calling the till)."""
        reply = self.ru54fz_issue_manager_grant(action)
        if reply.get("error"):
            raise AccessError(reply["error"])
        return reply["grant"]
