from odoo.tests import TransactionCase, tagged

from ..ru54fz import tokens


@tagged("post_install", "-at_install")
class TestBackofficeActions(TransactionCase):
    """Back-office buttons an administrator and a store manager press."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.config = cls.env["pos.config"].create(
            {
                "name": "Back-office till",
                "ru54fz_enabled": True,
                "ru54fz_till_code": "BO-TILL-1",
                "ru54fz_proxy_url": "http://127.0.0.1:9",
            }
        )

    def test_pairing_token_reaches_the_till_and_the_back_office(self):
        """One generated token: the till checks it against the stored hash, and the back
        office gets a token derived from it without a second manual step (the raw token
        itself is not stored: issue 12, item 10)."""
        action = self.config.action_ru54fz_generate_pairing_token()
        raw = action["params"]["message"].split(" ")[0]
        stored = self.config.sudo().ru54fz_pairing_token_hash
        self.assertTrue(tokens.verify(raw, stored))
        key = self.config._ru54fz_session_key()
        client = self.config._ru54fz_till_client()
        self.assertEqual(tokens.check_session_token(client.token, key, "BO-TILL-1"), "bo")
        self.config.action_ru54fz_generate_pairing_token()
        self.assertFalse(
            tokens.verify(raw, self.config.sudo().ru54fz_pairing_token_hash),
            "a new token replaces the old one",
        )
        self.assertIsNone(
            tokens.check_session_token(client.token, self.config._ru54fz_session_key(), "BO-TILL-1"),
            "and revokes what was derived from the old one",
        )

    def test_z_report_button_opens_the_z_flow(self):
        self.config.open_ui()
        session = self.config.current_session_id
        action = session.action_ru54fz_z_report()
        wizard = self.env[action["res_model"]].browse(action["res_id"])
        self.assertEqual(wizard._name, "optics.cash.reconcile.wizard")
        self.assertEqual(wizard.mode, "z_report")
        self.assertEqual(wizard.session_id, session)
