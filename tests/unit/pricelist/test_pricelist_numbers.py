from decimal import Decimal

import pytest
from pricelist.ean import ean_is_valid
from pricelist.numbers import NotANumber, parse_number, parse_range
from pricelist.validate import parse_vat
from pricelist_testfiles import EAN8, EAN13, GTIN14, UPCA


@pytest.mark.parametrize(
    "text,sep,expected",
    [
        ("13,75", "auto", "13.75"),
        ("13.75", "auto", "13.75"),
        ("1 234,50", "auto", "1234.50"),
        ("1\u00a0234,50", ",", "1234.50"),  # NBSP thousands separator
        ("1\u202f234\u202f567,5", ",", "1234567.5"),  # narrow NBSP
        ("1.234,50", "auto", "1234.50"),
        ("1,234.50", "auto", "1234.50"),
        ("1.234.567,89", ",", "1234567.89"),
        ("  990 ", "auto", "990"),
        ("990 руб.", "auto", "990"),
        ("−5,25", ",", "-5.25"),  # Unicode minus
        ("+2.00", ".", "2.00"),
    ],
)
def test_parse_number_text(text, sep, expected):
    value, was_text = parse_number(text, sep)
    assert value == Decimal(expected)
    assert was_text


@pytest.mark.parametrize(
    "text,sep",
    [
        ("13,75", "."),  # a comma with a dot-decimal profile: 13,75 is not "1375"
        ("1.2.3", "auto"),
        ("12,5,1", ","),
        ("abc", "auto"),
        ("", "auto"),
        ("1 2x", "auto"),
    ],
)
def test_parse_number_rejects_instead_of_guessing(text, sep):
    with pytest.raises(NotANumber):
        parse_number(text, sep)


def test_parse_number_typed_values():
    assert parse_number(13.75) == (Decimal("13.75"), False)
    assert parse_number(1250) == (Decimal(1250), False)
    with pytest.raises(NotANumber):
        parse_number(float("nan"))


@pytest.mark.parametrize(
    "text,low,high",
    [
        ("-8.00..+6.00", "-8", "6"),
        ("от -8 до +6", "-8", "6"),
        ("-8,00 / 6,00", "-8", "6"),
        ("-10 - -2", "-10", "-2"),
        ("0.75...3.50", "0.75", "3.5"),
        ("3-5", "3", "5"),
    ],
)
def test_parse_range(text, low, high):
    assert parse_range(text, "auto") == (Decimal(low), Decimal(high))


def test_ean_checksums():
    for code in EAN13 + [EAN8, UPCA, GTIN14]:
        assert ean_is_valid(code), code
    assert not ean_is_valid("4006381333932")  # last digit off by one
    assert not ean_is_valid("96385075")
    assert not ean_is_valid("036000291453")
    assert not ean_is_valid("12345")  # wrong length
    assert not ean_is_valid("400638133393")  # 12 digits, wrong UPC check
    assert not ean_is_valid("40063813339A1")


@pytest.mark.parametrize(
    "text,expected",
    [
        ("20%", "20"),
        ("0.20", "20"),
        ("0,2", "20"),
        ("20", "20"),
        ("НДС 22 %", "22"),
        ("10 %", "10"),
        ("без НДС", "exempt"),
        ("Не облагается", "exempt"),
        ("0%", "0"),
        ("18%", None),
        ("abc", None),
    ],
)
def test_parse_vat(text, expected):
    assert parse_vat(text) == expected
