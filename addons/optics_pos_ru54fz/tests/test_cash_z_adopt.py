from odoo.exceptions import AccessError, UserError
from odoo.tests import HttpCase, tagged

from .cash_common import CashSessionCommon, pdf_text


@tagged("post_install", "-at_install")
class TestZReportAdoption(CashSessionCommon, HttpCase):
    """The till closed the shift while central was down; its Z report arrives later, once.

    An HttpCase: wkhtmltopdf fetches the report's assets from this server, which must
    see the test transaction."""

    def _close_shift_entry(self, uuid, shift=7, fd=41):
        return {
            "uuid": uuid,
            "hlc": "99",
            "kind": "close_shift",
            "till_code": "T1",
            "state": "fiscalised",
            "payload": {"cashier": "Ivanova A."},
            "fiscal": {
                "fd_number": fd,
                "fiscal_sign": 3141592653,
                "fn_serial": "9960440300112233",
                "shift_number": shift,
                "doc_time": "2026-11-22T21:05:00",
                "fd_type": 5,
                # the shift counters as the Shtrih driver reads them (kopecks)
                "extra": {
                    "shift_number": shift,
                    "shift_open": True,
                    "receipts": {
                        "sale": {
                            "count": 3,
                            "cash": 3000000,
                            "electronic": 0,
                            "prepayment": 0,
                            "credit": 0,
                            "other": 0,
                            "total": 3000000,
                        },
                        "sale_refund": {
                            "count": 0,
                            "cash": 0,
                            "electronic": 0,
                            "prepayment": 0,
                            "credit": 0,
                            "other": 0,
                            "total": 0,
                        },
                    },
                    "cash_in": {"count": 0, "total": 0},
                    "cash_out": {"count": 0, "total": 0},
                    "cash_in_drawer": 3000000,
                    "ofd": {
                        "unconfirmed_count": 2,
                        "first_unconfirmed_fd": 39,
                        "oldest_unconfirmed_at": "2026-11-22T20:59:00",
                    },
                },
            },
        }

    def test_offline_z_adopted_once_and_closes_session(self):
        session = self.open_new_session(0.0)
        self.sync_orders([self.cash_order([(self.product, 1)]) for _i in range(3)])
        entry = self._close_shift_entry(self.new_uuid())
        Session = self.env["pos.session"]
        Session._ru54fz_ingest_till_entries(self.config, [entry])
        Session._ru54fz_ingest_till_entries(self.config, [entry])  # pushed again
        reports = self.env["optics.shift.report"].search([("config_id", "=", self.config.id)])
        self.assertEqual(len(reports), 1)
        report = reports
        self.assertEqual(report.source, "till")
        self.assertEqual(report.shift_number, 7)
        self.assertEqual(report.fd_number, 41)
        self.assertEqual(report.fiscal_sign, "3141592653")
        self.assertEqual(report.sale_total, 30000.0)
        self.assertEqual(report.receipt_count, 3)
        self.assertEqual(report.ofd_unconfirmed_count, 2)
        self.assertFalse(report.session_id)
        with self.assertRaises(UserError):
            report.write({"shift_number": 8})

        # a cashier may reconcile but not close the fiscal shift
        with self.assertRaises(AccessError):
            self.reconcile_wizard(session, self.cashier, mode="z_report", counted={5000: 6}).action_confirm()
        wizard = self.reconcile_wizard(session, self.manager, mode="z_report", counted={5000: 6})
        self.assertEqual(wizard.pending_report_id, report)
        self.assertFalse(wizard.kkt_error)
        self.assertTrue(all(wizard.kkt_line_ids.mapped("ok")), wizard.mismatch_html)
        action = wizard.action_confirm()
        self.assertEqual(session.state, "closed")
        self.assertEqual(report.session_id, session)
        self.assertEqual(action["report_name"], "optics_pos_ru54fz.report_shift_z")
        # delivered again after the session closed: still the one report
        Session._ru54fz_ingest_till_entries(self.config, [entry])
        self.assertEqual(
            self.env["optics.shift.report"].search_count([("config_id", "=", self.config.id)]), 1
        )

        pdf, kind = (
            self.env["ir.actions.report"]
            .with_context(force_report_rendering=True)
            ._render_qweb_pdf("optics_pos_ru54fz.action_report_shift_z", report.ids)
        )
        self.assertEqual(kind, "pdf")
        text = pdf_text(pdf)
        self.assertIn("shift 7", text)
        self.assertIn("3141592653", text)
        self.assertIn("30,000.00", text)
        self.assertIn(session.name, text)

    def test_mismatching_counters_are_listed(self):
        session = self.open_new_session(0.0)
        self.sync_orders([self.cash_order([(self.product, 1)]) for _i in range(2)])
        self.env["pos.session"]._ru54fz_ingest_till_entries(
            self.config, [self._close_shift_entry(self.new_uuid())]
        )
        wizard = self.reconcile_wizard(session, self.manager, mode="z_report", counted={5000: 4})
        bad = wizard.kkt_line_ids.filtered(lambda ln: not ln.ok)
        self.assertEqual(len(bad), 2)  # cash sales and the drawer
        sales = bad.filtered("blocking")
        self.assertEqual(sales.label, "Cash sales")
        self.assertEqual(sales.session_amount, 20000.0)
        self.assertEqual(sales.kkt_amount, 30000.0)
        self.assertEqual(sales.difference, 10000.0)
        self.assertIn("KKT", wizard.mismatch_html)
        with self.assertRaisesRegex(UserError, "do not match"):
            wizard.action_confirm()
        self.assertEqual(session.state, "opened")
