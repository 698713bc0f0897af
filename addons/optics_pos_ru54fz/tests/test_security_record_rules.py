"""Issue 12, item 8: a cashier does not read other stores' payments (card holder, card number,
customer), order lines, Z-report counters or sales analysis, over XML-RPC; and a prescription
becomes visible to a store's staff once the customer bought there through the POS."""

import uuid
import xmlrpc.client

from odoo import Command
from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon
from odoo.addons.optics_core.tests.common import (
    create_store_till,
    create_store_user,
    rpc_as,
    set_pos_receivable,
)

ACCESS_ERROR = 4  # fault code of an AccessError on /xmlrpc/2/object


@tagged("post_install", "-at_install")
class TestSecurityRecordRules(AccountTestInvoicingHttpCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(su=True)  # the set-up only; the attacks run as the users below
        company = cls.company_data["company"]
        cls.store_tver = env["optics.store"].create(
            {"name": "RR Tverskaya", "code": "RR-TV", "company_id": company.id}
        )
        cls.store_nev = env["optics.store"].create(
            {"name": "RR Nevsky", "code": "RR-NV", "company_id": company.id}
        )
        set_pos_receivable(env, company, "X1013")
        cls.config_tver = create_store_till(env, cls.store_tver, "RRT", payment="card")
        cls.config_nev = create_store_till(env, cls.store_nev, "RRN", payment="card")

        cashier = "optics_core.group_optics_cashier"
        cls.cashier_nev = create_store_user(env, "rr_cashier_nev", cashier, cls.store_nev, company)
        cls.cashier_tver = create_store_user(env, "rr_cashier_tver", cashier, cls.store_tver, company)
        cls.accountant = create_store_user(
            env, "rr_accountant", "optics_core.group_optics_accountant", company=company
        )
        cls.customer = env["res.partner"].create({"name": "RR customer", "phone": "+7 900 000-00-01"})
        cls.product = env["product.product"].create(
            {
                "name": "RR frame",
                "list_price": 7000.0,
                "available_in_pos": True,
                "taxes_id": [Command.clear()],
            }
        )

        cls.config_tver.open_ui()
        session = cls.config_tver.current_session_id
        cls.order_tver = env["pos.order"].create(
            {
                "session_id": session.id,
                "company_id": company.id,
                "partner_id": cls.customer.id,
                "amount_tax": 0.0,
                "amount_total": 7000.0,
                "amount_paid": 7000.0,
                "amount_return": 0.0,
                "lines": [
                    Command.create(
                        {
                            "name": "RR-L1",
                            "product_id": cls.product.id,
                            "qty": 1,
                            "price_unit": 7000.0,
                            "price_subtotal": 7000.0,
                            "price_subtotal_incl": 7000.0,
                        }
                    )
                ],
            }
        )
        cls.payment_tver = env["pos.payment"].create(
            {
                "pos_order_id": cls.order_tver.id,
                "amount": 7000.0,
                "payment_method_id": cls.config_tver.payment_method_ids.id,
                "cardholder_name": "IVAN PETROV",
                "card_no": "4276",
            }
        )
        cls.z_tver = env["optics.shift.report"].create(
            {
                "config_id": cls.config_tver.id,
                "operation_uuid": str(uuid.uuid4()),
                "source": "back_office",
                "shift_number": 7,
                "line_ids": [
                    Command.create({"operation": "sale", "payment": "card", "count": 1, "amount": 7000.0})
                ],
            }
        )
        cls.rx_written_in_nevsky = env["optics.prescription"].create(
            {"partner_id": cls.customer.id, "store_id": cls.store_nev.id, "od_sph": -3.0, "os_sph": -3.0}
        )

    def _rpc(self, user, model, method, args):
        return rpc_as(self, user, model, method, args)

    def _targets(self):
        return {
            "pos.payment": (self.payment_tver, {"cardholder_name": "X"}),
            "pos.order.line": (self.order_tver.lines, {"full_product_name": "X"}),
            "optics.shift.report.line": (self.z_tver.line_ids, {"amount": 1.0}),
        }

    def test_cashier_of_another_store_reads_none_of_it_over_xmlrpc(self):
        before = {
            model: records.sudo().read(list(vals))[0] for model, (records, vals) in self._targets().items()
        }
        for model, (records, vals) in self._targets().items():
            with self.subTest(model=model):
                found = self._rpc(
                    self.cashier_nev, model, "search_read", [[("id", "in", records.ids)], ["id"]]
                )
                self.assertEqual(found, [])
                for method, args in (("read", [records.ids, list(vals)]), ("write", [records.ids, vals])):
                    with self.assertRaises(xmlrpc.client.Fault) as caught:
                        self._rpc(self.cashier_nev, model, method, args)
                    self.assertEqual(caught.exception.faultCode, ACCESS_ERROR, caught.exception.faultString)
                    self.assertNotIn("IVAN PETROV", caught.exception.faultString)
        analysis = self._rpc(
            self.cashier_nev,
            "report.pos.order",
            "search_read",
            [[("config_id", "=", self.config_tver.id)], ["price_total"]],
        )
        self.assertEqual(analysis, [])
        after = {
            model: records.sudo().read(list(vals))[0] for model, (records, vals) in self._targets().items()
        }
        self.assertEqual(after, before, "nothing changed")

    def test_own_store_and_accountant_still_read_them(self):
        for user in (self.cashier_tver, self.accountant):
            for model, (records, _vals) in self._targets().items():
                with self.subTest(user=user.login, model=model):
                    found = self._rpc(user, model, "search_read", [[("id", "in", records.ids)], ["id"]])
                    self.assertEqual(sorted(r["id"] for r in found), sorted(records.ids))
        card = self._rpc(
            self.cashier_tver, "pos.payment", "read", [self.payment_tver.ids, ["cardholder_name"]]
        )
        self.assertEqual(card[0]["cardholder_name"], "IVAN PETROV")

    def test_prescription_follows_the_customer_to_the_store_where_they_bought(self):
        # written in Nevsky; the customer bought at Tverskaya through the POS
        rx = self.rx_written_in_nevsky
        found = self._rpc(
            self.cashier_tver,
            "optics.prescription",
            "search_read",
            [[("partner_id", "=", self.customer.id)], ["od_sph"]],
        )
        self.assertEqual([r["id"] for r in found], rx.ids)
        env = self.env(su=True)
        other = env["res.partner"].create({"name": "RR walk-in"})
        env["optics.prescription"].create({"partner_id": other.id, "store_id": self.store_nev.id})
        found = self._rpc(
            self.cashier_tver,
            "optics.prescription",
            "search_read",
            [[("partner_id", "=", other.id)], ["od_sph"]],
        )
        self.assertEqual(found, [], "a customer who never bought at Tverskaya stays private to Nevsky")
        self.assertFalse(
            env["optics.prescription.access.log"].search([("partner_id", "in", (self.customer | other).ids)])
        )
