"""The optical sale in the POS, end to end in headless Chromium against the till controller of
this server, the KKT emulator process and the mock OFD (see test_pos_tours.py for the chain):
customer by phone -> prescription -> glasses order -> prepayment (cash + card) -> lab states in
the back office -> hand-over with the balance -> issued; cancellation refunds the prepayment.
Each receipt is checked on the emulator's FN archive (1214 / 1215 / 1199) and in central's
fiscal documents; the lab order's money is only ever written from those fiscal results.
"""

import json
import time
import uuid as uuidlib
from unittest.mock import patch

from odoo import Command
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tests import tagged
from odoo.tests.common import ChromeBrowser

from odoo.addons.optics_core.tests.common import create_store_user

from .test_pos_tours import Ru54fzPosTourCommon, TestRu54fzPosToursCentral


class OpticalSaleCommon(Ru54fzPosTourCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._connect_the_chain()  # as in TestRu54fzPosToursCentral
        company = cls.company_data["company"]
        env = cls.env
        cls.optician = create_store_user(
            env,
            "optics_optician",
            "optics_core.group_optics_optician",
            cls.store,
            company,
            name="Pavel Optician",
            password="optics_optician",
            email="pavel@optics.example",
        )
        cls.vat22 = env["account.tax"].create(
            {
                "name": "НДС 22% (optics)",
                "amount": 22.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": company.id,
                "ffd_vat_code": "11",
            }
        )
        cls.exempt = env["account.tax"].create(
            {
                "name": "Без НДС (optics)",
                "amount": 0.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": company.id,
                "ffd_vat_code": "6",
            }
        )
        cls.optic_frame = env["product.product"].create(
            {
                "name": "Frame Ray 52-18",
                "optics_type": "frame",
                "list_price": 6100.0,
                "is_storable": True,
                "taxes_id": [Command.set(cls.vat22.ids)],
                "barcode": "4600000000022",
                "frame_a": 52,
                "frame_b": 40,
                "frame_dbl": 18,
                "frame_ed": 55,
            }
        )
        env["stock.quant"]._update_available_quantity(
            cls.optic_frame,
            env["stock.warehouse"].search([("company_id", "=", company.id)], limit=1).lot_stock_id,
            3,
        )
        lens = env["product.template"].create(
            {
                "name": "SV 1.60 lens",
                "optics_type": "spectacle_lens",
                "list_price": 2500.0,
                "taxes_id": [Command.set(cls.exempt.ids)],
            }
        )
        narrow = env["product.template"].create(
            {
                "name": "Low-power lens",
                "optics_type": "spectacle_lens",
                "list_price": 900.0,
                "taxes_id": [Command.set(cls.exempt.ids)],
            }
        )
        # the test company's chart gives every product its default 15 % tax: the fitting is exempt here
        env.ref("optics_core.product_service_edging").taxes_id = [Command.set(cls.exempt.ids)]
        cls.coating = env["optics.lens.coating"].create({"name": "Anti-reflective"})
        cls.design_sv = env["optics.lens.design"].create(
            {
                "name": "Clear SV 1.60",
                "product_tmpl_id": lens.id,
                "lens_type": "single",
                "index": 1.60,
                "coating_ids": [Command.set(cls.coating.ids)],
                "range_ids": [
                    Command.create({"diameter": 70, "sph_min": -8, "sph_max": 6, "cyl_min": -4, "cyl_max": 0})
                ],
            }
        )
        cls.design_narrow = env["optics.lens.design"].create(
            {
                "name": "Narrow SV 1.50",
                "product_tmpl_id": narrow.id,
                "lens_type": "single",
                "index": 1.50,
                "range_ids": [
                    Command.create({"diameter": 65, "sph_min": -1, "sph_max": 1, "cyl_min": -1, "cyl_max": 0})
                ],
            }
        )

    def _locked(self):
        return TestRu54fzPosToursCentral._locked(self)

    def _start(self, tour, login="ru54fz_cashier"):
        """Run the tour; a step logging ``optics-screenshot:<name>`` saves a screenshot of the POS
        (Odoo only saves one on failure) under --screenshots, for people to look at."""
        handle = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 - CDP name
            if type == "log" and args:
                first = str(browser._from_remoteobject(args[0]))
                if first.startswith("optics-screenshot:"):
                    browser.take_screenshot(prefix=f"optics_{first.split(':', 1)[1]}_")
                    return None
            return handle(browser, type, args, stackTrace, **kw)

        with patch.object(ChromeBrowser, "_handle_console", handle_console):
            return super()._start(tour, login)

    def _wait(self, predicate, what, timeout=90.0, locked=True):
        return TestRu54fzPosToursCentral._wait(self, predicate, what, timeout, locked)

    def _open_session(self, user=None):
        with self._locked():
            return super()._open_session(user)

    def _lab(self, phone_digits):
        partner = self.env["res.partner"].sudo()._optics_search_by_phone(phone_digits)
        return (
            self.env["optics.lab.order"]
            .sudo()
            .search([("partner_id", "in", partner.ids)], order="id desc", limit=1)
        )

    def _fn_receipt(self, fd):
        doc = self.emulator.control.document(fd)
        self.assertEqual(doc.get("type"), 3, doc)
        return doc


@tagged("post_install", "-at_install")
class TestOpticalSaleTours(OpticalSaleCommon):
    def test_glasses_sale_end_to_end(self):
        self._open_session()
        before = self._last_fd()
        self._start("optics_sale_tour_order_prepay")
        # the prepayment reaches the lab order from the till's pushed receipt only
        lab = self._wait(
            lambda: (lambda o: o if o.amount_prepaid == 3000 else None)(self._lab("9165554433")),
            "the prepayment receipt to be registered on the lab order",
        )
        with self._locked():
            self.assertEqual(lab.state, "confirmed")
            self.assertTrue(lab.rx_snapshot_id, "the order carries its prescription snapshot")
            self.assertTrue(lab.promised_date)
            self.assertEqual(lab.coating_ids, self.coating)
            partner = lab.partner_id
            self.assertEqual(partner.phone, "+79165554433")
            self.assertTrue(partner.optics_sms_consent)
            self.assertFalse(partner.optics_email_consent)
            # frame 6100 (22 %), two lenses 2500 + 2500 and the fitting 800 (exempt)
            self.assertEqual(lab.amount_total, 11900.0)
            self.assertEqual(lab.amount_due, 8900.0)
            pre_doc = lab.optics_fiscal_document_ids
            self.assertEqual(len(pre_doc), 1)
            self.assertEqual(pre_doc.optics_settlement_stage, "prepayment")
            self.assertEqual(pre_doc.kind, "sale")
            self.assertEqual(lab.prepayment_pos_order_id, pre_doc.pos_order_id)
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1, "one prepayment receipt in the FN")
        fn = receipts[0]
        self.assertEqual(fn["fp"], int(pre_doc.fiscal_sign))
        # АВАНС: 1214 = 3, subject 10, the calculated rates 22/122 (12) and exempt (6)
        self.assertEqual(
            sorted((i["pm"], i["subject"], i["vat"]) for i in fn["items"]), [(3, 10, 6), (3, 10, 12)]
        )
        self.assertEqual(sum(i["amount"] for i in fn["items"]), 300000)
        self.assertEqual(fn["payments"].get("1"), 100000, "cash (1031)")
        self.assertEqual(fn["payments"].get("2"), 200000, "card (1081)")
        # the advance split over the VAT codes in proportion to the kit (6100 / 5800 of 11900)
        self.assertEqual(next(i for i in fn["items"] if i["vat"] == 12)["amount"], 153782)

        # the lab works on it in the back office
        with self._locked():
            lab_o = lab.with_user(self.optician)
            lab_o.action_order()
            lab_o.action_start_production()
            lab_o.action_to_quality_check()
            lab_o.action_quality_ok()
            self.assertEqual(lab.state, "ready")
        before = self._last_fd()
        self._start("optics_sale_tour_handover")
        self._wait(lambda: lab.state == "issued", "the hand-over receipt to issue the glasses")
        with self._locked():
            self.assertEqual(lab.amount_due, 0.0)
            self.assertEqual(lab.amount_paid_handover, 8900.0)
            self.assertTrue(lab.handover_pos_order_id)
            docs = lab.optics_fiscal_document_ids
            self.assertEqual(sorted(docs.mapped("optics_settlement_stage")), ["handover", "prepayment"])
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1, "one hand-over receipt; the refused issue printed nothing")
        fn = receipts[0]
        # ПОЛНЫЙ РАСЧЁТ of every kit line at the sale rates, prepayment offset in 1215
        self.assertEqual(
            sorted((i["pm"], i["vat"], i["amount"]) for i in fn["items"]),
            [(4, 6, 80000), (4, 6, 250000), (4, 6, 250000), (4, 11, 610000)],
        )
        self.assertEqual(fn["payments"].get("14"), 300000, "1215 = the prepayment")
        self.assertEqual(fn["payments"].get("2"), 890000, "the balance by card (1081)")

    def test_cancelled_order_refunds_the_prepayment(self):
        self._open_session()
        before = self._last_fd()
        self._start("optics_sale_tour_prepay_cash")
        lab = self._wait(
            lambda: (lambda o: o if o.amount_prepaid == 2000 else None)(self._lab("9167770011")),
            "the prepayment to be registered",
        )
        with self._locked():
            prepayment_uuid = lab.optics_fiscal_document_ids.uuid
        TestRu54fzPosToursCentral._confirm_by_ofd(self, prepayment_uuid)
        with self._locked():
            lab.with_user(self.manager).action_cancel()
            self.assertEqual(lab.state, "cancelled")
        self._start("optics_sale_tour_refund")
        self._wait(lambda: lab.amount_prepaid == 0, "the refund receipt to be registered")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 2)
        refund = receipts[-1]
        self.assertEqual(refund["operation"], 2, "ВОЗВРАТ ПРИХОДА")
        self.assertEqual(sorted((i["pm"], i["vat"]) for i in refund["items"]), [(3, 6), (3, 12)])
        self.assertEqual(refund["payments"].get("1"), 200000)
        with self._locked():
            doc = lab.optics_fiscal_document_ids.filtered(
                lambda d: d.optics_settlement_stage == "prepayment_refund"
            )
            self.assertEqual(doc.kind, "refund")
            self.assertEqual(doc.fd_number, refund["fd"])

    def test_offline_prepayment_and_handover_of_loaded_orders(self):
        """Offline, the POS pays and hands over only lab orders it loaded while online (their
        settlement lines came with them); the money reaches them once the POS order and the
        till's receipt reach central."""
        with self._locked():
            Lab = self.env["optics.lab.order"].with_user(self.cashier)
            customer = (
                self.env["res.partner"]
                .with_user(self.cashier)
                .optics_pos_create_customer({"name": "Offline Buyer", "phone": "+7 916 333-22-11"})
            )
            rx = (
                self.env["optics.prescription"]
                .with_user(self.cashier)
                .optics_pos_create_prescription(customer["id"], {"od_sph": -1.0, "os_sph": -1.25})
            )
            vals = {
                "partner_id": customer["id"],
                "prescription_id": rx["id"],
                "frame_by_customer": True,
                "od_design_id": self.design_sv.id,
                "os_design_id": self.design_sv.id,
            }
            to_prepay = Lab.browse(
                Lab.optics_pos_create_order(self.pos_config.id, dict(vals, prepayment_amount=1500))["id"]
            )
            to_hand_over = Lab.browse(Lab.optics_pos_create_order(self.pos_config.id, vals)["id"])
            lab_o = to_hand_over.with_user(self.optician)
            lab_o.action_start_production()
            lab_o.action_to_quality_check()
            lab_o.action_quality_ok()
        self._open_session()
        before = self._last_fd()
        self._start("optics_sale_tour_offline")
        self._wait(lambda: to_prepay.amount_prepaid == 1500, "the offline prepayment to be registered")
        self._wait(lambda: to_hand_over.state == "issued", "the offline hand-over to issue the glasses")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 2)
        self.assertEqual([i["pm"] for i in receipts[0]["items"]], [3], "advance 1214 = 3 (exempt kit)")
        self.assertEqual(sorted(i["pm"] for i in receipts[1]["items"]), [4, 4, 4])
        self.assertEqual(receipts[1]["payments"].get("2"), int(to_hand_over.amount_total * 100))


@tagged("post_install", "-at_install")
class TestOpticalSaleServer(OpticalSaleCommon):
    """Server rules of the optical sale, called the way the POS calls them (as the cashier)."""

    def _rx(self, partner, **vals):
        values = {"od_sph": -2.25, "od_cyl": -0.5, "od_axis": 180, "os_sph": -2.0, "pd_far": 63}
        values.update(vals)
        return (
            self.env["optics.prescription"]
            .with_user(self.cashier)
            .optics_pos_create_prescription(partner.id, values)
        )

    def _customer(self, phone="+7 916 000-11-22"):
        return (
            self.env["res.partner"]
            .with_user(self.cashier)
            .optics_pos_create_customer({"name": "Test Buyer", "phone": phone, "sms_consent": True})
        )

    def test_prescription_rules_and_optician_fields(self):
        customer = self._customer()
        partner = self.env["res.partner"].browse(customer["id"])
        with self.assertRaises(ValidationError) as refused:
            self._rx(partner, od_sph=-2.3)
        self.assertIn("steps of 0.25", str(refused.exception))
        with self.assertRaises(AccessError):
            self._rx(partner, od_fitting_height=20)
        self.assertFalse(self.env["optics.prescription"].search([("partner_id", "=", partner.id)]))
        rx = self._rx(partner, od_cyl=0.5, od_axis=90)  # plus-cylinder form as written
        self.assertEqual(
            (rx["od"]["sph_minus"], rx["od"]["cyl_minus"], rx["od"]["axis_minus"]), (-1.75, -0.5, 180)
        )
        old = self._rx(partner, date="2020-01-15")
        self.assertTrue(old["is_expired"], "an old prescription comes with its expiry warning")
        info = self.env["res.partner"].with_user(self.cashier).optics_pos_find_customers("89160001122")
        self.assertEqual(sorted(p["is_expired"] for p in info[0]["prescriptions"]), [False, True])
        with self.assertRaises(UserError) as refused:
            self._customer("8 (916) 000-11-22")
        self.assertIn("already belongs", str(refused.exception))

    def test_unmakeable_design_refused_with_range(self):
        partner = self.env["res.partner"].browse(self._customer()["id"])
        rx = self._rx(partner)
        Lab = self.env["optics.lab.order"].with_user(self.cashier)
        catalog = Lab.optics_pos_catalog(self.pos_config.id, rx["id"])
        narrow = next(d for d in catalog["designs"] if d["id"] == self.design_narrow.id)
        self.assertFalse(narrow["od_ok"])
        self.assertIn("-1.00 … +1.00", " ".join(narrow["od_problems"]))
        with self.assertRaises(UserError) as refused:
            Lab.optics_pos_create_order(
                self.pos_config.id,
                {
                    "partner_id": partner.id,
                    "prescription_id": rx["id"],
                    "frame_product_id": self.optic_frame.id,
                    "od_design_id": self.design_narrow.id,
                    "os_design_id": self.design_sv.id,
                },
            )
        self.assertIn("-1.00 … +1.00", str(refused.exception))
        self.assertFalse(
            self.env["optics.lab.order"].search([("partner_id", "=", partner.id)]), "nothing created"
        )

    def _confirmed_order(self, prepayment=1000.0):
        partner = self.env["res.partner"].browse(self._customer()["id"])
        rx = self._rx(partner)
        info = (
            self.env["optics.lab.order"]
            .with_user(self.cashier)
            .optics_pos_create_order(
                self.pos_config.id,
                {
                    "partner_id": partner.id,
                    "prescription_id": rx["id"],
                    "frame_product_id": self.optic_frame.id,
                    "od_design_id": self.design_sv.id,
                    "os_design_id": self.design_sv.id,
                    "prepayment_amount": prepayment,
                },
            )
        )
        return self.env["optics.lab.order"].browse(info["id"]), info

    def _push(self, entries, token=None):
        res = self.url_open(
            "/optics_pos_ru54fz/central/push",
            data=json.dumps({"till_code": self.till_code, "entries": entries}),
            headers={
                "Content-Type": "application/json",
                "X-Till-Code": self.till_code,
                "X-Till-Token": token or self.central_token,
            },
            timeout=60,
        )
        return res.status_code

    def _pos_order(self, lab, stage, amount, order_uuid):
        session = self.pos_config.current_session_id or self._open_session()
        product = self.env.ref("optics_pos_ru54fz.product_lab_order_payment")
        return self.env["pos.order"].create(
            {
                "session_id": session.id,
                "config_id": self.pos_config.id,
                "uuid": order_uuid,
                "company_id": self.pos_config.company_id.id,
                "amount_total": amount,
                "amount_tax": 0,
                "amount_paid": amount,
                "amount_return": 0,
                "optics_lab_order_ref": lab.id,
                "optics_settlement_stage": stage,
                "ru54fz_fd_number": 77,
                "ru54fz_fiscal_sign": "123456",
                "ru54fz_uuid": order_uuid,
                "lines": [
                    Command.create(
                        {
                            "name": "L1",
                            "product_id": product.id,
                            "qty": 1,
                            "price_unit": amount,
                            "price_subtotal": amount,
                            "price_subtotal_incl": amount,
                        }
                    )
                ],
            }
        )

    def _entry(self, order_uuid, items, total, payments=None, fd=501, operation=1):
        return {
            "uuid": order_uuid,
            "hlc": str(int(time.time() * 1000) << 16),
            "kind": "sale",
            "till_code": self.till_code,
            "state": "fiscalised",
            "payload": {
                "operation": operation,
                "total": total,
                "items": items,
                "payments": payments or {"cash": total},
            },
            "fiscal": {
                "fd_number": fd,
                "fiscal_sign": 987654321,
                "fn_serial": "9999078900001234",
                "shift_number": 1,
                "doc_time": "2026-12-04T12:00:00",
            },
            "ofd_message": None,
        }

    def test_amounts_written_only_by_a_fiscal_result(self):
        lab, info = self._confirmed_order()
        cashier_lab = lab.with_user(self.cashier)
        # 1. plain RPC writes of the money fields
        for field in ("amount_prepaid", "amount_paid_handover"):
            with self.assertRaises(AccessError):
                cashier_lab.write({field: 500.0})
        # 2. the private registration method cannot be called over RPC
        self.authenticate("ru54fz_cashier", "ru54fz_cashier")
        res = self.url_open(
            "/web/dataset/call_kw/optics.lab.order/_register_fiscal_settlement",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "optics.lab.order",
                        "method": "_register_fiscal_settlement",
                        "args": [[lab.id], "prepayment", 100000],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", res.json())
        # 3. a POS order claiming a prepayment with client-side fiscal values: nothing
        order_uuid = str(uuidlib.uuid4())
        self._pos_order(lab, "prepayment", 1000.0, order_uuid)
        # 4. a push with a wrong token: refused
        lines = info["prepayment"]["lines"]
        items = [
            {
                "name": ln["name"],
                "amount": ln["amount"],
                "vat": ln["vat_code"],
                "payment_method": ln["payment_method"],
                "subject": ln["subject"],
                "price": ln["price"],
                "quantity": ln["quantity"],
            }
            for ln in lines
        ]
        self.assertEqual(self._push([self._entry(order_uuid, items, 100000)], token="wrong"), 401)
        # 5. a pushed receipt whose items are not the lab order's lines: not recorded
        forged = [dict(items[0], amount=items[0]["amount"] + 100)] + items[1:]
        self.assertEqual(self._push([self._entry(order_uuid, forged, 100100)]), 200)
        lab.invalidate_recordset()
        self.assertEqual(lab.amount_prepaid, 0.0, "nothing changed")
        # 6. the real receipt, pushed twice (replay, retry): recorded exactly once
        good_uuid = str(uuidlib.uuid4())
        self._pos_order(lab, "prepayment", 1000.0, good_uuid)
        self.assertEqual(self._push([self._entry(good_uuid, items, 100000, fd=502)]), 200)
        self.assertEqual(self._push([self._entry(good_uuid, items, 100000, fd=502)]), 200)
        lab.invalidate_recordset()
        self.assertEqual(lab.amount_prepaid, 1000.0)
        # 7. hand-over refused while the balance is due (not ready, and then due)
        with self.assertRaises(UserError):
            lab.with_user(self.cashier).optics_pos_issue(self.pos_config.id)

    def test_job_ticket_printable_and_store_scoped(self):
        lab, info = self._confirmed_order()
        self.assertTrue(info["promised_date"], "the promised date comes with the order")
        self.authenticate("ru54fz_cashier", "ru54fz_cashier")
        res = self.url_open(f"/report/html/optics_core.report_lab_order_ticket/{lab.id}", timeout=120)
        self.assertEqual(res.status_code, 200)
        self.assertIn(lab.name, res.text)
        # the hand-over search finds the order by the ticket's number (typed, or scanned into the field)
        found = (
            self.env["optics.lab.order"]
            .with_user(self.cashier)
            .optics_pos_find_orders(self.pos_config.id, lab.name)
        )
        self.assertEqual([o["id"] for o in found], [lab.id])
        # a cashier of another store finds nothing and cannot open the order from the POS
        other_store = self.env["optics.store"].create(
            {"name": "Arbat", "code": "ARB", "company_id": self.pos_config.company_id.id}
        )
        other_config = self.env["pos.config"].create(
            {
                "name": "Arbat Till",
                "optics_store_id": other_store.id,
                "company_id": self.pos_config.company_id.id,
            }
        )
        stranger = self.cashier.copy(
            {"login": "arbat_cashier", "optics_store_ids": [Command.set(other_store.ids)]}
        )
        Lab = self.env["optics.lab.order"].with_user(stranger)
        self.assertEqual(Lab.optics_pos_find_orders(other_config.id, lab.name), [])
        with self.assertRaises(AccessError):
            Lab.optics_pos_order_info(self.pos_config.id, [lab.id])
