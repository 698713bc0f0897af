from odoo import fields, models

from ..ru54fz import ffd

#: FFD 1.2 names of tag 1214 as printed on receipts
PAYMENT_METHOD_LABELS = {
    1: "ПРЕДОПЛАТА 100%",
    2: "ПРЕДОПЛАТА",
    3: "АВАНС",
    4: "ПОЛНЫЙ РАСЧЕТ",
    5: "ЧАСТИЧНЫЙ РАСЧЕТ И КРЕДИТ",
    6: "ПЕРЕДАЧА В КРЕДИТ",
    7: "ОПЛАТА КРЕДИТА",
}


class OpticsLabOrder(models.Model):
    _inherit = "optics.lab.order"

    optics_fiscal_document_ids = fields.One2many(
        "optics.fiscal.document", "optics_lab_order_id", string="Fiscal Receipts", readonly=True
    )

    def _optics_pos_info(self, config=None):
        """Adds the prepayment receipts a refund of a cancelled order gives back (from central's
        fiscal documents, as the till signed them)."""
        info = super()._optics_pos_info(config)
        info["refund"] = False
        if info.get("refundable"):
            originals = self.sudo().optics_fiscal_document_ids.filtered(
                lambda d: d.optics_settlement_stage == "prepayment"
            )
            refunded = {
                (d.payload or {}).get("original_uuid")
                for d in self.sudo().optics_fiscal_document_ids
                if d.optics_settlement_stage == "prepayment_refund"
            }
            original = originals.filtered(lambda d: d.uuid not in refunded)[:1]
            if original and isinstance(original.payload, dict):
                payload = original.payload
                payments = payload.get("payments") or {}
                info["refund"] = {
                    "lines": [
                        {
                            "name": i["name"],
                            "quantity": i["quantity"],
                            "price": i["price"],
                            "amount": i["amount"],
                            "vat_code": i["vat"],
                            "payment_method": i["payment_method"],
                            "subject": i["subject"],
                            "barcode": i.get("product_code") or "",
                        }
                        for i in payload.get("items") or []
                    ],
                    "total": payload.get("total"),
                    "payments": {"cash": payments.get("cash", 0), "card": payments.get("electronic", 0)},
                    "refund_of": {
                        "uuid": original.uuid,
                        "fiscal_sign": int(original.fiscal_sign or 0),
                        "fd_number": original.fd_number,
                        "ofd_confirmed": original.ofd_state in ("acknowledged", "resolved"),
                    },
                }
        for stage in ("prepayment", "handover", "refund"):
            for line in (info.get(stage) or {}).get("lines", []):
                line["vat_label"] = ffd.VAT_LABELS.get(line["vat_code"], "")
                line["method_label"] = PAYMENT_METHOD_LABELS.get(line["payment_method"], "")
        return info
