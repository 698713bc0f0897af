from odoo import fields
from odoo.tests import HttpCase, tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestOpticsScreens(HttpCase, OpticsCase):
    """The screens people use load in a real browser without a client error, as a store manager."""

    def _open(self, url, ready):
        self.browser_js(url, "console.log('test successful')", ready=ready, login="t_manager_a", timeout=90)

    def test_lab_order_screens(self):
        today = fields.Date.context_today(self.env["optics.lab.order"])
        order = self._order(
            frame_product_id=self.frame.id,
            od_design_id=self.design_sv.id,
            os_design_id=self.design_sv.id,
            promised_date=today,
        )
        order.action_confirm()
        action = "/odoo/action-optics_core.optics_lab_order_action"
        self._open(action, "document.querySelector('.o_kanban_renderer .o_kanban_record') !== null")
        self._open(
            f"{action}/{order.id}",
            "document.querySelector('.o_form_view .o_statusbar_status') !== null"
            " && document.body.textContent.includes('Test SV 1.60')",
        )
        self._open(
            "/odoo/action-optics_core.optics_lab_order_calendar_action",
            "document.querySelector('.o_calendar_renderer') !== null",
        )
        self._open(
            "/odoo/action-optics_core.optics_lab_order_overdue_action",
            "document.querySelector('.o_list_renderer') !== null",
        )

    def test_prescription_and_customer_card(self):
        self._open(
            f"/odoo/action-optics_core.optics_prescription_action/{self.rx.id}",
            "document.querySelector('.o_form_view') !== null"
            " && document.body.textContent.includes('Minus-cylinder form')",
        )
        self._open(
            f"/odoo/action-account.res_partner_action_customer/{self.customer.id}",
            "document.querySelector('.o_form_view') !== null"
            " && [...document.querySelectorAll('.o_notebook .nav-link')]"
            ".some(a => a.textContent.includes('Optics'))"
            " && document.body.textContent.includes('Prescriptions')",
        )
        self._open(
            "/odoo/action-optics_core.optics_lens_design_action",
            "document.querySelector('.o_list_renderer .o_data_row') !== null",
        )
