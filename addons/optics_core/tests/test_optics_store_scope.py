from odoo.tests import tagged

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon

from .common import create_store_till, create_store_user, set_pos_receivable


@tagged("post_install", "-at_install")
class TestOpticsStoreScope(AccountTestInvoicingHttpCommon):
    """The foundation's record rules and a cashier opening the POS, without demo data."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        env.user.groups_id += env.ref("optics_core.group_optics_admin")
        company = cls.company_data["company"]
        cls.store_a = env["optics.store"].create({"name": "Scope A", "code": "SCA", "company_id": company.id})
        cls.store_b = env["optics.store"].create({"name": "Scope B", "code": "SCB", "company_id": company.id})
        set_pos_receivable(env, company, "X1012")
        cls.config_a = create_store_till(env, cls.store_a, "CSA")
        cls.config_b = create_store_till(env, cls.store_b, "CSB")
        cls.cashier = create_store_user(
            env,
            "scope_cashier",
            "optics_core.group_optics_cashier",
            cls.store_a,
            company,
            name="Scope cashier",
            tz="Europe/Moscow",
        )
        cls.manager_b = create_store_user(
            env,
            "scope_manager_b",
            "optics_core.group_optics_store_manager",
            cls.store_b,
            company,
            name="Scope manager B",
        )
        cls.accountant = create_store_user(
            env,
            "scope_accountant",
            "optics_core.group_optics_accountant",
            company=company,
            name="Scope accountant",
        )

    def _open_session_with_order(self, config):
        config.open_ui()
        session = config.current_session_id
        order = self.env["pos.order"].create(
            {
                "session_id": session.id,
                "company_id": config.company_id.id,
                "amount_tax": 0.0,
                "amount_total": 0.0,
                "amount_paid": 0.0,
                "amount_return": 0.0,
            }
        )
        return session, order

    def test_cashier_sees_only_own_store(self):
        session_a, order_a = self._open_session_with_order(self.config_a)
        session_b, order_b = self._open_session_with_order(self.config_b)
        configs = (self.config_a | self.config_b).ids
        sessions = (session_a | session_b).ids
        orders = (order_a | order_b).ids
        for user, config, session, order in (
            (self.cashier, self.config_a, session_a, order_a),
            (self.manager_b, self.config_b, session_b, order_b),
        ):
            with self.subTest(user=user.login):
                env = self.env(user=user)
                self.assertEqual(env["pos.config"].search([("id", "in", configs)]), config)
                self.assertEqual(env["pos.session"].search([("id", "in", sessions)]), session)
                self.assertEqual(env["pos.order"].search([("id", "in", orders)]), order)
        env = self.env(user=self.accountant)
        self.assertEqual(len(env["pos.config"].search([("id", "in", configs)])), 2)
        self.assertEqual(len(env["pos.order"].search([("id", "in", orders)])), 2)

    def test_cashier_opens_the_pos(self):
        self.assertFalse(self.config_a.current_session_id)
        self.browser_js(
            f"/pos/ui?config_id={self.config_a.id}",
            "console.log('test successful')",
            ready="document.querySelector('.pos') !== null && !document.querySelector('.o_error_dialog')",
            login="scope_cashier",
            timeout=120,
        )
        session = self.config_a.current_session_id
        self.assertTrue(session, "the POS UI opened a session for the cashier's till")
        self.assertEqual(session.user_id, self.cashier)
