import io

import openpyxl

from odoo.exceptions import AccessError
from odoo.tests import tagged

from .common import COLUMNS, EAN, HEADER, ROWS, PricelistCase, csv_bytes, xlsx_bytes


@tagged("post_install", "-at_install")
class TestImportWizard(PricelistCase):
    def test_end_to_end_first_import(self):
        wizard = self.wizard(xlsx_bytes([["Прайс-лист на 01.11.2026"], HEADER] + ROWS + [[None] * 8] * 5))
        self.profile.header_row = 2
        wizard.action_preview()
        self.assertEqual(
            (wizard.rows_total, wizard.to_create, wizard.to_update, wizard.error_rows), (3, 3, 0, 0)
        )
        self.assertIn("Оправа Ray-Ban RB5154 2000", wizard.preview_html)
        self.assertIn("4990.00", wizard.preview_html)  # the decimal comma read as a decimal
        history = self.env["connector_b.import.history"].browse(wizard.action_import()["res_id"])
        self.assertEqual(history.state, "done", history.message)
        self.assertEqual((history.created_count, history.updated_count, history.error_count), (3, 0, 0))
        self.assertEqual(history.user_id, self.accountant)
        self.assertEqual(history.attachment_id.raw[:2], b"PK")
        prices = self.supplier_prices()
        self.assertEqual(prices["RB-5154"][:6], (4990.0, "RUB", 3, 5.0, "in_stock", "exempt"))
        self.assertEqual(prices["VO-5286"][:6], (3990.5, "RUB", 5, 0.0, "in_stock", "20"))
        self.assertEqual(prices["CASE-01"][4], "out")
        # the products written in bulk behave as ORM-created ones
        product = self.env["product.product"].search([("barcode", "=", EAN[0])])
        self.assertEqual(len(product), 1)
        self.assertEqual(product.name, "Оправа Ray-Ban RB5154 2000")
        self.assertEqual(product.default_code, "RB-5154")
        rub = self.env.ref("base.RUB")
        self.assertAlmostEqual(
            product.standard_price,
            rub._convert(4990.0, self.env.company.currency_id, self.env.company, product.create_date.date()),
            places=2,
        )
        self.assertEqual(product.product_tmpl_id.product_variant_count, 1)
        self.assertEqual(product.seller_ids.partner_id, self.supplier)
        orm_made = self.env["product.template"].create({"name": "Сравнение"})
        self.assertEqual(product.taxes_id, orm_made.taxes_id)
        self.assertEqual(product.categ_id, orm_made.categ_id)
        self.assertEqual(product.uom_id, orm_made.uom_id)
        self.assertEqual(product.type, orm_made.type)
        # the profile's settings for new products (defaults: stocked, sold in the POS)
        self.assertTrue(product.is_storable)
        self.assertTrue(product.available_in_pos)
        self.assertEqual(
            self.env["product.product"].name_search("Vogue VO5286")[0][1].split("] ")[-1],
            "Оправа Vogue VO5286 W44",
        )
        # the new product can be sold: a sale line's price comes from it
        product.product_tmpl_id.list_price = 7990
        self.assertEqual(product.lst_price, 7990)

    def test_reimport_changes_nothing(self):
        data = xlsx_bytes([HEADER] + ROWS)
        first = self.run_import(data)
        self.assertEqual(first.created_count, 3)
        before = self.catalog_state()
        second = self.run_import(data)
        self.assertEqual(second.state, "done")
        self.assertEqual((second.created_count, second.updated_count, second.unchanged_count), (0, 0, 3))
        self.assertEqual(self.catalog_state(), before)  # same values and the same write dates

    def test_monthly_update_writes_only_what_changed(self):
        self.run_import(xlsx_bytes([HEADER] + ROWS))
        before = self.catalog_state()
        changed = [list(r) for r in ROWS]
        changed[0][3] = "5 190,00"
        changed[2][7] = 2
        history = self.run_import(xlsx_bytes([HEADER] + changed))
        self.assertEqual((history.created_count, history.updated_count, history.unchanged_count), (0, 2, 1))
        prices = self.supplier_prices()
        self.assertEqual(prices["RB-5154"][0], 5190.0)
        self.assertEqual(prices["CASE-01"][2], 2)
        after = self.catalog_state()
        self.assertEqual(after[0], before[0])  # templates untouched
        changed_infos = [a for a, b in zip(after[2], before[2], strict=True) if a != b]
        self.assertEqual(sorted(i[1] for i in changed_infos), ["CASE-01", "RB-5154"])

    def test_each_error_kind_with_row_and_column(self):
        self.run_import(xlsx_bytes([HEADER, ["OLD-1", EAN[3], "Старая оправа", 100, "RUB", "20%", 1, 1]]))
        rows = [
            ROWS[0],  # 2 ok
            ["", EAN[1], "Без артикула", 100, "RUB", "20%", 1, 1],  # 3 required
            ["E-1", "4006381333932", "Плохой EAN", 100, "RUB", "20%", 1, 1],  # 4 checksum
            ["E-2", EAN[2], "Цена текстом", "по запросу", "RUB", "20%", 1, 1],  # 5 not a number
            ["E-3", EAN[4], "Отрицательная цена", -10, "RUB", "20%", 1, 1],  # 6 negative
            ["E-4", "", "Тугрики", 100, "MNT-X", "20%", 1, 1],  # 7 currency
            ["E-5", "", "НДС 18", 100, "RUB", "18%", 1, 1],  # 8 VAT
            ROWS[0],  # 9 duplicate (warning)
            ["RB-5154", EAN[0], "Оправа Ray-Ban RB5154 2000", 5000, "RUB", "Без НДС", 5, 3],  # 10 conflict
            ["NEW-9", EAN[3], "Чужой EAN", 100, "RUB", "20%", 1, 1],  # 11 catalog conflict
            [" E-6 ", EAN[5], "Пробелы", "1 250,50", "RUB", "20%", 1, 1],  # 12 warnings only
        ]
        history = self.run_import(xlsx_bytes([HEADER] + rows), mode="partial")
        self.assertEqual(history.state, "done")
        found = {(p.row, p.column_label or "", p.code, p.severity) for p in history.problem_ids}
        expected = {
            (3, "Артикул", "required", "error"),
            (4, "Штрихкод", "ean_checksum", "error"),
            (5, "Цена", "not_a_number", "error"),
            (6, "Цена", "negative", "error"),
            (7, "Валюта", "currency_unknown", "error"),
            (8, "НДС", "vat_unknown", "error"),
            (9, "Артикул", "duplicate", "warning"),
            (10, "Артикул", "duplicate_conflict", "error"),
            (11, "", "ean_conflict", "error"),
            (12, "Артикул", "whitespace", "warning"),
            (12, "Цена", "number_as_text", "warning"),
            (2, "Цена", "number_as_text", "warning"),
            (9, "Цена", "number_as_text", "warning"),
        }
        self.assertEqual(found, expected)
        self.assertEqual((history.created_count, history.error_count, history.skipped_count), (2, 8, 1))
        self.assertIn("E-6", self.supplier_prices())
        self.assertEqual(self.supplier_prices()["E-6"][0], 1250.5)
        # the downloadable report lists the same problems with row and column
        action = history.action_download_report()
        self.assertIn(f"/web/content/{history.report_attachment_id.id}", action["url"])
        wb = openpyxl.load_workbook(io.BytesIO(history.report_attachment_id.raw))
        lines = list(wb.worksheets[0].iter_rows(values_only=True))
        self.assertEqual(len(lines), 1 + len(expected))
        self.assertIn((4, "Штрихкод", "ean_checksum"), {(r[0], r[1], r[4]) for r in lines[1:]})
        summary = {r[0]: r[1] for r in wb.worksheets[1].iter_rows(values_only=True) if r[1] is not None}
        self.assertEqual(summary["Created"], 2)

    def test_all_or_nothing_leaves_catalog_unchanged(self):
        self.run_import(xlsx_bytes([HEADER] + ROWS))
        before = self.catalog_state()
        counts = (
            self.env["product.template"].search_count([]),
            self.env["product.supplierinfo"].search_count([]),
        )
        rows = [list(r) for r in ROWS]
        rows[0][3] = "6 000,00"  # a valid change ...
        rows.append(["NEW-1", EAN[2], "Новая оправа", 1000, "RUB", "20%", 1, 1])  # ... a valid new product
        rows.extend([[f"NEW-{i}", "", f"Оправа {i}", 10 + i, "RUB", "20%", 1, 1] for i in range(2, 2500)])
        rows.append(
            ["BAD", "", "Плохая цена", "десять", "RUB", "20%", 1, 1]
        )  # ... and one bad row at the end
        history = self.run_import(xlsx_bytes([HEADER] + rows), mode="all")
        self.assertEqual(history.state, "rejected")
        self.assertEqual((history.created_count, history.updated_count), (0, 0))
        self.assertEqual(
            [(p.row, p.code) for p in history.problem_ids if p.severity == "error"],
            [(len(rows) + 1, "not_a_number")],
        )
        self.assertEqual(self.catalog_state(), before)
        self.assertEqual(
            (
                self.env["product.template"].search_count([]),
                self.env["product.supplierinfo"].search_count([]),
            ),
            counts,
        )

    def test_partial_mode_imports_valid_rows(self):
        rows = ROWS + [["BAD", "", "Плохая цена", "десять", "RUB", "20%", 1, 1]]
        history = self.run_import(xlsx_bytes([HEADER] + rows), mode="partial")
        self.assertEqual(history.state, "done")
        self.assertEqual((history.created_count, history.error_count), (3, 1))
        self.assertEqual(set(self.supplier_prices()), {"RB-5154", "VO-5286", "CASE-01"})

    def test_windows_1251_csv(self):
        profile = self.make_profile(COLUMNS, name="Оптик-Опт CSV", file_type="csv")
        data = csv_bytes([HEADER] + ROWS, encoding="cp1251", delimiter=";")
        history = self.run_import(data, profile=profile, name="price.csv")
        self.assertEqual((history.state, history.created_count), ("done", 3), history.message)
        self.assertEqual(self.supplier_prices()["VO-5286"][0], 3990.5)
        self.assertTrue(self.env["product.product"].search([("name", "=", "Футляр жёсткий")]))

    def test_cashier_cannot_import(self):
        data = xlsx_bytes([HEADER] + ROWS)
        with self.assertRaises(AccessError):
            self.wizard(data, user=self.cashier)
        with self.assertRaises(AccessError):
            self.env["connector_b.import.profile"].with_user(self.cashier).search([])
        wizard = self.wizard(data)
        with self.assertRaises(AccessError):
            wizard.with_user(self.cashier).action_preview()
        self.assertFalse(self.supplier_prices())

    def test_missing_column_is_reported_and_blocks_import(self):
        data = xlsx_bytes([["Артикул", "Наименование", "Стоимость"], ["A", "B", 1]])
        wizard = self.wizard(data)
        wizard.action_preview()
        self.assertTrue(wizard.fatal)
        self.assertIn("Штрихкод", wizard.preview_html)

    def test_second_concurrent_import_of_a_supplier_is_refused(self):
        with self.registry.cursor() as other:
            # another transaction (a running import of the same supplier) holds the lock
            other.execute(
                "SELECT pg_advisory_xact_lock(hashtext('connector_b.import'), %s)", [self.supplier.id]
            )
            history = self.run_import(xlsx_bytes([HEADER] + ROWS))
            other.rollback()
        self.assertEqual(history.state, "failed")
        self.assertIn("Another import", history.message)
        self.assertFalse(self.supplier_prices())
