"""Issue 12, item 1 (sweep): public methods that record as superuser check the caller first.
A cashier of another store calls them on this store's session and orders: refused, nothing
recorded."""

import xmlrpc.client

from odoo import Command
from odoo.tests import HttpCase, tagged

from .cash_common import CashSessionCommon

ACCESS_ERROR = 4  # fault code of an AccessError on /xmlrpc/2/object


@tagged("post_install", "-at_install")
class TestSecuritySudoSweep(CashSessionCommon, HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        other_store = cls.env["optics.store"].sudo().create({"name": "Sweep other store", "code": "SWP"})
        cls.outsider = (
            cls.env["res.users"]
            .sudo()
            .create(
                {
                    "name": "Sweep outsider",
                    "login": "sweep_outsider",
                    "password": "sweep_outsider-pw-1",
                    "groups_id": [Command.link(cls.env.ref("optics_core.group_optics_cashier").id)],
                    "optics_store_ids": [Command.link(other_store.id)],
                    "company_id": cls.company.id,
                    "company_ids": [Command.set(cls.company.ids)],
                }
            )
        )

    def _rpc(self, model, method, args):
        db = self.env.cr.dbname
        uid = self.xmlrpc_common.authenticate(db, "sweep_outsider", "sweep_outsider-pw-1", {})
        return self.xmlrpc_object.execute_kw(db, uid, "sweep_outsider-pw-1", model, method, args)

    def test_other_store_cashier_cannot_record_cash_moves_in_this_session(self):
        session = self.open_new_session(100.0)
        before = self.movements(session).ids
        for kind in ("in", "out"):
            with self.subTest(kind=kind), self.assertRaises(xmlrpc.client.Fault) as caught:
                self._rpc("pos.session", "try_cash_in_out", [[session.id], kind, 5000.0, "sweep", {}])
            self.assertEqual(caught.exception.faultCode, ACCESS_ERROR, caught.exception.faultString)
        self.assertEqual(self.movements(session).ids, before, "no cash movement recorded")
        self.assertEqual(session.ru54fz_expected_cash, 100.0)
