from odoo.tests import tagged

from odoo.addons.queue_job.job import Job

from .common import HEADER, ROWS, PricelistCase, xlsx_bytes

LENS_COLUMNS = {
    "article": "Код",
    "name": "Наименование",
    "price": "Цена / опт",
    "retail_price": "Цена / розн.",
    "sph_min": "SPH / от",
    "sph_max": "SPH / до",
    "cyl_min": "CYL / от",
    "cyl_max": "CYL / до",
    "lens_index": "Индекс",
    "coating": "Покрытие",
    "diameter": "Диаметр",
}
LENS_HEADER = [
    ["Код", "Наименование", "Цена", None, "SPH", None, "CYL", None, "Индекс", "Покрытие", "Диаметр"],
    [None, None, "опт", "розн.", "от", "до", "от", "до", None, None, None],
]
LENS_MERGES = ["A1:A2", "B1:B2", "C1:D1", "E1:F1", "G1:H1", "I1:I2", "J1:J2", "K1:K2"]
LENS_ROWS = [
    [
        "ESS-ORMA-15",
        "Essilor Orma 1.5 Crizal",
        "1 500,00",
        "2 990,00",
        -8,
        6,
        -4,
        0,
        "1,5",
        "Crizal",
        "65/70",
    ],
    ["HOY-NUL-16", "Hoya Nulux 1.6 HVLL", 2500, 4990, -10, 6, -2, 0, 1.6, "HVLL", 70],
]


@tagged("post_install", "-at_install")
class TestImportLensAndJob(PricelistCase):
    def lens_profile(self):
        return self.make_profile(LENS_COLUMNS, name="Линзы", header_rows="2", match_order="article,ean")

    def test_lens_ranges_from_merged_header(self):
        profile = self.lens_profile()
        data = xlsx_bytes(LENS_HEADER + LENS_ROWS, merges=LENS_MERGES)
        history = self.run_import(data, profile=profile)
        self.assertEqual((history.state, history.created_count), ("done", 2), history.message)
        design = self.env["optics.lens.design"].search([("name", "=", "Essilor Orma 1.5 Crizal")])
        self.assertEqual(len(design), 1)
        self.assertEqual(design.index, 1.5)
        self.assertEqual(design.coating_ids.name, "Crizal")
        self.assertEqual(design.product_tmpl_id.list_price, 2990.0)
        self.assertEqual(design.product_tmpl_id.optics_type, "spectacle_lens")
        self.assertEqual(
            sorted((r.diameter, r.sph_min, r.sph_max, r.cyl_min, r.cyl_max) for r in design.range_ids),
            [(65, -8.0, 6.0, -4.0, 0.0), (70, -8.0, 6.0, -4.0, 0.0)],
        )
        # the same file again: the designs and their ranges are not rewritten
        self.env.flush_all()
        stamp = (design.write_date, design.range_ids.ids)
        again = self.run_import(data, profile=profile)
        self.assertEqual((again.created_count, again.updated_count, again.unchanged_count), (0, 0, 2))
        self.assertEqual((design.write_date, design.range_ids.ids), stamp)
        # a new SPH range in next month's list replaces the range lines
        rows = [list(r) for r in LENS_ROWS]
        rows[0][4] = -10
        self.run_import(xlsx_bytes(LENS_HEADER + rows, merges=LENS_MERGES), profile=profile)
        self.assertEqual(set(design.range_ids.mapped("sph_min")), {-10.0})

    def test_failure_while_writing_rolls_everything_back(self):
        """optics_core refuses a 120 mm blank: the whole import is undone, the history says why."""
        profile = self.lens_profile()
        before = self.catalog_state()
        rows = [list(r) for r in LENS_ROWS]
        rows[1][10] = 120
        history = self.run_import(
            xlsx_bytes(LENS_HEADER + rows, merges=LENS_MERGES), profile=profile, mode="partial"
        )
        self.assertEqual(history.state, "failed")
        self.assertIn("120", history.message)
        self.assertEqual(self.catalog_state(), before)
        self.assertFalse(self.env["optics.lens.design"].search([("name", "like", "Essilor Orma")]))

    def test_large_file_runs_as_a_job_with_progress(self):
        self.env["ir.config_parameter"].sudo().set_param("connector_b.async_rows", 2)
        wizard = self.wizard(xlsx_bytes([HEADER] + ROWS))
        wizard.action_preview()
        self.assertTrue(wizard.runs_in_background)
        history = self.env["connector_b.import.history"].browse(wizard.action_import()["res_id"])
        self.assertEqual(history.state, "queued")
        self.assertFalse(self.supplier_prices())
        job_record = self.env["queue.job"].search([("uuid", "=", history.job_uuid)])
        self.assertEqual(job_record.channel, "root.connector_b")
        self.assertEqual(job_record.user_id, self.accountant)
        Job.load(self.env, history.job_uuid).perform()
        self.assertEqual((history.state, history.created_count, history.progress), ("done", 3, 100))
        self.assertEqual(len(self.supplier_prices()), 3)
