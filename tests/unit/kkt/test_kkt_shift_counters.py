"""The Z report's reading of the shift counters (ru54fz/shift_counters.py) on what a strict
emulated KKT really answers: the figures a manager sees on the Z report and in the
till-against-session comparison are the KKT's own, under the names the report uses."""

from kkt_testing import item, receipt
from ru54fz import shift_counters


def test_the_z_report_figures_are_the_kkts_counters(shift):
    shift.fiscalise(receipt([item(price=250000)]))  # cash sale 2,500.00
    shift.fiscalise(receipt([item(price=120000)], electronic=120000))  # card sale 1,200.00
    shift.fiscalise(receipt([item(price=50000)], operation=2))  # cash refund 500.00
    shift.cash_in(100000)
    shift.cash_out(30000)

    figures = shift_counters.z_report_figures(shift.shift_counters())

    assert figures["shift_number"] == 1
    assert figures["receipt_count"] == 3
    assert figures["sale"] == {
        "count": 2,
        "cash": 250000,
        "card": 120000,
        "prepayment": 0,
        "credit": 0,
        "other": 0,
        "total": 370000,
    }
    assert (figures["refund"]["count"], figures["refund"]["cash"], figures["refund"]["total"]) == (
        1,
        50000,
        50000,
    )
    assert figures["expense"]["count"] == 0 and figures["expense_refund"]["total"] == 0
    assert (figures["cash_in"], figures["cash_in_count"], figures["cash_out"], figures["cash_out_count"]) == (
        100000,
        1,
        30000,
        1,
    )
    # the drawer: 2,500 sold - 500 refunded + 1,000 in - 300 out
    assert figures["cash_in_drawer"] == 270000


def test_close_shift_carries_the_counters_it_closed_with(shift):
    shift.fiscalise(receipt([item(price=99900)]))
    before = shift_counters.z_report_figures(shift.shift_counters())
    result = shift.close_shift("Смирнова А.", "500100732259")
    carried = shift_counters.z_report_figures(shift_counters.of_close_shift(result.to_dict()))
    assert carried["sale"]["cash"] == 99900 and carried["receipt_count"] == 1
    assert carried == before


def test_counters_under_other_names_are_not_guessed():
    """A driver that answered another shape would show zeros on the Z report (and the
    comparison would block the close), not figures read from a look-alike key."""
    look_alike = {
        "shift": 7,
        "sales": {"count": 3, "cashless": 1000},
        "cash_balance": 500,
        "fn": {"backlog": 2},
    }
    figures = shift_counters.z_report_figures(look_alike)
    assert figures["shift_number"] == 0 and figures["receipt_count"] == 0
    assert figures["sale"]["card"] == 0 and figures["cash_in_drawer"] is None
    assert figures["ofd"]["unconfirmed_count"] == 0


def test_a_kkt_total_left_at_zero_is_the_sum_of_its_means():
    counters = {"receipts": {"sale": {"count": 1, "cash": 100, "electronic": 50, "total": 0}}}
    assert shift_counters.z_report_figures(counters)["sale"]["total"] == 150


def test_of_reply_reads_both_answer_shapes():
    counters = {"shift_number": 2, "receipts": {}}
    assert shift_counters.of_reply(counters) is counters
    assert shift_counters.of_reply({"uuid": "u", "state": "fiscalised", "counters": counters}) is counters
    assert shift_counters.of_reply(None) == {}
