"""Refund of a sale that never existed (issue 12, item 3), central's side.

A pairing-token holder asks till A for a 50,000 RUB cash refund of a made-up sale and
brings the "original's" payments and OFD confirmation itself.  Till A does not know
the original, asks central (``/optics_pos_ru54fz/central/refundable``, answered from
``optics.fiscal.document``) and refuses with 409 unless central holds it for the same
company, delivered by a till and confirmed by the OFD; the refund is bounded by what
central says the sale was paid with and what was refunded already.  A store manager's
override goes through and is audited when the till delivers it."""

import contextlib
import os
import uuid as uuidlib

from odoo.tests import tagged

from ..ru54fz import errors, grants
from ..ru54fz.devices import make_device
from ..ru54fz.journal import Journal
from ..ru54fz.till_service import TillService
from .security_till_common import CENTRAL_TOKENS, SecurityTillCase, receipt

FN_B = "9999078900099999"


@tagged("post_install", "-at_install")
class TestSecurityRefund(SecurityTillCase):
    def setUp(self):
        super().setUp()
        # Till A as the till proxy runs it (manager grants on), driving the KKT emulator, asking
        # this server's central endpoint with its own central token.  It runs in the test's
        # thread: an in-server till would ask central from inside a request, which the test
        # server (one request at a time) cannot answer.
        path = os.path.join(self.tmp, f"till-a-{uuidlib.uuid4().hex[:6]}.sqlite")
        self.svc = TillService(
            Journal(path, till_code=self.config_a.ru54fz_till_code),
            make_device(self.emu.config),
            {
                "till_code": self.config_a.ru54fz_till_code,
                "central_url": self.base_url(),
                "central_token": CENTRAL_TOKENS["A"],
                "autopush": False,
                "manager_grants": True,
                "grant_public_key": self.config_a._ru54fz_grant_public_key(),
            },
        )
        self.svc.start()
        self.addCleanup(self._close_till)
        with contextlib.suppress(errors.DeviceError):  # already open
            self.svc.open_shift({"uuid": str(uuidlib.uuid4()), "cashier": {"name": "Анна"}})

    def _close_till(self):
        self.svc.stop()
        try:
            self.svc.device.close()
        finally:
            self.svc.journal.close()

    def journal_size(self):
        return sum(self.svc.journal.counts().values())

    def sale_of_till_b(self, rub=2000, fd=501, acknowledged=True):
        """A card sale fiscalised by till B (another store of the company), pushed to central."""
        uid = str(uuidlib.uuid4())
        kop = rub * 100
        entry = {
            "uuid": uid,
            "hlc": str(10**15 + fd),
            "kind": "sale",
            "state": "fiscalised",
            "till_code": self.config_b.ru54fz_till_code,
            "pos_reference": "Order B",
            "payload": {
                "doc_type": "receipt",
                "operation": 1,
                "total": kop,
                "payments": {"cash": 0, "electronic": kop, "prepayment": 0, "credit": 0, "other": 0},
            },
            "fiscal": {
                "fd_number": fd,
                "fiscal_sign": 3000000000 + fd,
                "fn_serial": FN_B,
                "shift_number": 3,
                "doc_time": "2026-11-30T12:00:00",
            },
        }
        status, body = self.central("push", {"entries": [entry]}, key="B")
        self.assertEqual((status, body["accepted"]), (200, [uid]), body)
        doc = self.env["optics.fiscal.document"].sudo().search([("uuid", "=", uid)])
        if acknowledged:
            doc.write({"ofd_state": "acknowledged"})
        self.env.flush_all()  # the look-up is an HTTP request: it reads the database
        return doc

    def refund_of(self, uid, rub=50000, kind="cash", **extra):
        body = receipt(
            operation="refund",
            rub=rub,
            kind=kind,
            refund_of=dict(
                {"uuid": uid, "payments": [{"kind": "cash", "amount": f"{rub}.00"}], "ofd_confirmed": True},
                **extra,
            ),
        )
        return body

    def nothing_changed(self, fd, entries):
        self.assertEqual(self.last_fd(), fd, "nothing was fiscalised")
        self.assertEqual(self.journal_size(), entries, "nothing was journaled")

    def test_made_up_other_company_or_unconfirmed_originals_are_refused(self):
        fd, entries = self.last_fd(), self.journal_size()
        other_company = self.env["res.company"].create({"name": "Чужая Оптика"})
        Doc = self.env["optics.fiscal.document"].sudo()
        foreign, _created = Doc._upsert(
            [
                {
                    "uuid": str(uuidlib.uuid4()),
                    "kind": "sale",
                    "company_id": other_company.id,
                    "payload": {"payments": {"cash": 5000000}},
                    "fd_number": 9,
                    "fiscal_sign": "9",
                    "fn_serial": "1",
                    "ofd_state": "acknowledged",
                    "total": 5000000,
                }
            ]
        )
        pos_only = self.sale_of_till_b(fd=502)
        pos_only.write({"source": "pos"})  # as if only the POS order sync had reported it
        self.env.flush_all()
        unconfirmed = self.sale_of_till_b(fd=503, acknowledged=False)
        for label, uid, why in (
            ("made up", str(uuidlib.uuid4()), "no fiscal document of this company"),
            ("other company", foreign.uuid, "no fiscal document of this company"),
            ("POS sync only", pos_only.uuid, "only from the POS order sync"),
            ("unconfirmed", unconfirmed.uuid, "OFD has not confirmed"),
        ):
            with self.assertRaises(errors.Conflict) as caught:
                self.svc.sale(self.refund_of(uid))
            self.assertEqual(caught.exception.http_status, 409, label)
            self.assertIn(why, caught.exception.message, label)
        self.nothing_changed(fd, entries)

    def test_another_tills_sale_is_refunded_on_centrals_facts_only(self):
        sale = self.sale_of_till_b(rub=2000, fd=511)
        fd, entries = self.last_fd(), self.journal_size()
        # the client's "paid in cash" is not believed: central says card
        with self.assertRaisesRegex(errors.DocumentInvalid, "cash"):
            self.svc.sale(self.refund_of(sale.uuid, rub=2000, kind="cash"))
        self.nothing_changed(fd, entries)
        refund = self.refund_of(sale.uuid, rub=2000, kind="card")
        reply = self.svc.sale(refund)
        self.assertEqual(reply["state"], "fiscalised")
        self.assertEqual(self.last_fd(), fd + 1)
        # central now knows that refund (the till delivers it) and tells the next look-up
        self.svc.push_to_central()
        status, info = self.central("refundable", {"uuid": sale.uuid}, key="A")
        self.assertEqual(status, 200, info)
        self.assertEqual(info["payments"]["electronic"], 200000)
        self.assertEqual([r["uuid"] for r in info["refunds"]], [refund["uuid"]])
        # the sale is refunded in full: one more refund would pay back more than was paid
        with self.assertRaisesRegex(errors.DocumentInvalid, "in total"):
            self.svc.sale(self.refund_of(sale.uuid, rub=2000, kind="card"))
        self.assertEqual(self.last_fd(), fd + 1)
        # the look-up needs the till's central token
        resp = self.opener.post(
            f"{self.base_url()}/optics_pos_ru54fz/central/refundable",
            timeout=30,
            json={"uuid": sale.uuid},
            headers={"X-Till-Token": "guess", "X-Till-Code": self.config_a.ru54fz_till_code},
        )
        self.assertEqual(resp.status_code, 401)
        self.assertNotIn("payments", resp.text)

    def test_store_manager_override_is_audited(self):
        made_up = str(uuidlib.uuid4())
        fd = self.last_fd()
        refund = self.refund_of(made_up, rub=1500, kind="card", override_reason="продажа по бумажному чеку")
        refund["refund_of"]["payments"] = [{"kind": "card", "amount": "1500.00"}]
        with self.assertRaises(errors.Conflict):  # a cashier: no grant
            self.svc.sale(refund)
        grant = self.config_a.with_user(self.manager_a).ru54fz_issue_manager_grant("refund_override")["grant"]
        forged = grants.issue(
            grants.generate_keypair()[0], self.config_a.ru54fz_till_code, "refund_override", "manager_a"
        )[0]
        with self.assertRaises(grants.GrantRefused):
            self.svc.sale(refund, grant=forged)
        self.assertEqual(self.last_fd(), fd)
        reply = self.svc.sale(refund, grant=grant)
        self.assertEqual(reply["state"], "fiscalised")
        self.assertEqual(self.last_fd(), fd + 1)
        self.svc.push_to_central()
        audit = (
            self.env["optics.fiscal.audit"]
            .sudo()
            .search([("action", "=", "till_manager_action"), ("document_id.uuid", "=", refund["uuid"])])
        )
        self.assertEqual(len(audit), 1)
        self.assertEqual(audit.user_id, self.manager_a)
        self.assertIn("бумажному", audit.reason)
