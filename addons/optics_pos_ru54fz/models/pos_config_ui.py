from odoo import api, models


class PosConfig(models.Model):
    _inherit = "pos.config"

    def _ru54fz_pos_till_token(self):
        """The raw pairing token of this POS's till, read as superuser.

        The token is kept in the back-office field of the cash part (restricted to
        administrators); callers must have checked that the current user may run
        this point of sale (see pos.session._ru54fz_may_receive_till_token).
        """
        self.ensure_one()
        config = self.sudo()
        for fname in ("ru54fz_till_api_token", "ru54fz_pairing_token"):
            if fname in config._fields and config[fname]:
                return config[fname]
        return ""

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields = super()._load_pos_data_fields(config_id)
        if not fields:
            return fields
        return fields + [f for f in ("ru54fz_enabled", "ru54fz_proxy_url", "ru54fz_tax_system")
                         if f in self._fields and f not in fields]
