import secrets
import time

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, ValidationError

from ..ru54fz import ffd, till_policy, tokens

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


class PosConfig(models.Model):
    _inherit = "pos.config"

    ru54fz_enabled = fields.Boolean(
        string="54-FZ Fiscalisation",
        help="Fiscalise every order of this point of sale on a KKT through the till proxy.")
    ru54fz_till_code = fields.Char(
        string="Till Code", copy=False, index=True,
        help="Unique code of this till; the till proxy and the central server identify it by this code.")
    ru54fz_proxy_url = fields.Char(
        string="Till Proxy URL",
        help="Base URL of the till fiscal proxy, e.g. http://127.0.0.1:8069 when this server also "
             "serves the till.")
    ru54fz_pairing_token_hash = fields.Char(
        string="Pairing Token Hash", copy=False, readonly=True, groups="base.group_system",
        help="Salted hash of the token the POS presents to the till proxy; the token itself is "
             "shown once when generated.")
    ru54fz_central_token_hash = fields.Char(
        string="Central Token Hash", copy=False, readonly=True, groups="base.group_system",
        help="Salted hash of the token the till proxy presents when it pushes its journal here.")
    ru54fz_device_type = fields.Selection(
        [("shtrih", "Shtrih-M"), ("atol", "ATOL (driver web server)"), ("emulator", "KKT emulator")],
        string="KKT Type", default="shtrih")
    ru54fz_device_address = fields.Char(
        string="KKT Address",
        help="Where the KKT is: tcp://host:port, serial:///dev/ttyACM0 or usb://.")
    ru54fz_tax_system = fields.Selection(
        TAX_SYSTEM_SELECTION, string="Tax System (1055)", default="1",
        help="Taxation system printed on receipts (FFD tag 1055).")
    ru54fz_paired = fields.Boolean(string="Paired", compute="_compute_ru54fz_paired")

    _sql_constraints = [
        ("ru54fz_till_code_unique", "UNIQUE(ru54fz_till_code)", "Each till code must be unique."),
    ]

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
                raise ValidationError(_("The till code %(code)s is not valid: use 1 to 32 letters, digits, "
                                        "'-' or '_', starting with a letter or a digit.", code=code))
            address = config.ru54fz_device_address
            if address and not till_policy.address_allowed(address, self._ru54fz_kkt_allowlist()):
                raise ValidationError(_(
                    "The KKT address %(address)s is not allowed. An administrator lists the addresses a "
                    "till may use in the system parameter %(param)s.", address=address, param=KKT_ALLOWLIST_PARAM))
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
            audit_action, self, _("%(title)s of till %(till)s (%(config)s) replaced by %(user)s.",
                                  title=title, till=self.ru54fz_till_code or "-",
                                  config=self.display_name, user=self.env.user.name))
        message = _("%(token)s — copy it now: it is stored hashed and will not be shown again.", token=token)
        if field_name == "ru54fz_pairing_token_hash":
            message += " " + _('A till config file for this till needs "token_hash": "%(hash)s" and '
                               '"session_key": "%(key)s".', hash=token_hash, key=self._ru54fz_session_key())
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
        return self._ru54fz_new_token("ru54fz_pairing_token_hash", _("Till pairing token"),
                                      "pairing_token_rotated")

    def action_ru54fz_generate_central_token(self):
        """New token the till proxy uses to push its journal to this server."""
        self.ensure_one()
        return self._ru54fz_new_token("ru54fz_central_token_hash", _("Till central token"),
                                      "central_token_rotated")

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
        return tokens.derive_session_key(self._ru54fz_session_secret(), config.ru54fz_till_code,
                                         config.ru54fz_pairing_token_hash)

    def _ru54fz_issue_till_token(self, subject, ttl):
        """A token the till accepts for ``subject`` during ``ttl`` seconds (the raw pairing
        token is never stored here).  Callers check that the user may have it."""
        self.ensure_one()
        key = self._ru54fz_session_key()
        if not key:
            return ""
        return tokens.issue_session_token(key, self.ru54fz_till_code, subject, time.time() + ttl)

    def _get_ru54fz_device_config(self):
        """Device settings for the till service (controllers/hw_proxy.py)."""
        self.ensure_one()
        return {"type": self.ru54fz_device_type or "shtrih", "address": self.ru54fz_device_address or ""}
