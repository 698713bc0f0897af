"""Refund saga policy (docs/refund_saga.md): a company setting, administrators only.

On (the default): a sale is refunded only once the OFD confirmed it.
Off: a sale the fiscal drive has fiscalised is always refundable, OFD or not.
"""

from odoo.exceptions import AccessError, UserError
from odoo.tests import tagged

from odoo.addons.optics_core.tests.common import create_store_user
from odoo.addons.point_of_sale.tests.common import TestPoSCommon

FN = "9999078900054399"


@tagged("post_install", "-at_install")
class TestRefundPolicy(TestPoSCommon):
    def setUp(self):
        super().setUp()
        # the test user is the chain's administrator (the only one who may set the policy)
        self.env.user.groups_id |= self.env.ref("optics_core.group_optics_admin") | self.env.ref(
            "base.group_system"
        )
        self.store = self.env["optics.store"].create({"name": "Policy store", "code": "POLICY"})
        self.config = self.basic_config
        self.config.write(
            {"ru54fz_enabled": True, "ru54fz_till_code": "POLICY-1", "optics_store_id": self.store.id}
        )
        self.product = self.create_product("Frame", self.categ_basic, 1000.0)
        self.open_new_session()
        self.company = self.config.company_id
        self.manager = create_store_user(
            self.env,
            "policy_manager",
            "optics_core.group_optics_store_manager",
            self.store,
            self.company,
            name="Policy manager",
            email="policy_manager@example.com",
        )

    def _sale(self, fd=None):
        data = self.create_ui_order_data([(self.product, 1)])
        if fd:
            data.update(
                ru54fz_fd_number=fd,
                ru54fz_fiscal_sign=str(800000 + fd),
                ru54fz_fn_serial=FN,
                ru54fz_shift_number=4,
                ru54fz_qr="t=20261122T1000&s=1000.00",
            )
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def test_default_is_to_wait_for_the_ofd(self):
        company = self.env["res.company"].create({"name": "Fresh chain company"})
        self.assertTrue(company.ru54fz_refund_requires_ofd)
        self.assertEqual(company._ru54fz_till_settings(), {"refund_requires_ofd_confirmation": True})
        self.assertTrue(self.company.ru54fz_refund_requires_ofd)
        order = self._sale(41)
        self.assertEqual(order.ru54fz_ofd_state, "pending")
        with self.assertRaisesRegex(UserError, "cannot be refunded yet"):
            order.refund()
        self.assertFalse(
            self.env["pos.order.line"].search_count([("refunded_orderline_id", "in", order.lines.ids)]),
            "no refund order was made",
        )

    def test_off_refunds_an_fn_fiscalised_sale_without_the_ofd(self):
        self.env["res.config.settings"].create(
            {"company_id": self.company.id, "ru54fz_refund_requires_ofd": False}
        ).execute()
        self.assertFalse(self.company.ru54fz_refund_requires_ofd)
        self.assertEqual(self.company._ru54fz_till_settings(), {"refund_requires_ofd_confirmation": False})
        order = self._sale(42)
        self.assertEqual(order.ru54fz_ofd_state, "pending")  # the OFD has not confirmed it
        action = order.refund()
        refund = self.env["pos.order"].browse(action["res_id"])
        self.assertEqual(refund.lines.refunded_orderline_id, order.lines)
        self.assertFalse(
            self.env["optics.fiscal.audit"].search([("action", "=", "refund_override")]),
            "a refund the policy allows is no override",
        )

    def test_off_still_refuses_a_sale_no_fiscal_drive_has_recorded(self):
        self.company.ru54fz_refund_requires_ofd = False
        order = self._sale()  # paid at a fiscal till, but no FD known to central
        self.assertFalse(order.ru54fz_document_ids)
        with self.assertRaisesRegex(UserError, "not received from the till yet"):
            order.refund()

    def test_a_store_manager_cannot_change_the_policy(self):
        company = self.company.with_user(self.manager)
        with self.assertRaises(AccessError):
            company.write({"ru54fz_refund_requires_ofd": False})
        with self.assertRaises(AccessError):
            self.env["res.config.settings"].with_user(self.manager).create(
                {"ru54fz_refund_requires_ofd": False}
            ).execute()
        self.env.invalidate_all()
        self.assertTrue(self.company.ru54fz_refund_requires_ofd)
        # and the refund of an OFD-unconfirmed sale stays refused for them
        order = self._sale(43)
        with self.assertRaisesRegex(UserError, "cannot be refunded yet"):
            order.with_user(self.manager).refund()
