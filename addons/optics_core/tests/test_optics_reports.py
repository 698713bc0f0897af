import io
import shutil

from odoo.tests import tagged
from odoo.tools.misc import find_in_path

from .common import OpticsCase


def _wkhtmltopdf():
    try:
        return find_in_path("wkhtmltopdf")
    except OSError:
        return shutil.which("wkhtmltopdf")


@tagged("post_install", "-at_install")
class TestOpticsReports(OpticsCase):
    def _confirmed_order(self):
        order = self._order(
            frame_product_id=self.frame.id,
            od_design_id=self.design_sv.id,
            os_design_id=self.design_sv.id,
            lab_notes="Bevel for nylor",
            supplier_ref="SUP-42",
        )
        order.action_confirm()
        return order

    def test_prescription_html(self):
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("optics_core.report_prescription", self.rx.ids)[0]
            .decode()
        )
        self.assertIn("Prescription", html)
        self.assertIn(self.customer.name, html)
        self.assertIn("-2.25", html)
        self.assertIn("-0.75", html)
        # OS is written in plus cylinder: the minus form is printed too
        self.assertIn("Minus-cylinder form", html)
        self.assertIn("-1.50", html)

    def test_job_ticket_html_uses_the_snapshot(self):
        order = self._confirmed_order()
        self.rx.write({"od_sph": -4.75})
        html = (
            self.env["ir.actions.report"]
            ._render_qweb_html("optics_core.report_lab_order_ticket", order.ids)[0]
            .decode()
        )
        self.assertIn(order.name, html)
        self.assertIn("Bevel for nylor", html)
        self.assertIn("Test SV 1.60", html)
        self.assertIn("-2.25", html)
        self.assertNotIn("-4.75", html)
        self.assertIn("4600000000017", html)


@tagged("post_install", "-at_install")
class TestOpticsReportsPdf(OpticsCase):
    """PDF through the real wkhtmltopdf.

    report.url points to a closed port: wkhtmltopdf must not call back into this server while
    the test transaction holds locks (it would wait forever), and without the web-font CSS the
    unpatched-Qt wkhtmltopdf writes real text (with the fonts it draws glyph outlines that no
    PDF reader can extract).  Layout is not under test here; content is.
    """

    def test_pdf_render(self):
        if not _wkhtmltopdf():
            self.skipTest("wkhtmltopdf is not installed")
        from pypdf import PdfReader

        self.env["ir.config_parameter"].sudo().set_param("report.url", "http://127.0.0.1:9")
        order = self._order(
            frame_product_id=self.frame.id, od_design_id=self.design_sv.id, os_design_id=self.design_sv.id
        )
        order.action_confirm()
        report = self.env["ir.actions.report"]
        for name, ids, expected in (
            ("optics_core.report_prescription", self.rx.ids, "Prescription"),
            ("optics_core.report_lab_order_ticket", order.ids, order.name),
        ):
            pdf, fmt = report.with_context(force_report_rendering=True)._render_qweb_pdf(name, ids)
            self.assertEqual(fmt, "pdf")
            self.assertTrue(pdf.startswith(b"%PDF"))
            # wkhtmltopdf places words separately: compare on normalised whitespace
            text = " ".join(
                " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages).split()
            )
            self.assertIn(expected, text)
            self.assertIn(self.customer.name, text)
