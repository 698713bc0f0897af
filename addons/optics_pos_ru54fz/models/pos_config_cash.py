from odoo import _, fields, models
from odoo.exceptions import UserError

from ..ru54fz import till_client
from .pos_config import BACK_OFFICE_TOKEN_TTL


class PosConfig(models.Model):
    _inherit = "pos.config"

    ru54fz_cash_diff_threshold = fields.Monetary(
        "Cash Difference Threshold", default=500.0, currency_field="currency_id",
        help="A closing difference (cash, or a card total against the acquirer's slip) above "
             "this amount needs a reason and a store manager's confirmation. Checked on the "
             "server for every way of closing a session.")

    def _ru54fz_till_client(self, timeout=None):
        """A ``TillClient`` for this point of sale's till proxy (contract C), with a
        short-lived token derived for the back office (the raw pairing token is not kept)."""
        self.ensure_one()
        url = self._ru54fz_proxy_url()
        token = self._ru54fz_issue_till_token("bo", BACK_OFFICE_TOKEN_TTL) if url else ""
        if not url or not token:
            raise UserError(_("The till proxy of %s is not configured (proxy URL and pairing "
                              "token).", self.display_name))
        kwargs = {"timeout": timeout} if timeout else {}
        return till_client.TillClient(url, token, **kwargs)

    def _ru54fz_proxy_url(self):
        # the field belongs to the till part of the addon (contract F)
        return self["ru54fz_proxy_url"] if "ru54fz_proxy_url" in self._fields else False
