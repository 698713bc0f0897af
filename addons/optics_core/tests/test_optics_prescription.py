from dateutil.relativedelta import relativedelta

from odoo import fields
from odoo.exceptions import UserError, ValidationError
from odoo.tests import tagged

from .common import OpticsCase

# field -> (just inside, just outside, extra values that make the field relevant)
BOUNDS = {
    "sph": ([-30.0, 30.0], [-30.25, 30.25], {}),
    "cyl": ([-10.0, 10.0], [-10.25, 10.25], {"axis": 90}),
    "axis": ([1, 180], [181], {"cyl": -1.0}),
    "add": ([0.5, 4.0], [0.25, 4.25], {}),
    "prism1": ([0.25, 10.0], [10.25], {"prism1_base": "up"}),
    "pd_far": ([20.0, 40.0], [19.5, 40.5], {}),
    "pd_near": ([20.0, 40.0], [19.5, 40.5], {}),
    "fitting_height": ([10.0, 40.0], [9.5, 40.5], {}),
    "va_cc": ([0.01, 2.0], [2.01], {}),
    "bc": ([7.0, 10.5], [6.95, 10.55], {}),
    "dia": ([8.0, 16.0], [7.9, 16.1], {}),
}
LABELS = {
    "sph": "SPH",
    "cyl": "CYL",
    "axis": "AXIS",
    "add": "ADD",
    "prism1": "Prism 1",
    "pd_far": "PD far",
    "pd_near": "PD near",
    "fitting_height": "Fitting height",
    "va_cc": "Visual acuity with correction",
    "bc": "Base curve",
    "dia": "Diameter",
}
EYES = {"od": "OD (right eye)", "os": "OS (left eye)"}


@tagged("post_install", "-at_install")
class TestOpticsPrescription(OpticsCase):
    def _create(self, **vals):
        values = {"partner_id": self.customer.id, "purpose": "distance"}
        values.update(vals)
        return self.env["optics.prescription"].create(values)

    def test_every_field_inside_and_outside_both_eyes(self):
        for eye, eye_label in EYES.items():
            for field, (inside, outside, extra) in BOUNDS.items():
                base = {f"{eye}_{k}": v for k, v in extra.items()}
                for value in inside:
                    with self.subTest(eye=eye, field=field, value=value):
                        rx = self._create(**base, **{f"{eye}_{field}": value})
                        self.assertEqual(rx[f"{eye}_{field}"], value)
                for value in outside:
                    with self.subTest(eye=eye, field=field, value=value):
                        with self.assertRaises(ValidationError) as cm:
                            self._create(**base, **{f"{eye}_{field}": value})
                        msg = str(cm.exception)
                        self.assertIn(eye_label, msg)
                        self.assertIn(LABELS[field], msg)
                        self.assertIn("allowed", msg)
                        other = "OS (left eye)" if eye == "od" else "OD (right eye)"
                        self.assertNotIn(other, msg)

    def test_range_is_named_in_the_message(self):
        with self.assertRaises(ValidationError) as cm:
            self._create(os_sph=-30.25)
        self.assertIn(
            "OS (left eye), SPH = -30.25: allowed -30.00 … +30.00 in steps of 0.25 D", str(cm.exception)
        )
        with self.assertRaises(ValidationError) as cm:
            self._create(od_add=4.25)
        self.assertIn("+0.50 … +4.00", str(cm.exception))

    def test_steps(self):
        for field, value in (("sph", -2.1), ("cyl", -0.3), ("add", 1.1)):
            with self.subTest(field=field), self.assertRaises(ValidationError) as cm:
                self._create(**{f"od_{field}": value, "od_axis": 90 if field == "cyl" else 0})
            self.assertIn("steps of 0.25", str(cm.exception))

    def test_axis_required_iff_cylinder(self):
        for eye, label in EYES.items():
            with self.assertRaises(ValidationError) as cm:
                self._create(**{f"{eye}_sph": -1.0, f"{eye}_cyl": -0.5})
            self.assertIn(f"{label}, AXIS: required when CYL is not 0", str(cm.exception))
            with self.assertRaises(ValidationError) as cm:
                self._create(**{f"{eye}_sph": -1.0, f"{eye}_axis": 90})
            self.assertIn("must be empty when CYL is 0", str(cm.exception))

    def test_plus_cylinder_sphere_out_of_range_after_transposition(self):
        self._create(od_sph=28.0, od_cyl=2.0, od_axis=90)  # minus form +30.00 / -2.00 x 180
        with self.assertRaises(ValidationError) as cm:
            self._create(od_sph=28.25, od_cyl=2.0, od_axis=90)
        self.assertIn("minus-cylinder form", str(cm.exception))

    def test_written_notation_kept_and_minus_form_stored(self):
        rx = self._create(od_sph=-2.0, od_cyl=1.0, od_axis=20, os_sph=1.0, os_cyl=-0.5, os_axis=135)
        self.assertEqual((rx.od_sph, rx.od_cyl, rx.od_axis), (-2.0, 1.0, 20))
        self.assertEqual((rx.od_sph_minus, rx.od_cyl_minus, rx.od_axis_minus), (-1.0, -1.0, 110))
        self.assertEqual((rx.os_sph_minus, rx.os_cyl_minus, rx.os_axis_minus), (1.0, -0.5, 135))
        rx.write({"od_axis": 100})
        self.assertEqual(rx.od_axis_minus, 10)
        rx.write({"od_cyl": 0.0, "od_axis": 0})
        self.assertEqual((rx.od_sph_minus, rx.od_cyl_minus, rx.od_axis_minus), (-2.0, 0.0, 0))

    def test_prism_components(self):
        rx = self._create(
            od_prism1=2.0,
            od_prism1_base="up",
            od_prism2=1.5,
            od_prism2_base="in",
            os_prism1=1.0,
            os_prism1_base="angle",
            os_prism1_angle=225,
        )
        self.assertEqual(rx.os_prism1_angle, 225)
        with self.assertRaises(ValidationError) as cm:
            self._create(od_prism1=2.0)
        self.assertIn("a prism needs a base", str(cm.exception))
        with self.assertRaises(ValidationError) as cm:
            self._create(os_prism1=1.0, os_prism1_base="up", os_prism2=1.0, os_prism2_base="down")
        self.assertIn("OS (left eye)", str(cm.exception))
        with self.assertRaises(ValidationError):
            self._create(os_prism1=1.0, os_prism1_base="angle", os_prism1_angle=360)

    def test_binocular_values(self):
        self._create(pd_far=40.0, pd_near=80.0, vertex_distance=25.0)
        with self.assertRaises(ValidationError) as cm:
            self._create(pd_far=80.5)
        self.assertIn("Both eyes, Binocular PD far", str(cm.exception))

    def test_contact_lenses_need_base_curve_and_diameter(self):
        with self.assertRaises(ValidationError) as cm:
            self._create(purpose="contact_lenses", od_sph=-3.0, os_sph=-3.0, os_bc=8.6, os_dia=14.2)
        msg = str(cm.exception)
        self.assertIn("OD (right eye), Base curve: required", msg)
        self.assertIn("OD (right eye), Diameter: required", msg)
        self.assertNotIn("OS (left eye)", msg)
        rx = self._create(purpose="contact_lenses", cl_type="soft_sph", od_sph=-3.0, od_bc=8.6, od_dia=14.2)
        self.assertEqual(rx.kind, "contact_lenses")

    def test_bad_write_changes_nothing(self):
        rx = self._create(od_sph=-1.0)
        with self.assertRaises(ValidationError):
            rx.write({"od_sph": -2.0, "os_sph": 31.0})
        self.assertEqual(rx.od_sph, -1.0)

    def test_expiry_from_chain_setting_warns_only(self):
        self.company.optics_rx_validity_months = 6
        self.company.optics_cl_rx_validity_months = 3
        today = fields.Date.context_today(self.env["optics.prescription"])
        old = self._create(date=today - relativedelta(months=7), od_sph=-1.0)
        fresh = self._create(date=today - relativedelta(months=5), od_sph=-1.0)
        cl = self._create(date=today - relativedelta(months=4), purpose="contact_lenses")
        self.assertEqual(old.expiry_date, old.date + relativedelta(months=6))
        self.assertEqual(cl.expiry_date, cl.date + relativedelta(months=3))
        self.assertTrue(old.is_expired)
        self.assertFalse(fresh.is_expired)
        self.assertTrue(cl.is_expired)
        expired = self.env["optics.prescription"].search(
            [("partner_id", "=", self.customer.id), ("is_expired", "=", True)]
        )
        self.assertIn(old, expired)
        self.assertNotIn(fresh, expired)
        # Expired does not block: the glasses can still be ordered, with a warning in the chatter.
        order = self._order(prescription_id=old.id)
        self.assertTrue(order.prescription_expired)
        order.with_user(self.users["cashier"]).action_confirm()
        self.assertEqual(order.state, "confirmed")
        self.assertIn("expired", order.message_ids[0].body)

    def test_settings_expose_validity(self):
        settings = self.env["res.config.settings"].create({"optics_rx_validity_months": 24})
        settings.execute()
        self.assertEqual(self.company.optics_rx_validity_months, 24)

    def test_customer_card_counts_history_without_snapshots(self):
        order = self._order()
        order.action_confirm()
        self.assertTrue(order.rx_snapshot_id)
        self.assertEqual(self.customer.optics_prescription_count, 1)
        self.assertEqual(self.customer.optics_prescription_ids, self.rx)
        self.assertEqual(self.customer.optics_lab_order_count, 1)
        action = self.customer.action_view_optics_prescriptions()
        self.assertEqual(self.env["optics.prescription"].search(action["domain"]), self.rx)

    def test_snapshot_cannot_be_edited_or_deleted(self):
        order = self._order()
        order.action_confirm()
        snap = order.rx_snapshot_id
        with self.assertRaises(UserError):
            snap.write({"od_sph": -5.0})
        with self.assertRaises(UserError):
            snap.with_user(self.users["manager"]).unlink()
        self.assertEqual(snap.od_sph, -2.25)
