from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..ru54fz import ffd, tokens

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
        [("shtrih", "Shtrih-M"), ("emulator", "KKT emulator")], string="KKT Type", default="shtrih")
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

    @api.constrains("ru54fz_enabled", "ru54fz_till_code", "ru54fz_proxy_url")
    def _check_ru54fz_settings(self):
        for config in self.filtered("ru54fz_enabled"):
            if not config.ru54fz_till_code:
                raise ValidationError(_("A point of sale with 54-FZ fiscalisation needs a till code."))
            if config.ru54fz_proxy_url and not config.ru54fz_proxy_url.startswith(("http://", "https://")):
                raise ValidationError(_("The till proxy URL must start with http:// or https://."))

    def _ru54fz_new_token(self, field_name, title, extra_vals=None):
        self.ensure_one()
        token = tokens.generate()
        vals = {field_name: tokens.hash_token(token)}
        for extra_field in extra_vals or ():
            vals[extra_field] = token
        self.sudo().write(vals)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": title,
                "message": _("%(token)s — copy it now: it is stored hashed and will not be shown again.",
                             token=token),
                "sticky": True,
                "type": "warning",
            },
        }

    def action_ru54fz_generate_pairing_token(self):
        """New pairing token for the POS -> till proxy link (replaces the old one)."""
        self.ensure_one()
        # The POS and the back office call the till with this token, so the server keeps
        # the raw value in the admin-only ru54fz_till_api_token; the till stores the hash.
        return self._ru54fz_new_token("ru54fz_pairing_token_hash", _("Till pairing token"),
                                      extra_vals=["ru54fz_till_api_token"])

    def action_ru54fz_generate_central_token(self):
        """New token the till proxy uses to push its journal to this server."""
        self.ensure_one()
        return self._ru54fz_new_token("ru54fz_central_token_hash", _("Till central token"))

    def _get_ru54fz_device_config(self):
        """Device settings for the till service (controllers/hw_proxy.py)."""
        self.ensure_one()
        return {"type": self.ru54fz_device_type or "shtrih", "address": self.ru54fz_device_address or ""}
