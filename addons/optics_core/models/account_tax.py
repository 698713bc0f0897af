from odoo import fields, models

FFD_VAT_CODES = [
    ("1", "1 — VAT 20%"),
    ("2", "2 — VAT 10%"),
    ("3", "3 — VAT 20/120"),
    ("4", "4 — VAT 10/110"),
    ("5", "5 — VAT 0%"),
    ("6", "6 — No VAT (exempt)"),
    ("7", "7 — VAT 5%"),
    ("8", "8 — VAT 7%"),
    ("9", "9 — VAT 5/105"),
    ("10", "10 — VAT 7/107"),
    ("11", "11 — VAT 22%"),
    ("12", "12 — VAT 22/122"),
]


class AccountTax(models.Model):
    _inherit = "account.tax"

    ffd_vat_code = fields.Selection(
        FFD_VAT_CODES,
        string="FFD VAT code (1199)",
        help="Value of fiscal tag 1199 printed on 54-FZ receipts for goods carrying this tax. "
        "Exempt optics (corrective lenses, frames, contact lenses) use 6.",
    )
