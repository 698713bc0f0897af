"""A supplier's price list is hostile input (issue 12, items 2 and 9), through the wizard
and the import history an accountant uses: an xlsx whose shared strings declare an
external entity to a server file is refused with a clear message, nothing of the file
reaches the preview, nothing is imported; the problems stored for one import are bounded.
"""

import io
import os
import tempfile
import zipfile
from unittest.mock import patch

from odoo.exceptions import UserError

from ..pricelist import pipeline
from .common import COLUMNS, EAN, HEADER, PricelistCase, csv_bytes

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"


def hostile_xlsx(rows, prolog):
    """A minimal xlsx as Excel writes it (texts in the shared-strings part), with
    ``prolog`` before the shared strings' root element."""
    strings, sheet_rows = [], []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row):
            strings.append(str(value))
            cells.append(f'<c r="{chr(65 + c)}{r}" t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    ct = "application/vnd.openxmlformats-officedocument.spreadsheetml"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{ct}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{ct}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{ct}.sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship '
            f'Id="rId1" Type="{REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{REL}">'
            f'<sheets><sheet name="Прайс" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{PKG}"><Relationship Id="rId1" '
            f'Type="{REL}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}">'
            f"<sheetData>{''.join(sheet_rows)}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<sst xmlns="{MAIN}">'
            + "".join(f"<si><t>{v}</t></si>" for v in strings)
            + "</sst>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, text in parts.items():
            dst.writestr(name, text.encode())
    return out.getvalue()


class TestSecurityImport(PricelistCase):
    def setUp(self):
        super().setUp()
        fd, self.secret_path = tempfile.mkstemp(prefix="odoo-", suffix=".conf")
        with os.fdopen(fd, "w") as fh:
            fh.write("[options]\ndb_password = s3cr3t-of-the-server\n")
        self.addCleanup(os.unlink, self.secret_path)

    def _xxe_file(self):
        rows = [HEADER, ["XXE-1", EAN[0], "&leak;", "100", "RUB", "20%", 1, 1]]
        return hostile_xlsx(rows, f'<!DOCTYPE sst [<!ENTITY leak SYSTEM "file://{self.secret_path}">]>')

    def test_external_entity_is_refused_in_the_preview_and_nothing_leaks(self):
        before = self.catalog_state()
        histories = self.env["connector_b.import.history"].search_count([])
        wizard = self.wizard(self._xxe_file())
        with self.assertRaises(UserError) as err:
            wizard.action_preview()
        message = str(err.exception)
        self.assertIn("xl/sharedStrings.xml declares a DOCTYPE", message)
        self.assertIn("refused unread", message)
        self.assertNotIn("s3cr3t", message)
        self.assertNotIn("s3cr3t", wizard.preview_html or "")
        self.assertEqual(wizard.state, "upload")
        # importing it straight away is refused the same way: no history, no catalog change
        with self.assertRaises(UserError):
            self.wizard(self._xxe_file()).action_import()
        self.assertEqual(self.env["connector_b.import.history"].search_count([]), histories)
        self.assertEqual(self.catalog_state(), before)

    def test_a_queued_import_of_the_file_fails_with_the_reason_and_imports_nothing(self):
        # the file reached the history (e.g. queued before this check existed): the job refuses it
        before = self.catalog_state()
        history = self.env["connector_b.import.history"].create(
            {"name": "price.xlsx", "profile_id": self.profile.id, "company_id": self.profile.company_id.id}
        )
        history.attachment_id = self.env["ir.attachment"].create(
            {"name": "price.xlsx", "raw": self._xxe_file(), "res_model": history._name, "res_id": history.id}
        )
        history._execute()
        self.assertEqual(history.state, "failed")
        self.assertIn("declares a DOCTYPE", history.message)
        self.assertNotIn("s3cr3t", history.message)
        self.assertFalse(history.problem_ids)
        self.assertEqual(self.catalog_state(), before)

    def test_cell_beyond_the_last_column_is_refused_with_a_clear_message(self):
        data = hostile_xlsx([HEADER, ["X-1", EAN[0], "Оправа", "100", "RUB", "20%", 1, 1]], "")
        src = zipfile.ZipFile(io.BytesIO(data))
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for info in src.infolist():
                body = src.read(info)
                if info.filename == "xl/worksheets/sheet1.xml":
                    body = body.replace(b'<c r="H2"', b'<c r="AAAAAA2"')
                dst.writestr(info, body)
        self.assertLess(len(out.getvalue()), 4000)
        with self.assertRaises(UserError) as err:
            self.wizard(out.getvalue()).action_preview()
        self.assertIn(
            "cell AAAAAA2 on row 2 is beyond the last column XFD (16384 columns)", str(err.exception)
        )

    def test_stored_problems_are_bounded_with_the_count_of_the_rest(self):
        profile = self.make_profile(COLUMNS, file_type="csv", encoding="cp1251", delimiter=";")
        rows = [HEADER] + [
            [f"BAD-{i}", "", "Оправа", "цена по запросу", "RUB", "20%", 1, 1] for i in range(80)
        ]
        with patch.object(pipeline, "MAX_STORED_ERRORS", 50):
            history = self.run_import(csv_bytes(rows), mode="partial", profile=profile, name="price.csv")
        errors = history.problem_ids.filtered(lambda p: p.severity == "error")
        self.assertEqual(history.error_count, 80)  # every bad row is counted
        self.assertEqual(len(errors), 50)  # the first 50 errors are kept
        self.assertEqual(min(errors.mapped("row")), 2)
        self.assertIn("30 more were counted but not stored", history.message)
