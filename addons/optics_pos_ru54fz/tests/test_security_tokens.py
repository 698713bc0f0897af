"""Issue 12, item 1: till tokens are rotated by administrators only, over the real RPC path,
and every rotation is audited (who, when, which till)."""

import xmlrpc.client

from odoo.tests import HttpCase, tagged

from odoo.addons.optics_core.tests.common import create_store_user, rpc_as

from ..ru54fz import tokens

ACCESS_ERROR = 4  # fault code of an AccessError on /xmlrpc/2/object (odoo/addons/base/controllers/rpc.py)


@tagged("post_install", "-at_install")
class TestSecurityTokenRotation(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        Store = env["optics.store"]
        cls.store_tver = Store.create({"name": "Sec Tverskaya", "code": "SEC-TV"})
        cls.store_nev = Store.create({"name": "Sec Nevsky", "code": "SEC-NV"})
        cls.config_tver = env["pos.config"].create(
            {
                "name": "Sec Tverskaya till",
                "optics_store_id": cls.store_tver.id,
                "ru54fz_till_code": "SEC-TV-01",
                "ru54fz_pairing_token_hash": tokens.hash_token("tver-pairing"),
                "ru54fz_central_token_hash": tokens.hash_token("tver-central"),
            }
        )

        def user(login, groups, stores=()):
            return create_store_user(env, login, groups, stores)

        cls.cashier_nevsky = user("sec_cashier_nev", ["optics_core.group_optics_cashier"], [cls.store_nev])
        cls.manager_tver = user(
            "sec_manager_tv", ["optics_core.group_optics_store_manager"], [cls.store_tver]
        )
        cls.pos_manager = user(
            "sec_pos_manager", ["optics_core.group_optics_admin"], [cls.store_tver, cls.store_nev]
        )
        cls.sysadmin = user("sec_sysadmin", ["base.group_system", "optics_core.group_optics_admin"])

    def _hashes(self):
        config = self.config_tver.sudo()
        config.invalidate_recordset()
        return config.ru54fz_pairing_token_hash, config.ru54fz_central_token_hash

    def _rotations(self):
        return (
            self.env["optics.fiscal.audit"]
            .sudo()
            .search([("res_model", "=", "pos.config"), ("res_id", "=", self.config_tver.id)])
        )

    def _xmlrpc(self, user, method):
        return rpc_as(self, user, "pos.config", method, [[self.config_tver.id]])

    def test_other_store_cashier_cannot_rotate_or_read_tokens_over_xmlrpc(self):
        before = self._hashes()
        for method in ("action_ru54fz_generate_pairing_token", "action_ru54fz_generate_central_token"):
            for user in (self.cashier_nevsky, self.manager_tver, self.pos_manager):
                with (
                    self.subTest(method=method, user=user.login),
                    self.assertRaises(xmlrpc.client.Fault) as caught,
                ):
                    self._xmlrpc(user, method)
                self.assertEqual(caught.exception.faultCode, ACCESS_ERROR, caught.exception.faultString)
                self.assertIn("Only an administrator", caught.exception.faultString)
                self.assertNotIn("tver-pairing", caught.exception.faultString)
        self.assertEqual(self._hashes(), before, "the till's tokens are unchanged: its sales go on")
        self.assertTrue(tokens.verify("tver-pairing", before[0]))
        self.assertFalse(self._rotations(), "nothing happened, nothing audited")

    def test_administrator_rotation_is_audited(self):
        before = self._hashes()
        result = self._xmlrpc(self.sysadmin, "action_ru54fz_generate_pairing_token")
        after = self._hashes()
        self.assertNotEqual(after[0], before[0])
        self.assertEqual(after[1], before[1], "the central token is untouched")
        raw = result["params"]["message"].split(" ")[0]
        self.assertTrue(tokens.verify(raw, after[0]), "the administrator is shown the new token once")
        self._xmlrpc(self.sysadmin, "action_ru54fz_generate_central_token")
        self.assertNotEqual(self._hashes()[1], before[1])
        audit = self._rotations()
        self.assertEqual(sorted(audit.mapped("action")), ["central_token_rotated", "pairing_token_rotated"])
        self.assertEqual(audit.user_id, self.sysadmin)
        self.assertTrue(all(a.date for a in audit))
        self.assertTrue(all("SEC-TV-01" in a.reason for a in audit), audit.mapped("reason"))
        self.assertFalse(any(raw in (a.reason or "") for a in audit), "the token itself is never logged")
