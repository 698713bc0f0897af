"""A till's settings over XML-RPC as the weakest roles: Odoo lets every POS user write
pos.config, so a cashier could switch fiscalisation off, point the POS at another till or
raise their own discount limit.  A cashier changes nothing; a store manager sets their
store's till settings but not the administrator-only ones; an administrator sets all."""

import xmlrpc.client

from odoo.tests import HttpCase, tagged

from odoo.addons.optics_core.tests.common import create_store_user, rpc_as

ACCESS_ERROR = 4  # fault code of an AccessError on /xmlrpc/2/object


@tagged("post_install", "-at_install")
class TestSecurityPosConfigSettings(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env(su=True)
        company = env.company
        cls.store = env["optics.store"].create(
            {"name": "PC Тверская", "code": "PC-TV", "company_id": company.id}
        )
        cls.other_store = env["optics.store"].create(
            {"name": "PC Невский", "code": "PC-NV", "company_id": company.id}
        )
        cls.config = env["pos.config"].create(
            {
                "name": "PC till",
                "optics_store_id": cls.store.id,
                "ru54fz_enabled": True,
                "ru54fz_till_code": "PC-TILL-1",
                "ru54fz_proxy_url": "http://127.0.0.1:5995",
            }
        )

        def user(login, group):
            return create_store_user(env, login, group, cls.store, company)

        cls.cashier = user("pc_cashier", "optics_core.group_optics_cashier")
        cls.manager = user("pc_manager", "optics_core.group_optics_store_manager")
        cls.admin = user("pc_admin", "optics_core.group_optics_admin")

    def _write(self, user, vals):
        return rpc_as(self, user, "pos.config", "write", [self.config.ids, vals])

    def _settings(self):
        self.env.invalidate_all()
        return self.config.sudo().read(
            [
                "ru54fz_enabled",
                "ru54fz_proxy_url",
                "ru54fz_till_code",
                "optics_store_id",
                "optics_cashier_discount_limit",
                "optics_manager_discount_limit",
                "ru54fz_cash_diff_threshold",
            ]
        )[0]

    def _refused(self, user, vals):
        before = self._settings()
        with self.assertRaises(xmlrpc.client.Fault) as caught:
            self._write(user, vals)
        self.assertEqual(caught.exception.faultCode, ACCESS_ERROR, caught.exception.faultString)
        self.assertEqual(self._settings(), before, "nothing changed")
        return caught.exception.faultString

    def test_a_cashier_changes_nothing_of_the_till(self):
        for vals in (
            {"ru54fz_enabled": False},
            {"ru54fz_proxy_url": "http://127.0.0.2:5995"},
            {"optics_cashier_discount_limit": 100.0},
            {"ru54fz_cash_diff_threshold": 1e9},
            {"optics_store_id": self.other_store.id},
            {"name": "renamed"},
        ):
            with self.subTest(vals=vals):
                self.assertIn("Only a store manager or an administrator", self._refused(self.cashier, vals))

    def test_a_store_manager_sets_store_settings_but_not_the_fiscal_ones(self):
        self._write(
            self.manager, {"optics_cashier_discount_limit": 15.0, "ru54fz_cash_diff_threshold": 300.0}
        )
        settings = self._settings()
        self.assertEqual(
            (settings["optics_cashier_discount_limit"], settings["ru54fz_cash_diff_threshold"]), (15.0, 300.0)
        )
        for vals in (
            {"ru54fz_enabled": False},
            {"ru54fz_proxy_url": "http://127.0.0.1:6000"},
            {"ru54fz_till_code": "PC-OTHER"},
            {"optics_manager_discount_limit": 100.0},
            {"optics_store_id": self.other_store.id},
        ):
            with self.subTest(vals=vals):
                self.assertIn("Only an administrator can change", self._refused(self.manager, vals))

    def test_an_administrator_sets_them(self):
        self._write(
            self.admin, {"ru54fz_proxy_url": "http://127.0.0.1:6000", "optics_manager_discount_limit": 40.0}
        )
        settings = self._settings()
        self.assertEqual(
            (settings["ru54fz_proxy_url"], settings["optics_manager_discount_limit"]),
            ("http://127.0.0.1:6000", 40.0),
        )
