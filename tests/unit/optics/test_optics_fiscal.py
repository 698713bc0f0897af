"""Lab-order settlement lines in 54-FZ terms: 1214 = 1 / 3 at order, 4 at hand-over; kopecks exact."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opticslib import fiscal

KIT = [
    fiscal.KitLine("Оправа", 500000, vat_code=6, barcode="4600000000017"),
    fiscal.KitLine("Линза OD", 200000, vat_code=6),
    fiscal.KitLine("Линза OS", 200000, vat_code=6),
    fiscal.KitLine("Обточка", 80000, vat_code=11, subject=fiscal.SUBJECT_SERVICE),
]
TOTAL = 980000


def test_full_prepayment_is_1214_1_with_goods_at_calculated_rate():
    lines = fiscal.prepayment_lines(KIT, TOTAL, "LAB/1")
    assert [ln["payment_method"] for ln in lines] == [1, 1, 1, 1]
    assert [ln["vat_code"] for ln in lines] == [6, 6, 6, 12]
    assert [ln["subject"] for ln in lines] == [1, 1, 1, 4]
    assert sum(ln["amount"] for ln in lines) == TOTAL
    assert lines[0]["barcode"] == "4600000000017"


def test_advance_is_1214_3_split_by_vat_code():
    lines = fiscal.prepayment_lines(KIT, 300000, "LAB/1")
    assert {ln["payment_method"] for ln in lines} == {3}
    assert {ln["subject"] for ln in lines} == {10}
    assert sorted(ln["vat_code"] for ln in lines) == [6, 12]
    assert sum(ln["amount"] for ln in lines) == 300000
    exempt = next(ln for ln in lines if ln["vat_code"] == 6)
    assert exempt["amount"] == 275510  # 300000 * 900000 / 980000 = 275510.2
    assert "LAB/1" in exempt["name"] and "без НДС" in exempt["name"]


def test_single_vat_advance_has_one_plain_line():
    kit = KIT[:3]
    lines = fiscal.prepayment_lines(kit, 100000, "LAB/7")
    assert len(lines) == 1
    assert lines[0]["name"] == "Аванс по заказу LAB/7"
    assert (lines[0]["amount"], lines[0]["vat_code"], lines[0]["quantity"]) == (100000, 6, 1000)


def test_handover_is_1214_4_at_sale_rates():
    lines = fiscal.handover_lines(KIT)
    assert {ln["payment_method"] for ln in lines} == {4}
    assert [ln["vat_code"] for ln in lines] == [6, 6, 6, 11]
    assert sum(ln["amount"] for ln in lines) == TOTAL


@pytest.mark.parametrize("amount", [0, -1, TOTAL + 1])
def test_bad_prepayment(amount):
    with pytest.raises(ValueError):
        fiscal.prepayment_lines(KIT, amount, "LAB/1")


def test_prepayment_vat_mapping():
    assert [fiscal.prepayment_vat(c) for c in (1, 2, 5, 6, 7, 8, 11)] == [3, 4, 5, 6, 9, 10, 12]


@given(
    st.integers(min_value=0, max_value=10**9),
    st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=6).filter(lambda w: sum(w) > 0),
)
def test_allocation_is_exact_and_proportional(total, weights):
    shares = fiscal.allocate(total, weights)
    assert sum(shares) == total
    wsum = sum(weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share * wsum - total * weight) < wsum  # within one kopeck of the exact share
        assert share >= 0


def test_allocation_edge_cases():
    assert fiscal.allocate(0, [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        fiscal.allocate(5, [0, 0])
    with pytest.raises(ValueError):
        fiscal.allocate(-1, [1])
