"""One poisoned journal entry must not block a till's push queue (issue 12, item 6).

Before: central stored ``total`` in an int4 column, the till allows sums up to 2^40-1; a
fiscalised cash-in of 2,500,000,000 kopecks made every push of the batch fail, and the
till resent the same batch forever — no sale after it ever reached central.

The till here is the real TillService with its SQLite journal, against the KKT emulator
process; central is MiniCentral (real HTTP) told to refuse the way a central that cannot
store an entry does: 400 naming the entry (the contract), or 400 for the whole batch
without a name (an older central, a database error).  The real central's side (64-bit
sums, the entry named in the 400) is tested in
addons/optics_pos_ru54fz/tests/test_security_push_input.py.
"""

import sys
import uuid as uuidlib
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))

from ru54fz.central_client import CentralRefused
from till_helpers import MiniCentral, close_service, make_service, order, service_on_shift

INT4_MAX = 2**31 - 1
BIG_CASH_IN = 2_500_000_000  # kopecks: 25,000,000 RUB, within the till's 2^40-1


def _too_big(entry):
    payload = entry.get("payload") or {}
    return max(payload.get("total") or 0, payload.get("amount") or 0) > INT4_MAX


def refuse_naming_the_entry(entries):
    for e in entries:
        if _too_big(e):
            return 400, {
                "code": "entry_invalid",
                "uuid": e["uuid"],
                "message": f"entry {e['uuid']}: total is out of range for central's database",
            }
    return None


def refuse_the_batch_without_a_name(entries):
    if any(_too_big(e) for e in entries):
        return 400, {"code": "entry_invalid", "message": "integer out of range"}
    return None


@pytest.fixture
def central():
    with MiniCentral().start() as mini:
        yield mini


@pytest.fixture
def svc(tmp_path, emu, central):
    with service_on_shift(
        tmp_path / "journal.sqlite", emu, central_url=central.url, central_token=central.token, push_batch=200
    ) as service:
        yield service


def _queue_with_poison(svc, sales_after=3):
    """A sale, the big cash-in, then more sales: uuids in journal order."""
    uuids = [svc.sale(order())["uuid"]]
    cash = {"uuid": f"cash-{uuidlib.uuid4()}", "amount": BIG_CASH_IN, "cashier": {"name": "Анна Кассирова"}}
    assert svc.cash_in(cash)["state"] == "fiscalised"
    uuids.append(cash["uuid"])
    uuids += [svc.sale(order())["uuid"] for _ in range(sales_after)]
    return uuids


def _state(svc, uid):
    return svc.journal.get(uid)["state"]


@pytest.mark.parametrize("refusal", [refuse_naming_the_entry, refuse_the_batch_without_a_name])
def test_a_refused_entry_is_set_aside_and_the_queue_goes_on(svc, central, refusal):
    central.refuse = refusal
    uuids = _queue_with_poison(svc, sales_after=6)
    poison = uuids[1]
    svc.push_to_central()
    # the poisoned entry is out of the queue, with central's reason; everything else arrived
    entry = svc.journal.get(poison)
    assert entry["state"] == "dead_letter"
    assert "400" in entry["error"] and "central_refused" in entry["error"]
    assert all(_state(svc, u) in ("delivered", "archived") for u in uuids if u != poison)
    assert set(uuids) - {poison} <= set(central.store) and poison not in central.store
    # the next sale goes through at once: nothing waits behind the set-aside entry
    requests = central.requests
    later = svc.sale(order())["uuid"]
    svc.push_to_central()
    assert later in central.store and _state(svc, later) in ("delivered", "archived")
    assert central.requests - requests <= 2, "the set-aside entry is not pushed again on every round"
    # visible on the till and reported to central with the till's status
    status = svc.status()
    assert status["level"] == "red" and status["journal"]["dead_letter"] == 1
    assert status["journal"]["set_aside"][0]["uuid"] == poison
    assert any("refused 1 journal entries" in m for m in status["messages"])
    assert {"code": "set_aside", "level": "red", "params": {"count": 1}} in status["reasons"]
    assert central.statuses[-1]["journal"]["dead_letter"] == 1
    # the KKT fiscalised each operation once; setting aside changed nothing there
    assert svc.journal.get(poison)["fiscal"] is not None


def test_a_set_aside_entry_is_delivered_once_central_takes_it(svc, central):
    central.refuse = refuse_naming_the_entry
    uuids = _queue_with_poison(svc, sales_after=1)
    svc.push_to_central()
    assert _state(svc, uuids[1]) == "dead_letter"
    central.refuse = None  # central fixed (64-bit sums)
    svc.push_to_central()  # not yet due: offered again only after an hour
    assert _state(svc, uuids[1]) == "dead_letter"
    svc.config["dead_letter_retry_seconds"] = 0
    svc.push_to_central()
    assert _state(svc, uuids[1]) == "archived"  # a cash-in has no OFD step: delivered means done
    assert central.store[uuids[1]]["payload"]["amount"] == BIG_CASH_IN
    assert svc.status()["journal"]["dead_letter"] == 0


def test_refusals_about_the_till_itself_set_nothing_aside(svc, central):
    uuids = [svc.sale(order())["uuid"] for _ in range(3)]
    # central refuses every push, even an empty one: the problem is not an entry
    central.refuse = lambda entries: (
        400,
        {"code": "request_invalid", "message": "'status' must be an object"},
    )
    with pytest.raises(CentralRefused):
        svc.push_to_central()
    assert [_state(svc, u) for u in uuids] == ["fiscalised"] * 3
    central.refuse = lambda entries: (
        401,
        {"code": "unauthorized", "uuid": entries[0]["uuid"] if entries else None},
    )
    with pytest.raises(CentralRefused):
        svc.push_to_central()
    assert [_state(svc, u) for u in uuids] == ["fiscalised"] * 3
    assert svc.status()["journal"]["dead_letter"] == 0
    central.refuse = None
    svc.push_to_central()
    assert all(_state(svc, u) in ("delivered", "archived") for u in uuids)


class RefusingCentral(MiniCentral):
    """Takes the push (200) but lists some entries as refused, as the real central does
    for a uuid another till owns."""

    refused_uuids = set()

    def handle(self, entries):
        reply = super().handle([e for e in entries if e["uuid"] not in self.refused_uuids])
        reply["refused"] = [
            {"uuid": e["uuid"], "code": "foreign_document", "message": "owned by another till"}
            for e in entries
            if e["uuid"] in self.refused_uuids
        ]
        return reply


def test_entries_central_lists_as_refused_are_set_aside_not_pushed_forever(tmp_path, emu):
    central = RefusingCentral().start()
    svc = make_service(tmp_path / "journal.sqlite", emu, central_url=central.url, central_token=central.token)
    try:
        svc.start()
        svc.open_shift({"uuid": f"shift-{uuidlib.uuid4()}", "cashier": {"name": "Анна Кассирова"}})
        uuids = [svc.sale(order())["uuid"] for _ in range(3)]
        central.refused_uuids = {uuids[1]}
        svc.push_to_central()
        assert _state(svc, uuids[1]) == "dead_letter"
        assert "foreign_document" in svc.journal.get(uuids[1])["error"]
        assert _state(svc, uuids[0]) != "fiscalised" and _state(svc, uuids[2]) != "fiscalised"
        # retried after its delay, still refused: stays aside, not re-sent on every round
        svc.config["dead_letter_retry_seconds"] = 0
        svc.push_to_central()
        assert _state(svc, uuids[1]) == "dead_letter"
        assert svc.journal.get(uuids[1])["attempts"] >= 2
    finally:
        close_service(svc)
        central.stop()
