"""Dead-letter requeue/resolve with the role matrix, store scoping, audit, alerts."""

import base64
from datetime import timedelta

from odoo import fields
from odoo.exceptions import AccessError, UserError
from odoo.tests import TransactionCase, tagged

from odoo.addons.optics_core.tests.common import create_store_user
from odoo.addons.queue_job.tests.common import trap_jobs

from ..ru54fz import till_health
from ..ru54fz.ofd import protocol

FN = "9999078900012345"


@tagged("post_install", "-at_install")
class TestOfdRoles(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.company.write(
            {"ru54fz_ofd_host": "127.0.0.1", "ru54fz_ofd_port": 9, "ru54fz_ofd_batch_size": 1}
        )
        Store = cls.env["optics.store"]
        cls.store_a = Store.create({"name": "Store A", "code": "ROLE-A"})
        cls.store_b = Store.create({"name": "Store B", "code": "ROLE-B"})
        cls.config_a = cls.env["pos.config"].create(
            {"name": "Till A", "optics_store_id": cls.store_a.id, "ru54fz_till_code": "ROLE-A-1"}
        )
        cls.config_b = cls.env["pos.config"].create(
            {"name": "Till B", "optics_store_id": cls.store_b.id, "ru54fz_till_code": "ROLE-B-1"}
        )

        def user(login, group, stores=()):
            return create_store_user(cls.env, login, group, stores, email=f"{login}@example.com")

        cls.cashier = user("role_cashier", "optics_core.group_optics_cashier", [cls.store_a])
        cls.manager = user("role_manager", "optics_core.group_optics_store_manager", [cls.store_a])
        cls.accountant = user("role_accountant", "optics_core.group_optics_accountant")
        cls.admin = user("role_admin", "optics_core.group_optics_admin")
        cls.doc_a = cls._doc(cls.config_a, 1)
        cls.doc_b = cls._doc(cls.config_b, 2)
        cls.letter_a = cls.doc_a._ofd_dead_letter("rejected by the OFD: code 14", "rejected")
        cls.letter_b = cls.doc_b._ofd_dead_letter("no confirmation after 20 attempts", "exhausted")

    @classmethod
    def _doc(cls, config, fd):
        Doc = cls.env["optics.fiscal.document"]
        entry = {
            "uuid": f"role-doc-{config.id}-{fd}",
            "kind": "sale",
            "till_code": config.ru54fz_till_code,
            "state": "fiscalised",
            "fiscal": {
                "fd_number": fd,
                "fn_serial": FN,
                "fiscal_sign": 77,
                "doc_time": "2026-11-20T12:00:00",
            },
            "ofd_message": base64.b64encode(protocol.build_document_message(FN, fd)).decode(),
        }
        vals = Doc._entry_to_values(entry, config)
        vals.update(company_id=config.company_id.id, pos_config_id=config.id)
        docs, _created = Doc._upsert([vals])
        docs._ofd_log("transport", "cannot connect", attempt=1)
        return docs

    def test_store_scoping_and_what_each_role_sees(self):
        Doc = self.env["optics.fiscal.document"]
        self.assertEqual(Doc.with_user(self.cashier).search([("uuid", "like", "role-doc-")]), self.doc_a)
        self.assertEqual(Doc.with_user(self.manager).search([("uuid", "like", "role-doc-")]), self.doc_a)
        self.assertEqual(
            Doc.with_user(self.accountant).search([("uuid", "like", "role-doc-")]), self.doc_a | self.doc_b
        )
        # cashiers see the status, not the logs nor the dead letters
        self.assertEqual(self.doc_a.with_user(self.cashier).ofd_state, "dead_lettered")
        with self.assertRaises(AccessError):
            self.env["optics.fiscal.document.log"].with_user(self.cashier).search([])
        with self.assertRaises(AccessError):
            self.env["optics.fiscal.dead.letter"].with_user(self.cashier).search([])
        # store managers see their store's letters, accountants every log and letter
        Letter = self.env["optics.fiscal.dead.letter"]
        self.assertEqual(
            Letter.with_user(self.manager).search([("id", "in", (self.letter_a | self.letter_b).ids)]),
            self.letter_a,
        )
        self.assertEqual(
            len(
                Letter.with_user(self.accountant).search([("id", "in", (self.letter_a | self.letter_b).ids)])
            ),
            2,
        )
        self.assertTrue(
            self.env["optics.fiscal.document.log"]
            .with_user(self.accountant)
            .search([("document_id", "=", self.doc_b.id)])
        )

    def test_only_administrators_requeue_or_resolve(self):
        for user in (self.cashier, self.manager, self.accountant):
            with self.assertRaises(AccessError, msg=user.login):
                self.letter_a.with_user(user).action_requeue("try again")
            with self.assertRaises(AccessError, msg=user.login):
                self.letter_a.with_user(user).action_resolve("done by hand")
        self.assertEqual(self.letter_a.state, "open")

    def test_requeue_needs_a_reason_and_is_audited(self):
        letter = self.letter_a.with_user(self.admin)
        with self.assertRaises(UserError):
            letter.action_requeue("   ")
        with trap_jobs() as trap:
            letter.action_requeue("OFD fixed the certificate")
            trap.assert_jobs_count(1, only=self.doc_a._ofd_deliver)
            trap.assert_enqueued_job(
                self.doc_a._ofd_deliver,
                args=(f"optics_fiscal_ofd:{self.doc_a.uuid}",),
                properties={"identity_key": f"optics_fiscal_ofd:{self.doc_a.uuid}", "max_retries": 20},
            )
        self.assertEqual((self.letter_a.state, self.letter_a.action_user_id), ("requeued", self.admin))
        self.assertEqual((self.doc_a.ofd_state, self.doc_a.attempts), ("pending", 0))
        audit = self.env["optics.fiscal.audit"].search([("document_id", "=", self.doc_a.id)])
        self.assertEqual(
            (audit.action, audit.user_id, audit.reason),
            ("dlq_requeue", self.admin, "OFD fixed the certificate"),
        )
        self.assertIn("Requeued: OFD fixed the certificate", self.letter_a.message_ids.mapped("body")[0])
        with self.assertRaises(UserError):
            letter.action_resolve("twice")  # not open any more

    def test_resolve_through_the_wizard(self):
        wizard = (
            self.env["optics.fiscal.reason.wizard"]
            .with_user(self.admin)
            .create(
                {
                    "operation": "resolve",
                    "dead_letter_ids": [(6, 0, self.letter_b.ids)],
                    "reason": "Delivered through the KKT's own OFD channel",
                }
            )
        )
        wizard.action_confirm()
        self.assertEqual(self.letter_b.state, "resolved")
        self.assertEqual(self.doc_b.ofd_state, "resolved")
        self.assertEqual(
            self.env["optics.fiscal.audit"].search([("document_id", "=", self.doc_b.id)]).action,
            "dlq_resolve",
        )
        with self.assertRaises(AccessError):
            self.env["optics.fiscal.reason.wizard"].with_user(self.accountant).create(
                {"operation": "resolve", "dead_letter_ids": [(6, 0, self.letter_b.ids)], "reason": "x"}
            )

    def test_manual_sync_for_store_managers(self):
        doc = self._doc(self.config_a, 5)
        with self.assertRaises(AccessError):
            doc.with_user(self.cashier).action_ofd_sync_now()
        with trap_jobs() as trap:
            doc.with_user(self.manager).action_ofd_sync_now()
            trap.assert_jobs_count(1)
            doc.with_user(self.manager).action_ofd_sync_now()  # claimed by a live job: not twice
            trap.assert_jobs_count(1)
        self.assertEqual(
            set(self.env["optics.fiscal.audit"].search([("document_id", "=", doc.id)]).mapped("action")),
            {"manual_sync"},
        )

    def test_alerts_raise_activities_once(self):
        old = self._doc(self.config_a, 6)
        old.write({"doc_time": fields.Datetime.now() - timedelta(days=26)})
        till = self.env["optics.fiscal.till"]._record_status(
            self.config_a,
            {
                "fn": {
                    "fn_serial": FN,
                    "fn_valid_until": str(fields.Date.today() + timedelta(days=10)),
                    "fn_memory_used_pct": 95,
                }
            },
        )
        till.write({"last_contact": fields.Datetime.now() - timedelta(hours=2)})
        raised = self.env["optics.fiscal.till"]._check_alerts()
        text = "\n".join(raised)
        self.assertIn("unconfirmed for 26 days", text)
        self.assertIn("Dead letter", text)
        self.assertIn("has not reported", text)
        self.assertIn("near end of life", text)
        self.assertIn("almost full", text)
        activities = self.env["mail.activity"].search([("user_id", "=", self.admin.id)])
        self.assertTrue(
            activities.filtered(lambda a: a.res_model == "optics.fiscal.document" and a.res_id == old.id)
        )
        count = self.env["mail.activity"].search_count([("user_id", "=", self.admin.id)])
        self.assertEqual(
            self.env["optics.fiscal.till"]._check_alerts(), [], "a second run raises nothing new"
        )
        self.assertEqual(self.env["mail.activity"].search_count([("user_id", "=", self.admin.id)]), count)
        self.assertEqual(till.health, "alarm")
        self.assertEqual(till.ofd_backlog, 1)

    def test_central_health_and_alerts_use_the_one_till_health_rule(self):
        """Central's health and alerts follow ru54fz/till_health.py at its boundaries, with
        the company settings as overrides (zero: the rule's table)."""
        store = self.env["optics.store"].create({"name": "Store C", "code": "ROLE-C"})
        config = self.env["pos.config"].create(
            {"name": "Till C", "optics_store_id": store.id, "ru54fz_till_code": "ROLE-C-1"}
        )
        Till = self.env["optics.fiscal.till"]
        company = config.company_id
        company.write(
            {
                "ru54fz_fn_alert_days": 0,
                "ru54fz_fn_memory_alert_pct": 0,
                "ru54fz_unconfirmed_alert_days": 0,
                "ru54fz_till_silence_minutes": 0,
            }
        )
        table = till_health.THRESHOLDS
        today = fields.Date.context_today(Till)

        def report(days_left, memory):
            till = Till._record_status(
                config,
                {
                    "fn": {
                        "fn_serial": FN,
                        "fn_valid_until": str(today + timedelta(days=days_left)),
                        "fn_memory_used_pct": memory,
                    }
                },
            )
            till.invalidate_recordset()
            return till

        def raised():
            return "\n".join(s for s in Till._check_alerts() if "Till C" in s)

        till = report(table["fn_expiry"]["yellow"], table["fn_memory"]["yellow"] - 1)
        self.assertEqual(till.fn_days_left, 30)
        self.assertEqual(till.health, "ok")
        self.assertEqual(till._health_result(company), {"level": "green", "reasons": []})
        self.assertEqual(raised(), "")
        till = report(table["fn_expiry"]["yellow"] - 1, table["fn_memory"]["yellow"])
        self.assertEqual(till.health, "warning")
        self.assertEqual(
            [(r["code"], r["level"]) for r in till._health_result(company)["reasons"]],
            [("fn_memory", "yellow"), ("fn_expiry", "yellow")],
        )
        text = raised()
        self.assertIn("near end of life", text)
        self.assertIn("almost full", text)
        till = report(table["fn_expiry"]["red"] - 1, table["fn_memory"]["red"])
        self.assertEqual(till.health, "alarm")
        self.assertEqual({r["level"] for r in till._health_result(company)["reasons"]}, {"red"})
        # the company settings override single thresholds of the same rule
        company.write({"ru54fz_fn_alert_days": 60, "ru54fz_fn_memory_alert_pct": 50})
        till = report(59, 50)
        self.assertEqual(till.health, "warning")
        self.assertEqual(
            [r["code"] for r in till._health_result(company)["reasons"]], ["fn_memory", "fn_expiry"]
        )
        # silence: the rule's 30 minutes
        till.write(
            {"last_contact": fields.Datetime.now() - timedelta(minutes=table["till_silent"]["yellow"] - 1)}
        )
        self.assertNotIn("has not reported", raised())
        till.write(
            {"last_contact": fields.Datetime.now() - timedelta(minutes=table["till_silent"]["yellow"] + 1)}
        )
        self.assertIn("has not reported", raised())
        # documents unconfirmed by the OFD: the alert comes at the rule's red threshold
        doc = self._doc(config, 9)
        doc.write({"ofd_state": "pending"})
        red = table["ofd_backlog"]["red"]
        doc.write({"doc_time": fields.Datetime.now() - timedelta(days=red - 1)})
        till.invalidate_recordset()
        self.assertEqual(till.health, "warning")
        self.assertNotIn(doc.name, "\n".join(Till._check_alerts()))
        doc.write({"doc_time": fields.Datetime.now() - timedelta(days=red, hours=1)})
        till.invalidate_recordset()
        self.assertEqual(till.health, "alarm")
        self.assertIn(
            ("ofd_backlog", "red"), [(r["code"], r["level"]) for r in till._health_result(company)["reasons"]]
        )
        self.assertIn(f"unconfirmed for {red} days", "\n".join(Till._check_alerts()))
