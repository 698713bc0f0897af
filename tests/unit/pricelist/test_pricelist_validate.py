"""Each problem kind, reported with its row number and the file's column label."""

from decimal import Decimal

from pricelist import Profile, analyse
from pricelist_testfiles import EAN13, csv_bytes, xlsx_bytes

COLUMNS = {
    "article": "Артикул",
    "ean": "EAN",
    "name": "Наименование",
    "price": "Цена",
    "currency": "Валюта",
    "vat": "НДС",
    "lead_time": "Срок, дн.",
}
HEADER = ["Артикул", "EAN", "Наименование", "Цена", "Валюта", "НДС", "Срок, дн."]


def run(rows, catalog=None, **profile_kw):
    profile = Profile(file_type="xlsx", columns=dict(COLUMNS), **profile_kw)
    return analyse(xlsx_bytes([HEADER] + rows), profile, catalog=catalog, preview=100)


def problems(result, code):
    return [(p.row, p.column, p.severity) for p in result.problems if p.code == code]


def good(article="G1", ean=EAN13[0], name="Оправа", price=1000, cur="RUB", vat="20%", lead=3):
    return [article, ean, name, price, cur, vat, lead]


def test_clean_file_has_no_problems():
    result = run([good(), good("G2", EAN13[1])])
    assert result.problems == [] and result.created == 2


def test_required_missing():
    result = run([good(article=None), good("G2", EAN13[1], name="  "), good("G3", EAN13[2], price=None)])
    assert problems(result, "required") == [
        (2, "Артикул", "error"),
        (3, "Наименование", "error"),
        (4, "Цена", "error"),
    ]
    assert result.rows_error == 3 and result.created == 0


def test_bad_ean_checksum_and_format():
    result = run([good(ean="4006381333932"), good("G2", ean="40063813339"), good("G3", ean="ABC1234567890")])
    assert problems(result, "ean_checksum") == [(2, "EAN", "error")]
    assert problems(result, "ean_format") == [(3, "EAN", "error"), (4, "EAN", "error")]
    [msg] = [p.message for p in result.problems if p.code == "ean_checksum"]
    assert "4006381333932" in msg and "check digit" in msg


def test_non_numeric_and_negative_price():
    result = run(
        [good(price="по запросу"), good("G2", EAN13[1], price=-5), good("G3", EAN13[2], price="13,75")]
    )
    assert problems(result, "not_a_number") == [(2, "Цена", "error")]
    assert problems(result, "negative") == [(3, "Цена", "error")]
    # the decimal comma is read as a decimal, never as 1375
    assert result.preview[2].values["price"] == Decimal("13.75")
    assert result.rows_error == 2 and result.created == 1


def test_decimal_comma_profile_rejects_ambiguous_dot_groups():
    result = run([good(price="1.25")], decimal_separator=",")
    # with "," as decimal mark "1.25" is not a thousands group: an error, not 125
    assert problems(result, "not_a_number") == [(2, "Цена", "error")]


def test_unknown_currency_and_vat():
    result = run(
        [
            good(cur="руб."),
            good("G2", EAN13[1], cur="ТУГРИК"),
            good("G3", EAN13[2], vat="18%"),
            good("G4", EAN13[3], vat="без НДС"),
        ]
    )
    assert problems(result, "currency_unknown") == [(3, "Валюта", "error")]
    assert problems(result, "vat_unknown") == [(4, "НДС", "error")]
    values = {r.values["article"]: r.values for r in result.preview}
    assert values["G1"]["currency"] == "RUB" and values["G4"]["vat"] == "exempt"


def test_duplicates_identical_are_skipped_different_are_errors():
    result = run([good(), good(), good(price=1100), good("G2", EAN13[0])])
    assert problems(result, "duplicate") == [(3, "Артикул", "warning")]
    assert problems(result, "duplicate_conflict") == [(4, "Артикул", "error")]
    # same EAN under another article in the same file
    assert problems(result, "ean_conflict") == [(5, "EAN", "error")]
    assert result.created == 1 and result.rows_skipped == 1 and result.rows_error == 2


def test_conflict_with_existing_catalog_same_ean_other_article():
    catalog = [
        {
            "id": 7,
            "tmpl_id": 7,
            "name": "Оправа старая",
            "barcode": EAN13[0],
            "default_code": "OLD",
            "list_price": 0.0,
            "supplier": {"id": 70, "product_code": "OLD-1", "price": 900.0, "currency": "RUB", "delay": 3},
        }
    ]
    result = run([good("NEW-1", EAN13[0]), good("OLD-1", None, price=950)], catalog=catalog)
    rows = problems(result, "ean_conflict")
    assert rows == [(2, "", "error")]
    [msg] = [p.message for p in result.problems if p.code == "ean_conflict"]
    assert "OLD-1" in msg and "NEW-1" in msg
    assert result.updated == 1 and result.created == 0


def test_number_stored_as_text_and_whitespace_are_fixed_warnings():
    result = run([good(article="  G1 ", price="1 250,50", name="Оправа\u00a0 Ray-Ban")])
    assert problems(result, "number_as_text") == [(2, "Цена", "warning")]
    assert sorted(problems(result, "whitespace")) == [
        (2, "Артикул", "warning"),
        (2, "Наименование", "warning"),
    ]
    v = result.preview[0].values
    assert (v["article"], v["name"], v["price"]) == ("G1", "Оправа Ray-Ban", Decimal("1250.50"))
    assert not result.has_errors and result.created == 1


def test_prices_including_vat_and_pair_unit():
    result = run(
        [good(price=1220, vat="22%"), good("G2", EAN13[1], price=1000, vat="без НДС")],
        prices_include_vat=True,
    )
    values = {r.values["article"]: r.values for r in result.preview}
    assert values["G1"]["price"] == Decimal("1000.00")
    assert values["G2"]["price"] == Decimal("1000.00")
    result = run([good(price="2 000")], unit="pair")
    assert result.preview[0].values["price"] == Decimal("1000.00")


def test_csv_rows_carry_their_file_row_numbers():
    data = csv_bytes([["Поставщик Линзы-Опт"], HEADER, good(), [], good("G2", EAN13[1], price="x")])
    profile = Profile(file_type="csv", header_row=2, columns=COLUMNS)
    result = analyse(data, profile)
    assert [(p.row, p.column, p.code) for p in result.problems] == [(5, "Цена", "not_a_number")]


def test_lens_ranges_and_inverted_range():
    columns = {
        "article": "Код",
        "name": "Линза",
        "price": "Цена",
        "sph_range": "SPH",
        "cyl_min": "CYL от",
        "cyl_max": "CYL до",
        "lens_index": "Индекс",
        "coating": "Покрытие",
        "diameter": "Диаметр",
    }
    rows = [
        ["Код", "Линза", "Цена", "SPH", "CYL от", "CYL до", "Индекс", "Покрытие", "Диаметр"],
        ["L1", "Essilor Orma", 1500, "-8,00..+6,00", -4, 0, "1,5", "Crizal", "65/70"],
        ["L2", "Hoya Nulux", 2500, "от +6 до -8", -2, 0, 1.6, "HVLL", 70],
    ]
    result = analyse(xlsx_bytes(rows), Profile(columns=columns), preview=5)
    v = result.preview[0].values
    assert (v["sph_min"], v["sph_max"], v["cyl_min"], v["cyl_max"]) == (
        Decimal(-8),
        Decimal(6),
        Decimal(-4),
        Decimal(0),
    )
    assert v["lens_index"] == Decimal("1.5") and v["diameter"] == "65/70"
    assert [(p.row, p.code) for p in result.problems if p.is_error] == [(3, "range_inverted")]
