from odoo import api, models

#: percentage -> default tag 1199 code for a retail (VAT-inclusive) receipt
DEFAULT_CODE_BY_RATE = {22.0: "11", 20.0: "1", 10.0: "2", 7.0: "8", 5.0: "7", 0.0: "6"}


class AccountTax(models.Model):
    """The 1199 code itself is ``ffd_vat_code`` (optics_core); here it gets a default
    from the rate and is loaded in the POS, which builds the receipt lines."""

    _inherit = "account.tax"

    @api.model
    def _ru54fz_default_vat_code(self, amount_type, amount):
        if (amount_type or "percent") != "percent":
            return False
        return DEFAULT_CODE_BY_RATE.get(round(amount or 0.0, 2), False)

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if not vals.get("ffd_vat_code") and vals.get("type_tax_use", "sale") == "sale":
                code = self._ru54fz_default_vat_code(vals.get("amount_type"), vals.get("amount"))
                if code:
                    vals["ffd_vat_code"] = code
        return super().create(vals_list)

    @api.model
    def _load_pos_data_fields(self, config_id):
        fields_list = super()._load_pos_data_fields(config_id)
        return [*fields_list, "ffd_vat_code"] if fields_list else fields_list
