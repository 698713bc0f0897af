"""TillService against the KKT emulator process over TCP (no fake device)."""

import threading

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ru54fz import errors
from ru54fz.ofd.mock_server import MockOfd
from till_helpers import (
    MiniCentral,
    close_service,
    make_service,
    open_shift,
    order,
    running_service,
    service_on_shift,
    wait_for,
)


@pytest.fixture
def svc(tmp_path, emu):
    with service_on_shift(tmp_path / "journal.sqlite", emu) as service:
        yield service


def last_fd(svc):
    return svc.device.fn_status().last_fd_number


def test_sale_is_journaled_then_fiscalised_once(svc, emu):
    before = last_fd(svc)
    o = order(total_lines=5)
    r = svc.sale(o)
    f = r["fiscal"]
    assert r["uuid"] == o["uuid"] and r["state"] == "fiscalised"
    assert f["fd_number"] == before + 1 and f["fiscal_sign"] > 0 and f["fd_type"] == 3
    assert "s=5000.00" in f["qr"] and f"i={f['fd_number']}" in f["qr"]
    doc = svc.device.find_document(f["fd_number"])
    assert doc.total == 500000 and doc.operation == 1 and doc.fiscal_sign == f["fiscal_sign"]
    e = svc.journal.get(o["uuid"])
    assert e["state"] == "fiscalised" and e["expected_fd"] == f["fd_number"]
    # the replay returns the stored answer and prints nothing new
    assert svc.sale(o) == r
    assert last_fd(svc) == before + 1


def test_same_uuid_ten_times_concurrently_gives_one_document(svc):
    before = last_fd(svc)
    o = order()
    results, errs = [], []

    def post():
        try:
            results.append(svc.sale(dict(o)))
        except Exception as exc:  # noqa: BLE001
            errs.append(exc)

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errs
    assert len(results) == 10 and all(r == results[0] for r in results)
    assert last_fd(svc) == before + 1


def test_bad_input_journals_nothing_and_touches_no_device(svc):
    before = last_fd(svc)
    count = svc.journal.counts()
    bad = [
        order(payments=[{"kind": "card", "amount": "1.00"}]),
        order(lines=[{"name": "x", "quantity": "0", "price": "1.00", "amount": "0.00", "vat_code": 6}]),
        order(
            lines=[{"name": "x", "quantity": "1", "price": "1.00", "amount": "1.00", "vat_code": 99}],
            payments=[{"kind": "cash", "amount": "1.00"}],
        ),
        order(buyer_contact="x" * 65),
        order(operation="refund", refund_of=None),
    ]
    for o in bad:
        with pytest.raises(errors.FiscalError) as exc:
            svc.sale(o)
        assert exc.value.http_status == 400, exc.value
    # an original nobody can vouch for is a conflict (issue 12 item 3), not bad input
    with pytest.raises(errors.Conflict):
        svc.sale(order(operation="refund", refund_of={"uuid": "never-sold"}))
    assert svc.journal.counts() == count
    assert last_fd(svc) == before


def test_device_refusal_then_retry_of_the_same_uuid(svc, emu):
    emu.control.set(paper_out=True)
    o = order()
    before = last_fd(svc)
    with pytest.raises(errors.PaperOut) as exc:
        svc.sale(o)
    assert exc.value.http_status == 502
    assert svc.journal.get(o["uuid"])["state"] == "failed"
    assert last_fd(svc) == before
    emu.control.set(paper_out=False)
    r = svc.sale(o)
    assert r["fiscal"]["fd_number"] == before + 1
    assert svc.sale(o) == r


@pytest.mark.parametrize("when", ["before", "after"])
def test_lost_link_at_close_is_settled_exactly_once(svc, emu, when):
    """The link drops on the close-receipt command (FF45), before or after the
    KKT executed it: the till settles by FD number, never a second document."""
    before = last_fd(svc)
    emu.control.power_loss(when=when, command="FF45")
    o = order()
    try:
        r = svc.sale(o)
    except errors.TransportError:
        r = svc.sale(o)  # the POS retries the same uuid
    assert r["state"] == "fiscalised"
    assert last_fd(svc) == before + 1
    assert svc.device.find_document(before + 1).total == 200000


def test_refund_saga(tmp_path, emu):
    ofd = MockOfd().start()
    central = MiniCentral(ofd_port=ofd.port).start()
    s = make_service(tmp_path / "j.sqlite", emu, central_url=central.url, central_token=central.token)
    try:
        s.start()
        s.open_shift({"uuid": "shift-0002", "cashier": {"name": "Анна"}})
        sale = order(pay="card")
        r = s.sale(sale)
        ref = {
            "uuid": sale["uuid"],
            "fiscal_sign": r["fiscal"]["fiscal_sign"],
            "fd_number": r["fiscal"]["fd_number"],
        }
        card_back = order(operation="refund", pay="card", refund_of=ref)
        with pytest.raises(errors.Conflict, match="not yet confirmed by the OFD") as exc:
            s.sale(card_back)
        assert exc.value.http_status == 409
        assert s.journal.get(card_back["uuid"]) is None
        # central takes the entries and the FN's OFD messages; tickets come back into the FN
        out = s.push_to_central()
        assert out["tickets"] >= 1
        assert s.journal.get(sale["uuid"])["ofd_confirmed"] == 1
        assert s.device.find_document(r["fiscal"]["fd_number"]).ofd_confirmed
        cash_back = order(operation="refund", pay="cash", refund_of=ref)
        with pytest.raises(errors.DocumentInvalid, match="not paid by cash"):
            s.sale(cash_back)
        rr = s.sale(card_back)
        assert rr["fiscal"]["fd_number"] == r["fiscal"]["fd_number"] + 1
        doc = s.device.find_document(rr["fiscal"]["fd_number"])
        assert doc.operation == 2 and doc.total == 200000
        # a second refund of the same sale would pay back more than was paid
        with pytest.raises(errors.DocumentInvalid, match="in total"):
            s.sale(order(operation="refund", pay="card", refund_of=ref))
        # two different full refunds of one sale at the same moment: only one goes through
        sale2 = order(pay="card")
        r2 = s.sale(sale2)
        s.push_to_central()
        ref2 = {"uuid": sale2["uuid"], "fiscal_sign": r2["fiscal"]["fiscal_sign"]}
        outcomes = []

        def refund_it():
            try:
                outcomes.append(s.sale(order(operation="refund", pay="card", refund_of=ref2))["state"])
            except errors.DocumentInvalid:
                outcomes.append("refused")

        threads = [threading.Thread(target=refund_it) for _ in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["fiscalised", "refused"]
    finally:
        close_service(s)
        central.stop()
        ofd.stop()


def test_clock_skew_warns_then_blocks_sales(svc, emu):
    emu.control.clock(offset=-150)
    st = svc.status()
    assert st["clock"]["level"] == "warn" and 140 <= st["clock"]["skew_seconds"] <= 160
    assert st["level"] == "yellow"
    skew = [r for r in st["reasons"] if r["code"] == "clock_skew"]
    assert [r["level"] for r in skew] == ["yellow"] and skew[0]["params"]["seconds"] == st["clock"][
        "skew_seconds"
    ]
    assert any("clock is" in m for m in st["messages"])  # the English messages stay, made from the reasons
    emu.control.clock(offset=-400)
    svc.check_clock(force=True)
    o = order()
    with pytest.raises(errors.ClockMismatch):
        svc.sale(o)
    assert svc.journal.get(o["uuid"]) is None
    st = svc.status()
    assert st["level"] == "red"
    assert [(r["code"], r["level"]) for r in st["reasons"] if r["code"].startswith("clock")] == [
        ("clock_blocked", "red")
    ]
    emu.control.clock(offset=0)
    svc.check_clock(force=True)
    assert svc.sale(o)["state"] == "fiscalised"


def test_journal_unavailable_refuses_before_the_device(tmp_path, emu):
    import sqlite3

    s = make_service(tmp_path / "j.sqlite", emu)
    s.journal._db.execute("PRAGMA busy_timeout = 100")
    s.start()
    s.open_shift({"uuid": "shift-0002", "cashier": {"name": "Анна"}})
    before = last_fd(s)
    other = sqlite3.connect(tmp_path / "j.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(errors.JournalUnavailable) as exc:
            s.sale(order())
        assert exc.value.http_status == 503
        assert last_fd(s) == before
        assert emu.control.state()["doc"] in (None, 0, {}) or not emu.control.state()["doc"]
    finally:
        other.execute("ROLLBACK")
        close_service(s)


def test_cash_x_report_close_shift_and_status(svc):
    svc.sale(order(pay="cash"))
    ci = svc.cash_in({"uuid": "cashin-0001", "amount": 500000, "cashier": "Анна"})
    assert ci["state"] == "fiscalised"
    assert svc.cash_in({"uuid": "cashin-0001", "amount": 500000, "cashier": "Анна"}) == ci
    svc.cash_out({"uuid": "cashout-0001", "amount": 100000, "cashier": "Анна"})
    x = svc.x_report({"uuid": "xreport-0001", "cashier": "Анна"})
    assert "counters" in x
    st = svc.status()
    assert st["shift"]["open"] is True and st["journal"]["entries"] >= 5
    assert st["journal"]["undelivered"] >= 4 and st["ofd"]["backlog"] >= 2
    assert st["clock"]["level"] == "ok" and st["fn"]["fn_serial"]
    assert st["level"] == "green" and st["reasons"] == [] and st["messages"] == []
    z = svc.close_shift({"uuid": "zreport-0001", "cashier": {"name": "Анна"}})
    assert z["fiscal"]["fd_type"] == 5
    st = svc.status()
    assert st["shift"]["open"] is False
    assert [r["code"] for r in st["reasons"]] == ["shift_closed"] and st["messages"] == ["no shift is open"]
    with pytest.raises(errors.ShiftClosed):
        svc.sale(order())
    q = svc.journal_query(state="fiscalised", limit=3)["entries"]
    assert len(q) == 3 and [int(e["hlc"]) for e in q] == sorted(int(e["hlc"]) for e in q)


class Crash(BaseException):
    """Stands for the process dying at a fault point (the crash matrix uses SIGKILL)."""


def service_crashing_at(path, emu, point):
    """A started service with its shift open that dies (``Crash``) at the fault point ``point``
    once ``arm()`` is called: (service, arm)."""
    armed = []

    def hook(name):
        if armed and name == point:
            raise Crash(name)

    svc = make_service(path, emu, fault_hook=hook)
    svc.start()
    open_shift(svc)
    return svc, lambda: armed.append(True)


@pytest.mark.parametrize("point, fiscalised", [("after_sent", False), ("after_device", True)])
def test_settle_on_start_after_an_interrupted_receipt(tmp_path, emu, point, fiscalised):
    """A previous run stopped with the entry `sent`, before or after the KKT closed
    the receipt.  A fresh service settles it from the FN before serving anything:
    one fiscal document either way."""
    s, arm = service_crashing_at(tmp_path / "j.sqlite", emu, point)
    before = last_fd(s)
    o = order()
    arm()
    with pytest.raises(Crash):
        s.sale(o)
    assert s.journal.get(o["uuid"])["state"] == "sent"
    assert last_fd(s) == before + (1 if fiscalised else 0)
    close_service(s)
    with running_service(tmp_path / "j.sqlite", emu) as s2:
        e = s2.journal.get(o["uuid"])
        assert e["state"] == "fiscalised" and e["fd_number"] == before + 1
        assert last_fd(s2) == before + 1
        assert s2.sale(o)["fiscal"]["fd_number"] == before + 1


def test_pusher_thread_backs_off_while_central_is_down(tmp_path, emu):
    central = MiniCentral()
    central.start()
    port = central.port
    central.stop()  # central is down from the start
    s = make_service(
        tmp_path / "j.sqlite",
        emu,
        central_url=f"http://127.0.0.1:{port}",
        central_token=central.token,
        autopush=True,
        push_interval=0.2,
        push_backoff_max=0.5,
    )
    try:
        s.start()
        s.open_shift({"uuid": "shift-0002", "cashier": {"name": "Анна"}})
        s.sale(order())
        assert wait_for(lambda: s.push_state["backoff"] > 0)
        assert s.status()["central"]["last_error"]
        central.start(port=port)
        assert wait_for(lambda: s.journal.counts()["fiscalised"] == 0, timeout=10)
        assert len(central.store) == 2
    finally:
        close_service(s)
        central.stop()


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**15), 10**15)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=200),
    lambda ch: st.lists(ch, max_size=4) | st.dictionaries(st.text(max_size=10), ch, max_size=5),
    max_leaves=30,
)
KEYS = [
    "uuid",
    "operation",
    "cashier",
    "lines",
    "payments",
    "refund_of",
    "tax_system",
    "buyer_contact",
    "pos_reference",
    "correction",
    "amount",
]


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_fuzz_requests_never_crash_and_rejects_journal_nothing(svc, data):
    """Random, truncated and oversized requests: a typed 4xx (or a valid sale),
    never an unexpected exception, and a rejected request leaves no trace."""
    base = order()
    if data.draw(st.booleans()):
        payload = data.draw(st.dictionaries(st.sampled_from(KEYS), json_values, max_size=8))
    else:
        payload = dict(base)
        key = data.draw(st.sampled_from(KEYS))
        payload[key] = data.draw(json_values)
    method = data.draw(
        st.sampled_from([svc.sale, svc.correction, svc.cash_in, svc.cash_out, svc.x_report, svc.open_shift])
    )
    count = sum(svc.journal.counts().values())
    try:
        method(payload)
    except errors.FiscalError as exc:
        if exc.http_status == 400:
            assert sum(svc.journal.counts().values()) == count
        else:
            assert exc.http_status in (409, 502, 503), exc


def test_start_is_not_blocked_by_an_operation_the_kkt_refuses(tmp_path, emu):
    """A sale left unfinished by a crash cannot be completed on restart (paper
    out): the service still starts, the entry is `failed`, and the POS posting
    the uuid again gets exactly one document once the paper is back."""
    s, arm = service_crashing_at(tmp_path / "j.sqlite", emu, "after_journal")
    before = last_fd(s)
    o = order()
    arm()
    with pytest.raises(Crash):
        s.sale(o)
    close_service(s)
    emu.control.set(paper_out=True)
    s2 = make_service(tmp_path / "j.sqlite", emu)
    try:
        s2.start()
        assert s2.journal.get(o["uuid"])["state"] == "failed"
        assert s2.status()["journal"]["failed"] == 1
        emu.control.set(paper_out=False)
        r = s2.sale(o)
        assert r["fiscal"]["fd_number"] == before + 1 and last_fd(s2) == before + 1
    finally:
        emu.control.set(paper_out=False)
        close_service(s2)


@pytest.mark.parametrize("point", ["after_sent", "after_device"])
def test_cash_in_interrupted_is_settled_from_the_kkt_counters(tmp_path, emu, point):
    """Cash in/out leave no FD to look up: the KKT's cash counters recorded
    before the command tell on restart whether it went through."""
    s, arm = service_crashing_at(tmp_path / "j.sqlite", emu, point)
    before = s.counters()["cash_in"]["total"]
    arm()
    with pytest.raises(Crash):
        s.cash_in({"uuid": "cashin-crash-0001", "amount": 250000, "cashier": "Анна"})
    assert s.journal.get("cashin-crash-0001")["state"] == "sent"
    close_service(s)
    with running_service(tmp_path / "j.sqlite", emu) as s2:
        assert s2.journal.get("cashin-crash-0001")["state"] == "fiscalised"
        assert s2.counters()["cash_in"]["total"] == before + 250000
        s2.cash_in({"uuid": "cashin-crash-0001", "amount": 250000, "cashier": "Анна"})
        assert s2.counters()["cash_in"]["total"] == before + 250000
