"""Lab-order money from fiscal results only.

A prepayment, a hand-over balance or a prepayment refund reaches the lab order
(``optics.lab.order._register_fiscal_settlement``) from exactly one place: the
receipt the till fiscalised and pushed to central (contract E, authenticated by
the till's central token).  The POS order only *names* the lab order and the
stage (``pos.order.optics_lab_order_ref`` / ``optics_settlement_stage``); the
amount is read from the signed receipt's payload, whose items must be exactly
the lines the lab order itself computes for that stage and amount.  The
document is claimed for its lab order in one SQL statement, so a re-push, a
replayed request or the POS order sync arriving after the push can never count
it twice.  See docs/lab_order_fiscal_interface.md.
"""
import logging

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL

from .optics_fiscal_document import OpticsFiscalDocument as _BaseDocument

_logger = logging.getLogger(__name__)

SETTLEMENT_STAGES = [("prepayment", "Prepayment"), ("handover", "Hand-over"),
                     ("prepayment_refund", "Prepayment refund")]
#: FFD 1054 operation codes in the till's payload
OPERATION_SALE = 1
OPERATION_REFUND = 2


def _item_key(name, amount, vat, method, subject):
    return (str(name or "")[:128], int(amount), int(vat), int(method), int(subject))


class OpticsFiscalDocument(models.Model):
    _inherit = "optics.fiscal.document"

    # the till's payload is what the FN signed: a push fills it in on a row the POS order
    # sync created first (that sync never carries one)
    _FILLABLE = _BaseDocument._FILLABLE + ("payload",)

    optics_lab_order_id = fields.Many2one("optics.lab.order", string="Lab Order", readonly=True, index=True,
                                          copy=False)
    optics_settlement_stage = fields.Selection(SETTLEMENT_STAGES, string="Lab Order Settlement", readonly=True,
                                               copy=False)
    optics_settlement_amount = fields.Monetary(string="Settled on the Lab Order", readonly=True, copy=False)

    @api.model
    def _ingest_push(self, config, entries, status=None):
        reply = super()._ingest_push(config, entries, status)
        uuids = [e.get("uuid") for e in entries if isinstance(e, dict) and e.get("kind") in ("sale", "refund")]
        if uuids:
            self.sudo().search([("uuid", "in", uuids)])._optics_settle_lab_orders()
        return reply

    def _optics_settle_lab_orders(self):
        """Register the fiscalised receipts of lab orders on their orders, once each.

        Runs as the system (the till's push has no user) and never fails the push or the order
        sync that triggered it: central must keep every fiscal document the till sends."""
        for doc in self.with_user(SUPERUSER_ID).sudo():
            order = doc.pos_order_id
            if (doc.optics_lab_order_id or doc.kind not in ("sale", "refund") or not order
                    or not order.optics_lab_order_ref or not order.optics_settlement_stage):
                continue
            if not isinstance(doc.payload, dict) or not doc.fiscal_sign or not doc.fd_number:
                continue  # not fiscalised, or the till has not pushed it yet
            lab = doc.env["optics.lab.order"].browse(order.optics_lab_order_ref).exists()
            try:
                with self.env.cr.savepoint():
                    if not lab:
                        raise UserError(self.env._("the lab order named by the POS order does not exist"))
                    stage, amount_kop = doc._optics_check_settlement(lab, order.optics_settlement_stage)
                    if not doc._optics_claim(lab, stage, amount_kop):
                        continue
                    lab._register_fiscal_settlement(stage, amount_kop, pos_order=order)
                    doc._optics_after_settlement(lab, stage)
            except UserError as exc:
                _logger.warning("fiscal document %s not settled on lab order %s: %s", doc.uuid,
                                lab.name if lab else order.optics_lab_order_ref, exc)
                doc.message_post(body=doc.env._(
                    "Not recorded on a lab order: %(reason)s", reason=exc.args[0] if exc.args else exc))
            except Exception:  # noqa: BLE001 - logged; the document itself stays stored
                _logger.exception("fiscal document %s: lab order settlement failed", doc.uuid)

    def _optics_claim(self, lab, stage, amount_kop):
        """Atomically mark this document as settled on ``lab``; False if it already was."""
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(SQL(
            "UPDATE optics_fiscal_document SET optics_lab_order_id = %s, optics_settlement_stage = %s,"
            " optics_settlement_amount = %s WHERE id = %s AND optics_lab_order_id IS NULL RETURNING id",
            lab.id, stage, amount_kop / 100.0, self.id))
        claimed = bool(self.env.cr.fetchall())
        self.invalidate_recordset(["optics_lab_order_id", "optics_settlement_stage", "optics_settlement_amount"])
        return claimed

    def _optics_check_settlement(self, lab, stage):
        """(stage, kopecks) this signed receipt settles on ``lab``; UserError when the receipt is
        not exactly what the lab order expects for that stage."""
        self.ensure_one()
        payload = self.payload
        store = self.pos_config_id.optics_store_id
        if lab.store_id != store:
            raise UserError(self.env._("lab order %(order)s belongs to another store", order=lab.name))
        items = payload.get("items") or []
        got = sorted(_item_key(i.get("name"), i.get("amount", 0), i.get("vat", 0), i.get("payment_method", 0),
                               i.get("subject", 0)) for i in items)
        payments = payload.get("payments") or {}
        total = int(payload.get("total") or 0)
        operation = int(payload.get("operation") or 0)
        if stage == "prepayment":
            if operation != OPERATION_SALE or self.kind != "sale":
                raise UserError(self.env._("a prepayment must be a sale receipt"))
            expected = lab._get_fiscal_settlement_lines("prepayment", total)["lines"]
            amount = total
        elif stage == "handover":
            if operation != OPERATION_SALE or self.kind != "sale":
                raise UserError(self.env._("a hand-over must be a sale receipt"))
            settlement = lab._get_fiscal_settlement_lines("handover")
            if int(payments.get("prepayment") or 0) != settlement["prepaid"]:
                raise UserError(self.env._("the receipt offsets %(got)s of prepayment, the order has %(want)s",
                                           got=int(payments.get("prepayment") or 0) / 100.0,
                                           want=settlement["prepaid"] / 100.0))
            expected = settlement["lines"]
            amount = total - settlement["prepaid"]
        elif stage == "prepayment_refund":
            if operation != OPERATION_REFUND or self.kind != "refund":
                raise UserError(self.env._("a prepayment refund must be a refund receipt"))
            original = self.search([("uuid", "=", payload.get("original_uuid") or ""),
                                    ("optics_lab_order_id", "=", lab.id),
                                    ("optics_settlement_stage", "=", "prepayment")], limit=1)
            if not original:
                raise UserError(self.env._("the refunded receipt is not a prepayment of %(order)s", order=lab.name))
            expected = [{"name": i.get("name"), "amount": i.get("amount", 0), "vat_code": i.get("vat", 0),
                         "payment_method": i.get("payment_method", 0), "subject": i.get("subject", 0)}
                        for i in (original.payload or {}).get("items") or []]
            amount = total
        else:
            raise UserError(self.env._("unknown settlement stage %(stage)s", stage=stage))
        want = sorted(_item_key(line["name"], line["amount"], line["vat_code"], line["payment_method"],
                                line["subject"]) for line in expected)
        if got != want:
            raise UserError(self.env._("the receipt's items are not the lab order's %(stage)s lines",
                                       stage=dict(SETTLEMENT_STAGES)[stage]))
        if amount <= 0:
            raise UserError(self.env._("nothing was paid by this receipt"))
        return stage, amount

    def _optics_after_settlement(self, lab, stage):
        """The hand-over receipt paid the balance: the glasses are issued."""
        if stage == "handover" and lab.state == "ready" and lab.currency_id.compare_amounts(lab.amount_due, 0) <= 0:
            lab._write_privileged("workflow", {"state": "issued", "date_issued": fields.Datetime.now()})
            lab.message_post(body=self.env._("Issued: the balance was paid by fiscal receipt %(doc)s.",
                                             doc=self.name))
