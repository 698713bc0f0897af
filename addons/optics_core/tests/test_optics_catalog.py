from odoo import Command
from odoo.exceptions import ValidationError
from odoo.tests import tagged

from .common import OpticsCase


@tagged("post_install", "-at_install")
class TestOpticsCatalog(OpticsCase):
    def test_design_is_one_product_without_power_variants(self):
        self.assertEqual(self.lens_sv_tmpl.product_variant_count, 1)
        self.assertEqual(self.design_sv.diameters, "65, 70")
        self.assertEqual(self.lens_sv_tmpl.lens_design_ids, self.design_sv)

    def test_makeability_on_both_meridians_through_the_orm(self):
        design = self.design_sv
        ok = design._check_makeable({"od": {"sph": -6.0, "cyl": -2.0, "axis": 90}})
        self.assertTrue(ok.ok)
        self.assertEqual(ok.diameters, (65,))
        bad = design._check_makeable({"od": {"sph": -7.0, "cyl": -1.25, "axis": 90}})
        self.assertFalse(bad.ok)
        self.assertEqual([p.values["meridian"] for p in bad.problems if p.code == "meridian_out"], [2])
        # a plus-cylinder prescription is transposed first: +5.00 +1.00 x 90 = +6.00 -1.00 x 180
        self.assertTrue(design._check_makeable({"od": {"sph": 5.0, "cyl": 1.0, "axis": 90}}).ok)
        self.assertFalse(design._check_makeable({"od": {"sph": 5.25, "cyl": 1.0, "axis": 90}}).ok)

    def test_plus_cylinder_manufacturer(self):
        design = self.design_sv.copy(
            {
                "name": "Plus-cyl design",
                "cyl_convention": "plus",
                "range_ids": [
                    Command.create({"diameter": 65, "sph_min": -8, "sph_max": 6, "cyl_min": 0, "cyl_max": 2})
                ],
            }
        )
        self.assertTrue(design._check_makeable({"od": {"sph": -2.0, "cyl": -2.0, "axis": 10}}).ok)
        self.assertFalse(design._check_makeable({"od": {"sph": -2.0, "cyl": -2.25, "axis": 10}}).ok)

    def test_design_and_range_validation(self):
        with self.assertRaises(ValidationError) as cm:
            self.design_sv.copy({"index": 1.80})
        self.assertIn("1.50 … 1.74", str(cm.exception))
        with self.assertRaises(ValidationError) as cm:
            self.design_sv.range_ids[0].write({"sph_min": 7.0})
        self.assertIn("SPH from", str(cm.exception))
        with self.assertRaises(ValidationError):
            self.design_sv.range_ids[0].write({"diameter": 120})

    def test_frame_sizes_validated(self):
        with self.assertRaises(ValidationError) as cm:
            self.frame.write({"frame_b": 90})
        self.assertIn("B (mm)", str(cm.exception))
        with self.assertRaises(ValidationError):
            self.frame.write({"frame_progressive_height": 45})

    def test_tax_vat_code_drives_the_1199_tag(self):
        order = self._order(frame_product_id=self.frame.id)
        order.action_fill_kit_lines()
        line = order.line_ids.filtered(lambda ln: ln.role == "frame")
        self.assertEqual(line._get_ffd_vat_code(), 6)
        line.tax_ids = self.tax_22
        self.assertEqual(line._get_ffd_vat_code(), 11)
        line.tax_ids = False
        self.assertEqual(line._get_ffd_vat_code(), 6)
