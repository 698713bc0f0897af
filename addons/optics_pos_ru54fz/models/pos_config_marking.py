from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from ..ru54fz import till_policy
from .pos_config import KKT_ALLOWLIST_PARAM


class PosConfig(models.Model):
    _inherit = "pos.config"

    # where the till asks for the permissive-mode check of marked goods (ПП № 1944,
    # ru54fz/marking.py); administrators only: the server connects to these addresses
    ru54fz_marking_local_url = fields.Char(
        string="Local marking module (ЛМ ЧЗ)", groups="base.group_system",
        help="http://host:port of the store's local module of Честный ЗНАК; the till checks every "
             "marking code there before the receipt when the online check does not answer.")
    ru54fz_marking_online_url = fields.Char(
        string="Честный ЗНАК online check", groups="base.group_system",
        help="Base URL of the Честный ЗНАК permissive-mode API (codes/check).")
    ru54fz_marking_online_token = fields.Char(
        string="Честный ЗНАК API key", groups="base.group_system", copy=False)

    @api.constrains("ru54fz_marking_local_url", "ru54fz_marking_online_url")
    def _check_ru54fz_marking_urls(self):
        allowlist = self._ru54fz_kkt_allowlist()
        for config in self.sudo():
            for url in (config.ru54fz_marking_local_url, config.ru54fz_marking_online_url):
                if url and not till_policy.address_allowed(url, allowlist):
                    raise ValidationError(_(
                        "The marking check address %(address)s is not allowed. An administrator lists the "
                        "addresses a till may use in the system parameter %(param)s.",
                        address=url, param=KKT_ALLOWLIST_PARAM))

    def _get_ru54fz_marking_config(self):
        """The checkers of ru54fz.marking.make_checker; empty: the till sells marked goods
        with the KKT's own check only (docs/marking.md)."""
        self.ensure_one()
        config = self.sudo()
        out = {}
        if config.ru54fz_marking_online_url:
            out["online"] = {"url": config.ru54fz_marking_online_url,
                             "token": config.ru54fz_marking_online_token or ""}
        if config.ru54fz_marking_local_url:
            out["local"] = {"url": config.ru54fz_marking_local_url}
        return out

    def _get_ru54fz_device_config(self):
        device = super()._get_ru54fz_device_config()
        marking = self._get_ru54fz_marking_config()
        if marking:
            device["marking"] = marking
        return device
