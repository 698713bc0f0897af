import tracemalloc
from decimal import Decimal

import openpyxl
import pytest
from pricelist import Profile, analyse
from pricelist.headers import combine_header_rows
from pricelist.readers import ReadError, detect_delimiter, open_rows
from pricelist_testfiles import EAN13, csv_bytes, xls_bytes, xlsx_bytes

RU_COLUMNS = {
    "article": "Артикул",
    "ean": "Штрихкод",
    "name": "Наименование",
    "price": "Цена",
    "vat": "НДС",
    "stock": "Остаток",
}
RU_HEADER = ["Артикул", "Штрихкод", "Наименование", "Цена", "НДС", "Остаток"]
RU_ROWS = [
    ["ESS-160-AR", EAN13[0], "Линза Essilor 1.60 Crizal", "1 250,50", "Без НДС", "Много"],
    ["HOY-150", EAN13[1], "Линза Hoya 1.50 Hi-Vision", "890,00", "20%", "12"],
    ["ZEI-167", "", "Линза Zeiss 1.67 DuraVision", "3 400", "20%", "Нет"],
]


def _values(result):
    return {r.values["article"]: r.values for r in result.preview}


def test_windows_1251_csv_with_semicolons_and_cyrillic_headers():
    data = csv_bytes([RU_HEADER] + RU_ROWS, encoding="cp1251", delimiter=";")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    profile = Profile(file_type="csv", columns=RU_COLUMNS)  # encoding and separator: auto
    result = analyse(data, profile, preview=10)
    assert not result.has_errors, result.problems
    values = _values(result)
    assert values["ESS-160-AR"]["name"] == "Линза Essilor 1.60 Crizal"
    assert values["ESS-160-AR"]["price"] == Decimal("1250.50")
    assert values["ESS-160-AR"]["vat"] == "exempt"
    assert values["ESS-160-AR"]["availability"] == "in_stock"
    assert values["HOY-150"]["price"] == Decimal("890.00")
    assert values["HOY-150"]["stock_qty"] == Decimal(12)
    assert values["ZEI-167"]["price"] == Decimal("3400.00")
    assert values["ZEI-167"]["availability"] == "out"
    assert result.created == 3
    # CSV cells are always text: no "number stored as text" warning there
    assert not [p for p in result.problems if p.code == "number_as_text"]


def test_utf8_bom_csv_with_explicit_profile():
    data = csv_bytes([RU_HEADER] + RU_ROWS, encoding="utf-8-sig", delimiter=",")
    assert data.startswith(b"\xef\xbb\xbf")
    for encoding in ("auto", "utf-8"):
        profile = Profile(file_type="csv", columns=RU_COLUMNS, encoding=encoding, delimiter=",")
        result = analyse(data, profile, preview=10)
        # the BOM must not stick to the first header ("\ufeffАртикул" would not match)
        assert result.header.index["article"] == 0
        assert result.rows_total == 3 and not result.has_errors


def test_wrong_declared_encoding_is_a_clear_error():
    data = csv_bytes([RU_HEADER] + RU_ROWS, encoding="cp1251")
    profile = Profile(file_type="csv", columns=RU_COLUMNS, encoding="utf-8")
    with pytest.raises((ReadError, UnicodeDecodeError)):
        analyse(data, profile)


@pytest.mark.parametrize("sep", [";", ",", "\t"])
def test_delimiter_sniffing(sep):
    sample = csv_bytes([RU_HEADER] + RU_ROWS, delimiter=sep).decode()
    assert detect_delimiter(sample) == sep


@pytest.mark.parametrize("engine", ["lean", "openpyxl"])
def test_xlsx_decimal_commas_numbers_as_text_and_trailing_empty_rows(engine):
    rows = (
        [
            ["Прайс-лист ООО «Оптика-Опт»"],
            [],
            RU_HEADER,
            ["A1", EAN13[0], "Оправа Ray-Ban RB5154", "4 990,00", 0.2, 5],  # number as text
            ["A2", int(EAN13[1]), "Оправа Vogue VO5286", 3990.5, "20%", "7"],  # EAN as a number
        ]
        + [[None] * 6] * 50
        + [["", "  ", None, None, None, None]]
    )
    data = xlsx_bytes(rows)
    profile = Profile(file_type="xlsx", header_row=3, columns=RU_COLUMNS, xlsx_engine=engine)
    result = analyse(data, profile, preview=10)
    assert result.rows_total == 2
    assert result.rows_blank == 51
    values = _values(result)
    assert values["A1"]["price"] == Decimal("4990.00")
    assert values["A1"]["vat"] == "20"
    assert values["A2"]["ean"] == EAN13[1]
    assert values["A2"]["price"] == Decimal("3990.50")
    text_warnings = [(p.row, p.column) for p in result.problems if p.code == "number_as_text"]
    assert text_warnings == [(4, "Цена")]
    assert not result.has_errors


def test_header_row_autodetect():
    rows = [["Поставщик: Оптик-Лаб"], ["Дата: 01.11.2026"], RU_HEADER, RU_ROWS[1]]
    profile = Profile(file_type="xlsx", header_row=0, columns=RU_COLUMNS)
    result = analyse(xlsx_bytes(rows), profile, preview=5)
    assert result.rows_total == 1 and result.preview[0].row == 4


@pytest.mark.parametrize("engine", ["lean", "openpyxl"])
def test_merged_two_row_header(engine):
    rows = [
        ["Артикул", "Наименование", "Цена", None, "SPH", None, "Индекс"],
        [None, None, "опт", "розн.", "от", "до", None],
        ["L-1", "Линза 1.6 асферическая", "1500,00", "2990", -8, 6, 1.6],
    ]
    data = xlsx_bytes(rows, merges=["A1:A2", "B1:B2", "C1:D1", "E1:F1", "G1:G2"])
    # the reader itself gives no merge information: only the top-left cell has the value
    it = open_rows(data, Profile(file_type="xlsx", columns={"article": "Артикул"}, xlsx_engine=engine))
    first, second = next(it)[1], next(it)[1]
    assert first[3] is None and first[5] is None
    assert combine_header_rows(first, second) == [
        "Артикул",
        "Наименование",
        "Цена / опт",
        "Цена / розн.",
        "SPH / от",
        "SPH / до",
        "Индекс",
    ]
    profile = Profile(
        file_type="xlsx",
        header_row=1,
        header_rows=2,
        columns={
            "article": "Артикул",
            "name": "Наименование",
            "price": "цена опт",
            "retail_price": "ЦЕНА-РОЗН",
            "sph_min": "SPH от",
            "sph_max": "sph / до",
            "lens_index": "Индекс",
        },
        xlsx_engine=engine,
    )
    result = analyse(data, profile, preview=5)
    assert not result.has_errors, result.problems
    v = result.preview[0].values
    assert (v["price"], v["retail_price"]) == (Decimal("1500.00"), Decimal("2990.00"))
    assert (v["sph_min"], v["sph_max"], v["lens_index"]) == (Decimal(-8), Decimal(6), Decimal("1.6"))


def test_missing_mapped_column_is_fatal_and_named():
    profile = Profile(file_type="xlsx", columns=dict(RU_COLUMNS, price="Цена закупки"))
    result = analyse(xlsx_bytes([RU_HEADER] + RU_ROWS), profile)
    assert result.fatal and result.rows_total == 0
    [problem] = [p for p in result.problems if p.code == "column_missing"]
    assert problem.field == "price" and "Цена закупки" in problem.message


def test_xls_reader_and_sheet_selection():
    data = xls_bytes([RU_HEADER] + [["X1", EAN13[2], "Футляр", 150.0, "20%", 3]])
    result = analyse(data, Profile(file_type="xls", columns=RU_COLUMNS), preview=1)
    assert not result.has_errors
    assert result.preview[0].values["price"] == Decimal("150.00")
    assert result.preview[0].values["ean"] == EAN13[2]
    two = xlsx_bytes([["junk"]], extra_sheets=[("Линзы", [RU_HEADER] + RU_ROWS)])
    result = analyse(two, Profile(file_type="xlsx", sheet="Линзы", columns=RU_COLUMNS))
    assert result.rows_total == 3
    with pytest.raises(ReadError, match="no sheet"):
        analyse(two, Profile(file_type="xlsx", sheet="Оправы", columns=RU_COLUMNS))
    with pytest.raises(ReadError):
        analyse(b"not a zip", Profile(file_type="xlsx", columns=RU_COLUMNS))


def test_lean_and_openpyxl_engines_read_the_same_values():
    rows = [
        RU_HEADER,
        ["A1", 4006381333931, "Текст с   пробелами ", 12.5, True, None, "=1+1"],
        [None, None, None, None, None, None, None],
        ["A3", "0123", None, -7, 0.1, 1e-7, "x"],
    ]
    wb = openpyxl.Workbook()
    ws = wb.active
    for r in rows:
        ws.append(r)
    ws["H5"] = "sparse"
    import io

    buf = io.BytesIO()
    wb.save(buf)
    data = buf.getvalue()
    profile = {
        e: Profile(file_type="xlsx", columns={"article": "Артикул"}, xlsx_engine=e)
        for e in ("lean", "openpyxl")
    }
    lean = [
        (n, tuple(v for v in vals))
        for n, vals in open_rows(data, profile["lean"])
        if any(x is not None for x in vals)
    ]
    full = [
        (n, tuple(v for v in vals))
        for n, vals in open_rows(data, profile["openpyxl"])
        if any(x is not None for x in vals)
    ]
    strip = lambda rows: [(n, tuple(v for v in vals)[:8] + (None,) * (8 - len(vals))) for n, vals in rows]  # noqa: E731
    assert strip(lean) == strip(full)
    assert lean[-1][1][7] == "sparse" and lean[-1][0] == 5


@pytest.fixture(scope="module")
def big_files(tmp_path_factory):
    paths = {}
    for n in (2000, 10000):
        path = tmp_path_factory.mktemp("big") / f"big{n}.xlsx"
        wb = openpyxl.Workbook(write_only=True)
        ws = wb.create_sheet()
        ws.append(["Артикул", "Наименование", "Цена", "Остаток"])
        for i in range(n):
            ws.append(
                [
                    f"ART-{i:06d}",
                    f"Линза тестовая асферическая {i} с покрытием",
                    1000 + i % 500 + (i % 100) / 100,
                    i % 40,
                ]
            )
        wb.save(path)
        paths[n] = str(path)
    return paths


@pytest.mark.parametrize("engine", ["lean", "openpyxl"])
def test_big_xlsx_is_read_with_bounded_memory(big_files, engine):
    """A big file is streamed: memory grows by the per-row duplicate keys only.

    Only the duplicate-detection keys (two ints a row) are kept for the whole file; the
    cells of 10,000 rows as Python objects would be ~5 MB, the growth stays far below.
    """
    profile = Profile(
        file_type="xlsx",
        columns={"article": "Артикул", "name": "Наименование", "price": "Цена", "stock": "Остаток"},
        xlsx_engine=engine,
    )
    peaks = {}
    for n, path in big_files.items():
        tracemalloc.start()
        result = analyse(path, profile, chunk_size=1000)
        peaks[n] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert result.rows_total == n and result.created == n and not result.problems
    per_row = (peaks[10000] - peaks[2000]) / 8000
    assert per_row < 300, (per_row, peaks)
    assert peaks[10000] < 6 * 1024 * 1024, peaks


def test_lean_reader_handles_inline_strings_and_cells_without_references():
    """A minimal package as some generators write it: inline strings, no shared strings,
    rows and cells without ``r`` attributes, a rich-text cell, a formula with its value."""
    import io
    import zipfile

    ns = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
    rel_ns = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
    sheet = (
        f"<worksheet {ns}><sheetData>"
        '<row><c t="inlineStr"><is><t>Артикул</t></is></c><c t="inlineStr"><is><t>Цена</t></is></c></row>'
        '<row><c t="inlineStr"><is><r><t>A-</t></r><r><t>1</t></r></is></c><c><f>2*5</f><v>10</v></c></row>'
        '<row r="5"><c r="B5"><v>12.5</v></c><c r="D5" t="b"><v>1</v></c></row>'
        "</sheetData></worksheet>"
    )
    workbook = (
        f'<workbook {ns} {rel_ns}><sheets><sheet name="Лист1" sheetId="1" r:id="rId1"/></sheets></workbook>'
    )
    rels = (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
    )
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("xl/workbook.xml", workbook)
        z.writestr("xl/_rels/workbook.xml.rels", rels)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    rows = list(open_rows(buf.getvalue(), Profile(file_type="xlsx", columns={"article": "Артикул"})))
    assert rows == [(1, ("Артикул", "Цена")), (2, ("A-1", 10)), (5, (None, 12.5, None, True))]
