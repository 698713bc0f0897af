"""A supplier's price list is hostile input: XXE and size attacks on the readers (issue 12, items 2 and 9).

Each test builds the file an attacker would send (a real xlsx package, edited the way a
hand-made exploit is) and runs it through the same ``analyse`` the import wizard runs.
"""

import csv
import io
import re
import tracemalloc
import zipfile

import pytest
from pricelist import Profile, analyse
from pricelist.pipeline import MAX_STORED_ERRORS
from pricelist.readers import MAX_COLUMNS, MAX_ROWS, ReadError

COLUMNS = {"article": "Артикул", "name": "Наименование", "price": "Цена"}
SECRET = "db_password = s3cr3t-from-odoo-conf"


def _col(n):
    name = ""
    while n:
        n, r = divmod(n - 1, 26)
        name = chr(65 + r) + name
    return name


def _workbook(rows, prolog=""):
    """A minimal xlsx as Excel writes it: every text cell in the shared-strings part.
    ``prolog`` goes before the root element of the shared-strings part."""
    strings, sheet_rows = [], []
    for r, row in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(row, start=1):
            strings.append(value)
            cells.append(f'<c r="{_col(c)}{r}" t="s"><v>{len(strings) - 1}</v></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006/relationships"
    parts = {
        "[Content_Types].xml": (
            '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
            'content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
            'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
            '<Override PartName="/xl/workbook.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.'
            'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
            '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName='
            '"/xl/sharedStrings.xml" '
            'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
            'sharedStrings+xml"/></Types>'
        ),
        "_rels/.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>'
        ),
        "xl/workbook.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}"><sheets>'
            f'<sheet name="Прайс" sheetId="1" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": (
            f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{pkg}"><Relationship Id="rId1" '
            f'Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" '
            f'Type="{rel}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'
        ),
        "xl/worksheets/sheet1.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}"><sheetData>'
            f"{''.join(sheet_rows)}</sheetData></worksheet>"
        ),
        "xl/sharedStrings.xml": (
            f'<?xml version="1.0" encoding="UTF-8"?>{prolog}<sst xmlns="{main}" count="{len(strings)}" '
            f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{v}</t></si>" for v in strings) + "</sst>"
        ),
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for name, text in parts.items():
            dst.writestr(name, text.encode())
    return out.getvalue()


def _rewrite(xlsx, part, edit):
    """The package with ``part`` replaced by ``edit(old text)`` (other parts unchanged)."""
    src = zipfile.ZipFile(io.BytesIO(xlsx))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == part:
                data = edit(data.decode()).encode()
            dst.writestr(info.filename, data)
    return out.getvalue()


def _with_shared_strings(rows, secret_path):
    """A workbook whose shared-strings part declares an external entity to a local
    file and uses it as the text of the name cell of the first data row."""
    rows = [list(r) for r in rows]
    rows[1][1] = "&leak;"
    return _workbook(rows, prolog=f'<!DOCTYPE sst [<!ENTITY leak SYSTEM "file://{secret_path}">]>')


ROWS = [
    ["Артикул", "Наименование", "Цена"],
    ["ESS-1", "Линза Essilor", "100.00"],
    ["HOY-2", "Линза Hoya", "200.00"],
]


@pytest.mark.parametrize("engine", ["lean", "openpyxl"])
def test_external_entity_in_shared_strings_is_refused_and_nothing_leaks(tmp_path, engine):
    secret = tmp_path / "odoo.conf"
    secret.write_text(f"[options]\n{SECRET}\n")
    data = _with_shared_strings(ROWS, secret)
    assert len(data) < 10_000 and b"ENTITY leak SYSTEM" in zipfile.ZipFile(io.BytesIO(data)).read(
        "xl/sharedStrings.xml"
    )
    profile = Profile(file_type="xlsx", columns=COLUMNS, xlsx_engine=engine)
    with pytest.raises(ReadError) as err:
        analyse(data, profile, preview=20)
    assert err.value.key == "xml_doctype"
    assert "xl/sharedStrings.xml declares a DOCTYPE" in str(err.value)
    assert "s3cr3t" not in str(err.value) and str(secret) not in str(err.value)


def test_external_entity_in_the_sheet_or_the_workbook_part_is_refused(tmp_path):
    secret = tmp_path / "passwd"
    secret.write_text(SECRET)
    xlsx = _workbook(ROWS)
    doctype = f'<!DOCTYPE x [<!ENTITY leak SYSTEM "file://{secret}">]>'
    for part, root in (
        ("xl/worksheets/sheet1.xml", "<worksheet"),
        ("xl/workbook.xml", "<workbook"),
        ("xl/_rels/workbook.xml.rels", "<Relationships"),
        ("[Content_Types].xml", "<Types"),
    ):
        data = _rewrite(xlsx, part, lambda text, root=root: text.replace(root, doctype + root, 1))
        with pytest.raises(ReadError) as err:
            analyse(data, Profile(file_type="xlsx", columns=COLUMNS), preview=20)
        assert err.value.key == "xml_doctype" and part in str(err.value)


def test_billion_laughs_entity_bomb_is_refused_before_expansion():
    lol = (
        '<!DOCTYPE sst [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8))
        + "]>"
    )
    rows = [list(r) for r in ROWS]
    rows[2][1] = "&i;"
    data = _workbook(rows, prolog=lol)
    tracemalloc.start()
    try:
        with pytest.raises(ReadError) as err:
            analyse(data, Profile(file_type="xlsx", columns=COLUMNS), preview=20)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert err.value.key == "xml_doctype"
    assert peak < 20 * 1024 * 1024  # 10**9 'a's were never built


def test_a_plain_workbook_still_reads():
    result = analyse(_workbook(ROWS), Profile(file_type="xlsx", columns=COLUMNS), preview=20)
    assert [r.values["name"] for r in result.preview] == ["Линза Essilor", "Линза Hoya"]


# -- item 9: a small file that would allocate without bound -----------------------------


@pytest.mark.parametrize(
    "ref, allowed", [("XFD3", True), ("XFE3", False), ("AAAAAA3", False), ("AAAAAAA3", False)]
)
def test_cell_reference_beyond_column_xfd_is_refused_before_allocating(ref, allowed):
    def edit(text):
        # the last cell of row 3 moves to ``ref``: a 987-byte file could ask for a 5 GB row
        return re.sub(r'<c r="C3"', f'<c r="{ref}"', text, count=1)

    data = _rewrite(_workbook(ROWS), "xl/worksheets/sheet1.xml", edit)
    assert len(data) < 10_000
    profile = Profile(file_type="xlsx", columns=COLUMNS)
    tracemalloc.start()
    try:
        if allowed:
            result = analyse(data, profile, preview=20)
            assert result.rows_total == 2
        else:
            with pytest.raises(ReadError) as err:
                analyse(data, profile, preview=20)
            assert err.value.key == "column_beyond_grid"
            assert f"cell {ref} on row 3 is beyond the last column XFD (16384 columns)" in str(err.value)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    # the widest legal row is 16,384 cells; AAAAAA (12 million) would have been ~100 MB of None
    assert peak < 20 * 1024 * 1024, peak


def test_row_number_beyond_the_grid_is_refused():
    data = _rewrite(
        _workbook(ROWS),
        "xl/worksheets/sheet1.xml",
        lambda text: text.replace('<row r="3"', f'<row r="{MAX_ROWS + 1}"', 1),
    )
    with pytest.raises(ReadError) as err:
        analyse(data, Profile(file_type="xlsx", columns=COLUMNS), preview=20)
    assert err.value.key == "row_beyond_grid" and "1048576" in str(err.value)


def test_shared_string_index_out_of_range_is_a_read_error_not_a_crash():
    data = _rewrite(
        _workbook(ROWS),
        "xl/worksheets/sheet1.xml",
        lambda text: re.sub(r'(<c r="B3"[^>]*t="s"[^>]*><v>)\d+', r"\g<1>999999", text, count=1),
    )
    with pytest.raises(ReadError) as err:
        analyse(data, Profile(file_type="xlsx", columns=COLUMNS), preview=20)
    assert err.value.key == "string_missing"


def test_csv_row_wider_than_a_spreadsheet_is_refused():
    line = ";".join(["x"] * (MAX_COLUMNS + 1))
    data = ("Артикул;Наименование;Цена\n" + line + "\n").encode()
    with pytest.raises(ReadError) as err:
        analyse(data, Profile(file_type="csv", columns=COLUMNS, delimiter=";"), preview=20)
    assert err.value.key == "csv_too_wide"


def test_csv_field_over_the_size_limit_is_a_read_error():
    data = ('Артикул;Наименование;Цена\nA;"' + "x" * (csv.field_size_limit() + 10) + '";1\n').encode()
    with pytest.raises(ReadError) as err:
        analyse(data, Profile(file_type="csv", columns=COLUMNS, delimiter=";"), preview=20)
    assert err.value.key == "csv_field_too_long" and "row 2" in str(err.value)


def test_stored_errors_are_bounded_with_a_count_of_the_rest():
    rows = ["Артикул;Наименование;Цена"] + [
        f"A{i};Линза;не число {'x' * 500}" for i in range(MAX_STORED_ERRORS + 500)
    ]
    result = analyse("\n".join(rows).encode(), Profile(file_type="csv", columns=COLUMNS, delimiter=";"))
    assert result.rows_error == MAX_STORED_ERRORS + 500
    assert result.errors == MAX_STORED_ERRORS + 500  # every error is counted...
    kept = [p for p in result.problems if p.is_error]
    assert len(kept) == MAX_STORED_ERRORS  # ...the first N are kept
    assert result.errors_dropped == 500
    assert kept[0].row == 2 and kept[-1].row == MAX_STORED_ERRORS + 1
    # a hostile cell cannot make every stored message huge
    assert max(len(p.message) for p in kept) < 400 and max(len(p.value) for p in kept) <= 256
