"""Issue 12, item 8: prescriptions (medical personal data) are not readable across stores.

Visible to the chain's opticians and to the staff of the stores where the prescription was
written or the customer bought; accountants and administrators read them all, and a read by
anyone who is not a natural reader is written to the access log.
"""

import xmlrpc.client

from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .common import OpticsCase, create_store_user, rpc_as

ACCESS_ERROR = 4  # fault code of an AccessError on /xmlrpc/2/object


@tagged("post_install", "-at_install")
class TestSecurityPrescription(HttpCase, OpticsCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.customer_a = cls.env["res.partner"].create({"name": "Rx customer of store A"})
        cls.rx_a = cls.env["optics.prescription"].create(
            {
                "partner_id": cls.customer_a.id,
                "store_id": cls.store_a.id,
                "od_sph": -1.5,
                "os_sph": -1.25,
                "notes": "glaucoma suspect",
            }
        )
        cls.Log = cls.env["optics.prescription.access.log"]

    def _logs(self):
        return self.Log.search([("prescription_id", "=", self.rx_a.id)])

    def _xmlrpc(self, user, method, args):
        return rpc_as(self, user, "optics.prescription", method, args)

    def test_cashier_of_another_store_cannot_read_a_prescription_over_xmlrpc(self):
        cashier_b = self.cashier_b
        found = self._xmlrpc(cashier_b, "search_read", [[("partner_id", "=", self.customer_a.id)], ["notes"]])
        self.assertEqual(found, [], "the other store's cashier does not even see it exists")
        for method, args in (
            ("read", [[self.rx_a.id], ["notes", "od_sph"]]),
            ("write", [[self.rx_a.id], {"notes": "overwritten"}]),
        ):
            with self.subTest(method=method), self.assertRaises(xmlrpc.client.Fault) as caught:
                self._xmlrpc(cashier_b, method, args)
            self.assertEqual(caught.exception.faultCode, ACCESS_ERROR)
            self.assertNotIn("glaucoma", caught.exception.faultString)
        self.rx_a.invalidate_recordset()
        self.assertEqual(self.rx_a.notes, "glaucoma suspect")
        self.assertFalse(self._logs(), "a refused read is not a read")
        # the store where it was written reads it, without an audit entry
        own = self._xmlrpc(self.users["cashier"], "read", [[self.rx_a.id], ["notes"]])
        self.assertEqual(own[0]["notes"], "glaucoma suspect")
        self.assertFalse(self._logs())

    def test_visible_once_the_customer_buys_in_the_store(self):
        Rx = self.env["optics.prescription"].with_user(self.cashier_b)
        self.assertFalse(Rx.search([("id", "=", self.rx_a.id)]))
        self.env["optics.lab.order"].create(
            {"partner_id": self.customer_a.id, "store_id": self.store_b.id, "prescription_id": self.rx_a.id}
        )
        self.assertEqual(Rx.search([("id", "=", self.rx_a.id)]), self.rx_a)
        self.assertEqual(self.rx_a.with_user(self.cashier_b).notes, "glaucoma suspect")
        self.assertFalse(self._logs())

    def test_rule_and_audit_agree_on_who_is_a_natural_reader(self):
        stores = self.cashier_b.optics_store_ids
        Rx = self.env["optics.prescription"]
        natural = Rx.search(Rx._get_store_staff_domain(stores))
        self.assertEqual(Rx.with_user(self.cashier_b).search([]), natural)

    def test_opticians_read_chain_wide_and_others_are_audited(self):
        optician_b = create_store_user(
            self.env, "t_optician_b", "optics_core.group_optics_optician", self.store_b, name="Optician B"
        )
        self.assertEqual(
            self._xmlrpc(optician_b, "read", [[self.rx_a.id], ["notes"]])[0]["notes"], "glaucoma suspect"
        )
        self.assertFalse(self._logs(), "an optician of the chain is a natural reader")
        accountant = self.users["accountant"]
        self._xmlrpc(accountant, "search_read", [[("id", "=", self.rx_a.id)], ["notes"]])
        log = self._logs()
        self.assertEqual(len(log), 1)
        self.assertEqual((log.user_id, log.partner_id, log.access), (accountant, self.customer_a, "read"))
        self.assertTrue(log.date)
        # the log is append-only, read by administrators only
        with self.assertRaises(UserError):
            log.with_user(self.users["admin"]).write({"user_id": self.users["cashier"].id})
        with self.assertRaises(AccessError):
            log.with_user(self.users["admin"]).unlink()
        with self.assertRaises(AccessError):
            self.Log.with_user(accountant).search([])
        self.assertEqual(self.Log.with_user(self.users["admin"]).search([("id", "=", log.id)]), log)
