"""Refund saga in the back office, and the POS order sync / till push meeting on one document."""

import base64

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.optics_core.tests.common import create_store_user
from odoo.addons.point_of_sale.tests.common import TestPoSCommon
from odoo.addons.queue_job.tests.common import trap_jobs

from ..ru54fz.ofd import protocol

FN = "9999078900054321"


@tagged("post_install", "-at_install")
class TestOfdRefundSaga(TestPoSCommon):
    def setUp(self):
        super().setUp()
        self.env.user.groups_id |= self.env.ref("optics_core.group_optics_admin")
        self.store = self.env["optics.store"].create({"name": "Saga store", "code": "SAGA"})
        self.config = self.basic_config
        self.config.write(
            {"ru54fz_enabled": True, "ru54fz_till_code": "SAGA-1", "optics_store_id": self.store.id}
        )
        self.product = self.create_product("Frame", self.categ_basic, 1000.0)
        self.open_new_session()
        self.Doc = self.env["optics.fiscal.document"]

    def _sale(self, fd, fiscal=True):
        data = self.create_ui_order_data([(self.product, 1)])
        if fiscal:
            data.update(
                ru54fz_fd_number=fd,
                ru54fz_fiscal_sign=str(900000 + fd),
                ru54fz_fn_serial=FN,
                ru54fz_shift_number=3,
                ru54fz_qr="t=20261122T1000&s=1000.00",
            )
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def _push(self, order, fd):
        entry = {
            "uuid": order.uuid,
            "hlc": "17000",
            "kind": "sale",
            "till_code": "SAGA-1",
            "pos_reference": order.pos_reference,
            "payload": {"total": 100000},
            "state": "fiscalised",
            "fiscal": {
                "fd_number": fd,
                "fiscal_sign": 900000 + fd,
                "fn_serial": FN,
                "shift_number": 3,
                "doc_time": "2026-11-22T10:00:00",
            },
            "ofd_message": base64.b64encode(protocol.build_document_message(FN, fd)).decode(),
        }
        return self.Doc._ingest_push(self.config, [entry])

    def test_pos_sync_and_till_push_meet_on_one_document(self):
        order = self._sale(11)
        doc = order.ru54fz_document_ids
        self.assertEqual(len(doc), 1)
        self.assertEqual(
            (doc.uuid, doc.source, doc.fd_number, doc.fiscal_sign, doc.pos_session_id),
            (order.uuid, "pos", 11, "900011", self.pos_session),
        )
        self.assertFalse(doc.has_ofd_message)
        self.assertEqual(order.ru54fz_ofd_state, "pending")
        with trap_jobs() as trap:
            reply = self._push(order, 11)
            trap.assert_jobs_count(1)  # the message arrived with the push: delivery is enqueued
            self._push(order, 11)
            trap.assert_jobs_count(1)  # a re-push enqueues nothing more
        self.assertEqual(reply["accepted"], [order.uuid])
        self.assertEqual(self.Doc.search_count([("uuid", "=", order.uuid)]), 1)
        self.assertTrue(doc.has_ofd_message)
        self.assertEqual(self.pos_session.ru54fz_unconfirmed_count, 1)

    def test_till_push_first_then_order_sync_links(self):
        data = self.create_ui_order_data([(self.product, 1)])
        entry_order = type("O", (), {"uuid": data["uuid"], "pos_reference": data.get("name")})
        with trap_jobs():
            self._push(entry_order, 12)
        doc = self.Doc.search([("uuid", "=", data["uuid"])])
        self.assertFalse(doc.pos_order_id)
        data.update(ru54fz_fd_number=12, ru54fz_fn_serial=FN)
        result = self.env["pos.order"].sync_from_ui([data])
        order = self.env["pos.order"].browse(result["pos.order"][0]["id"])
        self.assertEqual(doc.pos_order_id, order)
        self.assertEqual(order.ru54fz_document_ids, doc)
        self.assertEqual(self.Doc.search_count([("uuid", "=", data["uuid"])]), 1)

    def test_refund_blocked_then_allowed_then_overridden(self):
        order = self._sale(21)
        with self.assertRaisesRegex(UserError, "cannot be refunded yet: the OFD has not confirmed"):
            order.refund()
        # the OFD confirms: the refund goes through
        order.ru54fz_document_ids._ofd_acknowledge(protocol.build_ticket(FN, 21))
        self.assertEqual(order.ru54fz_ofd_state, "acknowledged")
        action = order.refund()
        refund = self.env["pos.order"].browse(action["res_id"])
        self.assertLess(refund.amount_total, 0)

        # another unconfirmed sale: an administrator overrides with a reason, audited
        other = self._sale(22)
        manager = create_store_user(
            self.env,
            "saga_manager",
            "optics_core.group_optics_store_manager",
            self.store,
            self.env.company,
            name="Saga manager",
        )
        with self.assertRaises(UserError):
            other.with_user(manager).with_context(ru54fz_refund_override_reason="customer waits").refund()
        wizard = self.env["optics.fiscal.reason.wizard"].create(
            {
                "operation": "refund_override",
                "pos_order_id": other.id,
                "reason": "Customer returned defective frame; OFD backlog known",
            }
        )
        action = wizard.action_confirm()
        self.assertEqual(action["res_model"], "pos.order")
        audit = self.env["optics.fiscal.audit"].search([("action", "=", "refund_override")])
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit.document_id, other.ru54fz_document_ids)
        self.assertIn("OFD backlog known", audit.reason)
        self.assertIn("Customer returned defective frame", other.message_ids[0].body)

    def test_sale_not_yet_received_from_the_till_is_blocked(self):
        order = self._sale(0, fiscal=False)
        self.assertFalse(order.ru54fz_document_ids)
        with self.assertRaisesRegex(UserError, "not received from the till yet"):
            order.refund()
