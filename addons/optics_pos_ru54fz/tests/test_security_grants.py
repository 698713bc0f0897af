"""Manager-only till actions need a store manager's grant from central (issue 12, item 4).

The attacker holds the till's pairing token (every cashier's browser does).  Without a
grant, or with one central would never give them, close_shift and cash_out are refused
(403) by the till, and nothing is printed, moved or journaled.  Central issues a grant
only to a store manager of that store (their own session, or their login and password
typed at the cash desk), audits every grant and every refusal, and a grant works once,
for its till and action only."""

import time
import uuid as uuidlib

from odoo.exceptions import AccessError
from odoo.tests import tagged

from ..ru54fz import grants
from .security_till_common import PASSWORDS, SecurityTillCase


@tagged("post_install", "-at_install")
class TestSecurityGrants(SecurityTillCase):
    def audit(self, action):
        return (
            self.env["optics.fiscal.audit"]
            .sudo()
            .search([("action", "=", action), ("res_model", "=", "pos.config")])
        )

    def state(self):
        s = self.emu.control.state()
        return s["last_fd"], s["cash_in_drawer"], len(self.journal())

    def test_central_grants_only_to_a_store_manager_of_that_store(self):
        before = len(self.audit("manager_grant"))
        config_as_cashier = self.config_a.with_user(self.cashier_a)
        refusals = [
            config_as_cashier.ru54fz_issue_manager_grant("close_shift"),
            # a wrong manager password
            config_as_cashier.ru54fz_issue_manager_grant("close_shift", login="manager_a", password="guess"),
            # a real manager, of another store
            config_as_cashier.ru54fz_issue_manager_grant(
                "close_shift", login="manager_b", password=PASSWORDS["manager_b"]
            ),
        ]
        for reply in refusals:
            self.assertEqual(list(reply), ["error"], reply)
        self.assertIn("Wrong manager login or password", refusals[1]["error"])
        with self.assertRaises(AccessError):  # a manager of store B cannot even see store A's till
            self.config_a.with_user(self.manager_b).ru54fz_issue_manager_grant("cash_out")
        with self.assertRaises(AccessError):  # nor can the back office get one for a cashier
            config_as_cashier._ru54fz_manager_grant("cash_out")
        self.assertEqual(len(self.audit("manager_grant")), before, "no grant was issued")
        self.assertGreaterEqual(len(self.audit("manager_grant_refused")), 3)
        # the store manager at the cashier's desk, with their own password
        reply = config_as_cashier.ru54fz_issue_manager_grant(
            "close_shift", login="manager_a", password=PASSWORDS["manager_a"]
        )
        claims = grants.verify(
            reply["grant"],
            self.config_a._ru54fz_grant_public_key(),
            self.config_a.ru54fz_till_code,
            "close_shift",
        )
        self.assertEqual((claims["uid"], reply["user"]), (self.manager_a.id, self.manager_a.name))
        self.assertEqual(len(self.audit("manager_grant")), before + 1)

    def test_too_many_wrong_manager_passwords_lock_the_login(self):
        config_as_cashier = self.config_a.with_user(self.cashier_a)
        for _i in range(5):
            reply = config_as_cashier.ru54fz_issue_manager_grant(
                "cash_out", login="manager_a", password="guess"
            )
            self.assertNotIn("grant", reply)
        reply = config_as_cashier.ru54fz_issue_manager_grant(
            "cash_out", login="manager_a", password=PASSWORDS["manager_a"]
        )
        self.assertNotIn("grant", reply)
        self.assertIn("Too many", reply["error"])

    def test_token_holder_cannot_close_the_shift_or_take_cash_out(self):
        self.open_shift()
        self.assertEqual(
            self.till("cash_in", {"uuid": str(uuidlib.uuid4()), "amount": 500000, "cashier": "Анна"})[0], 200
        )
        before = self.state()
        grant_b = self.config_b.with_user(self.manager_b).ru54fz_issue_manager_grant("close_shift")["grant"]
        forged = grants.issue(
            grants.generate_keypair()[0],
            self.config_a.ru54fz_till_code,
            "close_shift",
            "Фальшивый Управляющий",
        )[0]
        expired = grants.issue(
            self.config_a._ru54fz_grant_private_key(),
            self.config_a.ru54fz_till_code,
            "close_shift",
            "manager_a",
            now=time.time() - 3600,
        )[0]
        cash_out_grant = self.config_a.with_user(self.manager_a).ru54fz_issue_manager_grant("cash_out")[
            "grant"
        ]
        for label, bad in (
            ("none", None),
            ("forged", forged),
            ("expired", expired),
            ("other till", grant_b),
            ("other action", cash_out_grant),
        ):
            status, body = self.till(
                "close_shift", {"uuid": str(uuidlib.uuid4()), "cashier": {"name": "Анна"}}, grant=bad
            )
            self.assertEqual(status, 403, (label, body))
            self.assertEqual(body["error"]["code"], "manager_grant_required")
        for bad in (None, forged):
            status, body = self.till(
                "cash_out", {"uuid": str(uuidlib.uuid4()), "amount": 500000, "cashier": "Анна"}, grant=bad
            )
            self.assertEqual(status, 403, body)
        self.assertEqual(self.state(), before, "nothing printed, moved or journaled")

        # the store manager's grants: cash out, then the Z report
        status, body = self.till(
            "cash_out",
            {"uuid": str(uuidlib.uuid4()), "amount": 200000, "cashier": "Мария"},
            grant=cash_out_grant,
        )
        self.assertEqual(status, 200, body)
        grant = self.config_a.with_user(self.manager_a).ru54fz_issue_manager_grant("close_shift")["grant"]
        z_uuid = str(uuidlib.uuid4())
        status, body = self.till("close_shift", {"uuid": z_uuid, "cashier": {"name": "Мария"}}, grant=grant)
        self.assertEqual(status, 200, body)
        self.assertEqual(body["fiscal"]["fd_type"], 5)
        self.assertEqual(self.emu.control.state()["cash_in_drawer"], before[1] - 200000)
        # the grant is spent: another operation with it is refused
        self.open_shift()
        fd = self.last_fd()
        status, body = self.till(
            "close_shift", {"uuid": str(uuidlib.uuid4()), "cashier": {"name": "Анна"}}, grant=grant
        )
        self.assertEqual(status, 403, body)
        self.assertEqual(self.last_fd(), fd)
