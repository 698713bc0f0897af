from odoo import api, models

from .pos_config import POS_TOKEN_TTL


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _ru54fz_pos_till_token(self, session):
        """A till token for the POS running ``session``: derived from this till's session key,
        it names the session and expires (a central-served till also refuses it once the
        session is closed).  Callers must have checked that the current user may run this
        point of sale (see pos.session._ru54fz_may_receive_till_token)."""
        self.ensure_one()
        return self._ru54fz_issue_till_token(f"pos{session.id}", POS_TOKEN_TTL)

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields = super()._load_pos_data_fields(config_id)
        if not fields:
            return fields
        return fields + [f for f in ("ru54fz_enabled", "ru54fz_proxy_url", "ru54fz_tax_system")
                         if f in self._fields and f not in fields]
