"""The OFD pipeline end to end: till push over HTTP -> fiscal documents -> queue_job jobs
run by the real job runner -> mock OFD over TCP -> tickets back to the till."""

import logging
import threading
import time

from odoo import SUPERUSER_ID, api
from odoo.tests import tagged
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from .ofd_common import FN, OfdRunnerCase


@tagged("post_install", "-at_install")
class TestOfdPipeline(OfdRunnerCase):
    def submissions(self, fd):
        return self.ofd.control.submissions(FN, fd)

    def test_online_delivery_and_tickets_back_to_the_till(self):
        status, reply = self.push(self.entries(range(1, 6)))
        self.assertEqual(status, 200, reply)
        self.assertEqual(len(reply["accepted"]), 5)
        self.wait_all("acknowledged", 5)
        self.assertEqual([self.submissions(fd) for fd in range(1, 6)], [1] * 5)
        with self.committed() as env:
            docs = self.docs(env)
            self.assertTrue(all(d.ofd_confirmed_at and d.ticket and d.attempts == 1 for d in docs))
            # 5 documents, batch size 2: three jobs on the fiscal channel, all done
            jobs = env["queue.job"].search([("model_name", "=", "optics.fiscal.document")])
            self.assertEqual(len(jobs), 3)
            self.assertEqual(set(jobs.mapped("channel")), {"root.fiscal_ofd"})
            self.assertEqual(set(jobs.mapped("state")), {"done"})
        # the next push carries the confirmations back, until the FN status says they are in
        status, reply = self.push([])
        self.assertEqual(sorted(t["fd_number"] for t in reply["tickets"]), [1, 2, 3, 4, 5])
        status, reply = self.push(
            [], status={"fn": {"fn_serial": FN, "unconfirmed_count": 2, "first_unconfirmed_fd": 4}}
        )
        self.assertEqual(sorted(t["fd_number"] for t in reply["tickets"]), [4, 5])
        status, reply = self.push([], status={"fn": {"fn_serial": FN, "unconfirmed_count": 0}})
        self.assertEqual(reply["tickets"], [])

    def test_tickets_go_back_even_when_a_pos_sync_just_wrote_the_document(self):
        self.push(self.entries([1, 2]))
        self.wait_all("acknowledged", 2)
        with self.committed() as env:
            config = env["pos.config"].browse(self.config_id)
            doc_id = self.docs(env)[0].id
        # the push's transaction has its snapshot; then a POS order sync of the same receipt
        # commits its write to the document (as _ru54fz_link_orders does)
        with self.registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            cr.execute(SQL("SELECT 1"))
            with self.committed() as other:
                other.cr.execute(
                    SQL("UPDATE optics_fiscal_document SET write_date = now() WHERE id = %s", doc_id)
                )
            # the conflict is noted at INFO, not logged as an ERROR ("bad query") for the
            # administrator to chase
            with (
                self.assertNoLogs(level="ERROR"),
                # logging.INFO, not "INFO": Odoo names its level 25 (runbot) "INFO" too
                self.assertLogs(
                    "odoo.addons.optics_pos_ru54fz.models.optics_fiscal_document", logging.INFO
                ) as logged,
            ):
                tickets = env["optics.fiscal.document"]._pending_tickets(env["pos.config"].browse(config.id))
            self.assertIn("rows written concurrently", "\n".join(logged.output))
            # the tickets still go (the back-office note of when is what gives way) and the
            # push's transaction is intact: no serialization failure replays the whole push
            self.assertEqual(sorted(t["fd_number"] for t in tickets), [1, 2])
            cr.execute(SQL("SELECT count(*) FROM optics_fiscal_document WHERE id = %s", doc_id))
            self.assertEqual(cr.fetchone()[0], 1)
            cr.rollback()

    def test_outage_backlog_then_recovery(self):
        self.ofd.control.set_mode("refuse")
        self.push(self.entries(range(1, 7)))
        self.wait_for(lambda: self.breaker_state() == "open", 20, "the breaker to open")
        with self.committed() as env:
            docs = self.docs(env)
            self.assertTrue(all(d.ofd_state in ("pending", "sending", "failed") for d in docs))
            self.assertIn("cannot connect", " ".join(d.last_error or "" for d in docs))
        self.ofd.control.set_mode("online")
        self.wait_all("acknowledged", 6, timeout=40)
        self.assertEqual([self.submissions(fd) for fd in range(1, 7)], [1] * 6)
        self.assertEqual(self.breaker_state(), "closed")
        with self.committed() as env:
            logs = env["optics.fiscal.document.log"].search(
                [("document_id.pos_config_id", "=", self.config_id), ("kind", "=", "transport")]
            )
            self.assertTrue(logs, "the failed attempts are in the error history")

    def test_flapping_link(self):
        self.push(self.entries(range(1, 11)))
        stop = time.time() + 5
        mode = "refuse"
        while time.time() < stop:
            self.ofd.control.set_mode(mode)
            mode = "online" if mode == "refuse" else "refuse"
            time.sleep(0.4)
        self.ofd.control.set_mode("online")
        self.wait_all("acknowledged", 10, timeout=60)
        # refused connections never reach the OFD: every document arrived exactly once
        self.assertEqual([self.submissions(fd) for fd in range(1, 11)], [1] * 10)

    def test_slow_ofd(self):
        self.ofd.control.set_mode("slow", slow_ms=300)
        self.push(self.entries(range(1, 4)))
        self.wait_all("acknowledged", 3, timeout=30)
        self.assertEqual([self.submissions(fd) for fd in range(1, 4)], [1] * 3)
        # slower than the answer timeout: timeouts, retries, then recovery
        self.ofd.control.set_mode("slow", slow_ms=3000)
        self.push(self.entries([10]))
        self.wait_for(lambda: self._log_contains(10, "did not answer within"), 20, "a timeout")
        self.ofd.control.set_mode("online")
        self.wait_for(lambda: self.states().get(10) == "acknowledged", 40, "recovery")

    def test_rejection_goes_to_the_dead_letter_queue_at_once(self):
        self.ofd.control.set_mode(
            "reject", reject_fds=[2], reject_code=14, reject_message="Неверный фискальный признак"
        )
        self.push(self.entries(range(1, 4)))
        self.wait_for(
            lambda: self.states() == {1: "acknowledged", 2: "dead_lettered", 3: "acknowledged"},
            30,
            "one rejection, two confirmations",
        )
        self.assertEqual(self.submissions(2), 1, "a rejection is never retried")
        with self.committed() as env:
            doc = self.docs(env).filtered(lambda d: d.fd_number == 2)
            self.assertEqual(doc.attempts, 1)
            letter = doc.dead_letter_ids
            self.assertEqual(len(letter), 1)
            self.assertEqual((letter.kind, letter.state), ("rejected", "open"))
            self.assertIn("code 14: Неверный фискальный признак", letter.reason)
            self.assertIn("rejected", letter.error_history)

    def test_malformed_message_is_dead_lettered_without_reaching_the_ofd(self):
        entry = self.entries([1])[0]
        entry["ofd_message"] = "AAAA" + entry["ofd_message"][4:]  # breaks the frame
        self.push([entry])
        self.wait_for(lambda: self.states().get(1) == "dead_lettered", 20, "dead letter")
        self.assertEqual(self.ofd.control.stats()["total_submissions"], 0)
        with self.committed() as env:
            letter = self.docs(env).dead_letter_ids
            self.assertEqual(letter.kind, "malformed")
            self.assertIn("malformed", letter.reason)

    def test_garbage_answers_are_retried(self):
        self.ofd.control.set_mode("garbage")
        self.push(self.entries([1]))
        self.wait_for(lambda: self._log_contains(1, "unusable answer"), 20, "a garbage answer")
        self.ofd.control.set_mode("online")
        self.wait_for(lambda: self.states().get(1) == "acknowledged", 30, "recovery")

    def test_confirm_twice_is_harmless(self):
        self.ofd.control.set_mode("confirm_twice")
        self.push(self.entries(range(1, 5)))
        self.wait_all("acknowledged", 4)
        self.assertEqual([self.submissions(fd) for fd in range(1, 5)], [1] * 4)

    def test_breaker_opens_stops_spending_attempts_half_opens_and_closes(self):
        # generous timings: the half-open probe must be observable on a loaded machine
        self.set_company(ru54fz_breaker_cool_down=6, ru54fz_ofd_read_timeout=3)
        self.ofd.control.set_mode("refuse")
        self.push(self.entries([1]))
        self.wait_for(lambda: self.breaker_state() == "open", 20, "the breaker to open")

        def attempts():
            with self.committed() as env:
                return self.docs(env).attempts

        # the breaker row and the document's attempt counter are committed by different
        # transactions (the breaker's first), so the open breaker may be seen a moment before
        # the counter: wait for the attempt that opened it
        self.wait_for(lambda: attempts() >= self.threshold, 10, "the opening attempt to be recorded")
        attempts_at_open = attempts()
        self.assertEqual(attempts_at_open, self.threshold)
        time.sleep(2)
        with self.committed() as env:
            self.assertEqual(
                self.docs(env).attempts, attempts_at_open, "no attempt is spent while the breaker is open"
            )
        # the probe after the cool-down hangs on a silent OFD: the breaker is half-open meanwhile
        self.ofd.control.set_mode("blackhole")
        self.wait_for(lambda: self.breaker_state() == "half_open", 30, "the half-open probe", interval=0.05)
        self.wait_for(
            lambda: self.breaker_state() == "open", 30, "the failed probe to reopen it", interval=0.05
        )
        # the breaker row and the document's attempt counter are committed by different
        # transactions, so the reopened breaker may be seen a moment before the counter
        self.wait_for(lambda: attempts() != attempts_at_open, 10, "the probe's attempt to be recorded")
        self.assertEqual(attempts(), attempts_at_open + 1, "the probe is one attempt")
        self.ofd.control.set_mode("online")
        self.wait_for(lambda: self.states().get(1) == "acknowledged", 30, "the successful probe")
        self.assertEqual(self.breaker_state(), "closed")

    def test_the_backlog_goes_out_as_soon_as_the_probe_succeeds(self):
        # one job per document; a cool-down of 40 s postpones the jobs that find the probe
        # under way by 10 s (a quarter of it); answers take 1.5 s
        self.set_company(ru54fz_breaker_cool_down=40, ru54fz_ofd_batch_size=1, ru54fz_ofd_read_timeout=5)
        self.ofd.control.set_mode("slow", slow_ms=1500)
        with self.committed() as env:
            company = env["res.company"].browse(self.company_id)
            breaker_id = env["optics.ofd.breaker"]._get_for(company).storage.breaker_id
        # the OFD was down: the breaker opened 39 s ago, its probe is due in a second (a new
        # transaction: the row was made by one of its own, after the first one's snapshot)
        with self.committed() as env:
            env.cr.execute(
                SQL(
                    "UPDATE optics_ofd_breaker SET state = 'open', failures = %s, opened_at ="
                    " (now() at time zone 'UTC') - interval '39 seconds' WHERE id = %s",
                    self.threshold,
                    breaker_id,
                )
            )
        self.assertEqual(self.breaker_state(), "open")
        self.push(self.entries(range(1, 6)))
        # one job probes (half-open, 1.5 s), the others find it under way and are postponed by
        # 10 s; the probe's answer closes the breaker
        self.wait_for(lambda: self.breaker_state() == "closed", 30, "the probe to succeed", interval=0.05)
        closed_at = time.time()
        # the documents whose jobs were postponed behind the probe go now, not 10 s later
        self.wait_all("acknowledged", 5, timeout=6)
        self.assertLess(time.time() - closed_at, 6)
        self.assertEqual([self.submissions(fd) for fd in range(1, 6)], [1] * 5)

    def test_attempts_exhausted_go_to_the_dead_letter_queue_with_history(self):
        self.set_company(ru54fz_ofd_max_attempts=3, ru54fz_breaker_threshold=50)
        self.ofd.control.set_mode("refuse")
        self.push(self.entries([1, 2]))
        self.wait_for(lambda: self.states().get(1) == "dead_lettered", 30, "the first dead letter")
        with self.committed() as env:
            doc = self.docs(env).filtered(lambda d: d.fd_number == 1)
            self.assertEqual(doc.attempts, 3)
            letter = doc.dead_letter_ids
            self.assertEqual(letter.kind, "exhausted")
            self.assertEqual(letter.error_history.count("transport"), 3)
        self.ofd.control.set_mode("online")
        # the other document of the batch moves on with its own budget
        self.wait_for(lambda: self.states().get(2) == "acknowledged", 30, "the second document")

    # ---------------------------------------------------------- exactly once
    def test_two_workers_racing_submit_once(self):
        """Two workers run the delivery of the same claimed documents at the same time."""
        self.ofd.control.set_mode("slow", slow_ms=400)
        with self.committed() as env:
            Doc = env["optics.fiscal.document"]
            config = env["pos.config"].browse(self.config_id)
            vals = [Doc._entry_to_values(e, config) for e in self.entries([1, 2])]
            for v in vals:
                v.update(company_id=self.company_id, pos_config_id=self.config_id)
            docs, _created = Doc._upsert(vals)
            env.cr.execute(
                SQL(
                    "UPDATE optics_fiscal_document SET ofd_job_key = 'race-key' WHERE id IN %s",
                    tuple(docs.ids),
                )
            )
            ids = docs.ids
        barrier = threading.Barrier(2)
        outcomes = []

        # The environments are made here: while the tests run, the main thread holds the
        # registry lock that creating the first environment of a cursor takes.
        cursors = [self.registry.cursor() for _ in range(2)]
        envs = [api.Environment(cr, SUPERUSER_ID, {}) for cr in cursors]
        for cr in cursors:
            self.addCleanup(cr.close)

        def worker(env):
            try:
                barrier.wait(30)
                try:
                    outcomes.append(env["optics.fiscal.document"].browse(ids)._ofd_deliver("race-key"))
                    env.cr.commit()
                except RetryableJobError as exc:
                    outcomes.append(f"postponed: {exc}")
                    env.cr.rollback()
            except Exception as exc:  # noqa: BLE001  (reported by the assertion below)
                outcomes.append(f"crashed: {exc!r}")

        threads = [threading.Thread(target=worker, args=(env,)) for env in envs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        if any(t.is_alive() for t in threads):
            import faulthandler
            import sys

            faulthandler.dump_traceback(file=sys.stderr)
        self.assertFalse([o for o in outcomes if o.startswith("crashed")], outcomes)
        self.assertEqual(len(outcomes), 2, outcomes)
        self.assertEqual(self.states(), {1: "acknowledged", 2: "acknowledged"})
        self.assertEqual((self.submissions(1), self.submissions(2)), (1, 1), outcomes)

    def test_requeued_job_does_not_submit_again(self):
        self.push(self.entries([1]))
        self.wait_all("acknowledged", 1)
        self.wait_for(lambda: self._job_states() == {"done"}, 20, "the job to finish")
        with self.committed() as env:
            job = env["queue.job"].search([("model_name", "=", "optics.fiscal.document")])
            job.requeue()
        self.wait_for(
            lambda: self._job_states() == {"done"} and self._job_result_contains("already handled"),
            20,
            "the requeued job to finish",
        )
        self.assertEqual(self.submissions(1), 1)

    def test_till_re_push_and_concurrent_pushes_never_duplicate(self):
        entries = self.entries(range(1, 4))
        results = []

        def push():
            results.append(self.push(entries))

        threads = [threading.Thread(target=push) for _ in range(3)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual([r[0] for r in results], [200, 200, 200], results)
        self.wait_all("acknowledged", 3)
        status, reply = self.push(entries)  # the till did not get the answer and pushes again
        self.assertEqual(sorted(reply["accepted"]), sorted(e["uuid"] for e in entries))
        time.sleep(1)
        with self.committed() as env:
            self.assertEqual(len(self.docs(env)), 3)
            jobs = env["queue.job"].search([("model_name", "=", "optics.fiscal.document")])
            self.assertEqual(len(jobs), 2, "3 documents in batches of 2, enqueued once")
        self.assertEqual([self.submissions(fd) for fd in range(1, 4)], [1] * 3)

    def test_a_push_does_not_wait_for_the_pos_sync_of_the_same_receipt(self):
        """The POS order sync of a receipt holds its document's uuid until it commits (Odoo's
        stock picking included); the till's push of that receipt, sent at the same moment,
        is answered at once with the entry deferred, and the till's next poll stores it.
        (Were the push to wait for the lock, it would hang here: the sync's transaction is
        only rolled back after the push has answered.)"""
        entry = self.entries([5])[0]
        with self.registry.cursor() as sync_cr:
            sync_env = api.Environment(sync_cr, SUPERUSER_ID, {})
            sync_env["optics.fiscal.document"]._upsert(
                [
                    {
                        "uuid": entry["uuid"],
                        "kind": "sale",
                        "company_id": self.company_id,
                        "pos_config_id": self.config_id,
                        "till_code": self.till_code,
                        "total": 10000,
                        "ofd_state": "pending",
                    }
                ],
                source="pos",
            )
            status, reply = self.push([entry])
            sync_cr.rollback()  # this sync failed: the till's push is the only copy
        self.assertEqual(status, 200, reply)
        self.assertEqual((reply["accepted"], reply["deferred"]), ([], [entry["uuid"]]))
        self.assertEqual(self.states(), {}, "nothing of the deferred push is stored")
        status, reply = self.push([entry])
        self.assertEqual((status, reply["accepted"]), (200, [entry["uuid"]]))
        self.wait_all("acknowledged", 1)
        self.assertEqual(self.submissions(5), 1)

    # ---------------------------------------------------------- endpoint contract
    def test_push_authentication_and_validation(self):
        status, reply = self.push(self.entries([1]), token="wrong")
        self.assertEqual((status, reply["error"]["code"]), (401, "unauthorized"))
        status, reply = self.push(self.entries([1]), till_code="NO-SUCH-TILL")
        self.assertEqual(status, 401)
        status, reply = self.push([], raw=b"{not json")
        self.assertEqual((status, reply["error"]["code"]), (400, "request_invalid"))
        good = self.entries([1])[0]
        bad = dict(self.entries([2])[0], kind="teleport")
        status, reply = self.push([good, bad])
        self.assertEqual(status, 400)
        self.assertIn("unknown kind 'teleport'", reply["error"]["message"])
        self.assertEqual(self.states(), {}, "a rejected push stores nothing")
        cash = self.entries([3], kind="cash_in", message=b"")[0]
        cash["fiscal"] = None
        status, reply = self.push([cash])
        self.assertEqual(status, 200)
        with self.committed() as env:
            self.assertEqual(self.docs(env).ofd_state, "not_applicable")

    def test_metrics_endpoint(self):
        import urllib.error
        import urllib.request

        with self.committed() as env:
            env["ir.config_parameter"].set_param("optics_pos_ru54fz.metrics_token", "metrics-secret")
        self.addCleanup(self._clear_metrics_token)
        self.ofd.control.set_mode("refuse")
        self.push(
            self.entries([1, 2]),
            status={
                "fn": {"fn_serial": FN, "fn_valid_until": "2027-06-01", "fn_memory_used_pct": 42},
                "journal": {"undelivered": 7},
            },
        )
        url = f"{self.server.url}/optics_pos_ru54fz/metrics"
        with self.assertRaises(urllib.error.HTTPError) as cm:
            urllib.request.urlopen(url, timeout=30)
        self.assertEqual(cm.exception.code, 401)
        req = urllib.request.Request(url, headers={"Authorization": "Bearer metrics-secret"})
        with urllib.request.urlopen(req, timeout=30) as resp:
            text = resp.read().decode()
        labels = f'till="{self.till_code}",store="{self.till_code}"'
        self.assertIn(f"optics_till_ofd_backlog{{{labels}}} 2", text)
        self.assertIn(f"optics_till_journal_backlog{{{labels}}} 7", text)
        self.assertIn(f"optics_till_fn_memory_used_percent{{{labels}}} 42", text)
        self.assertIn("# TYPE optics_ofd_breaker_state gauge", text)

    # ------------------------------------------------------------------ helpers
    def _clear_metrics_token(self):
        with self.committed() as env:
            env["ir.config_parameter"].set_param("optics_pos_ru54fz.metrics_token", False)

    def _log_contains(self, fd, text):
        with self.committed() as env:
            doc = self.docs(env).filtered(lambda d: d.fd_number == fd)
            return any(text in (log.message or "") for log in doc.log_ids)

    def _job_states(self):
        with self.committed() as env:
            return set(
                env["queue.job"].search([("model_name", "=", "optics.fiscal.document")]).mapped("state")
            )

    def _job_result_contains(self, text):
        with self.committed() as env:
            return any(
                text in (j.result or "")
                for j in env["queue.job"].search([("model_name", "=", "optics.fiscal.document")])
            )
