"""One owner per till (ru54fz/ownership.py) and the refund saga policy at the till.

Two ``TillService`` objects on one journal file stand for two processes of one
till (prefork workers): each has its own thread locks, its own KKT connection
and its own descriptor of the owner lock file, exactly like two processes.
The KKT is the emulator process over TCP.
"""

import threading

import pytest
from ru54fz import errors
from ru54fz.journal import Journal
from ru54fz.ownership import FileOwnerLock, TillBusy
from till_helpers import MiniCentral, close_service, make_service, order


@pytest.fixture
def pair(tmp_path, emu):
    """Two services of one till: one journal file, one KKT."""
    path = tmp_path / "journal.sqlite"
    a = make_service(path, emu, owner_wait_seconds=0.3)
    b = make_service(path, emu, owner_wait_seconds=0.3)
    a.start()
    b.start()
    a.open_shift({"uuid": "shift-owner-1", "cashier": {"name": "Анна Кассирова"}})
    yield a, b
    close_service(a)
    close_service(b)


def last_fd(emu):
    return emu.control.state()["last_fd"]


def test_two_services_on_one_journal_cannot_both_own_it(pair, emu):
    a, b = pair
    before = last_fd(emu)
    o = order()
    with a._device_lock:  # `a` owns the till (as while it prints a receipt)
        with pytest.raises(TillBusy) as exc:
            b.sale(o)
        assert exc.value.http_status == 503 and exc.value.retryable
        with pytest.raises(TillBusy):
            b.cancel_open()
        with pytest.raises(TillBusy):
            b.settle()
        # nothing was journaled, nothing reached the KKT
        assert b.journal.get(o["uuid"]) is None
        assert last_fd(emu) == before
    # handed back: the other one owns it now, and the retry goes through once
    r = b.sale(o)
    assert r["fiscal"]["fd_number"] == before + 1
    assert a.sale(o) == r
    assert last_fd(emu) == before + 1


def test_flock_is_exclusive_between_lock_objects(tmp_path):
    path = tmp_path / "j.sqlite.owner"
    one, two = FileOwnerLock(path), FileOwnerLock(path)
    try:
        assert one.acquire(0)
        assert not two.acquire(0.05)
        one.release()
        assert two.acquire(0)
        assert not one.acquire(0)
    finally:
        one.close()
        two.close()


def test_same_sale_posted_to_both_services_at_once_gives_one_document(pair, emu):
    a, b = pair
    for a_or_b in (a, b):
        a_or_b._device_lock.wait = 30  # contention here is expected: wait, don't refuse
    before = last_fd(emu)
    sales = [order() for _ in range(6)]
    results, errs = [], []

    def post(svc, o):
        try:
            results.append((o["uuid"], svc.sale(dict(o))))
        except Exception as exc:  # noqa: BLE001
            errs.append(exc)

    threads = [threading.Thread(target=post, args=(svc, o)) for o in sales for svc in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errs
    by_uuid = {}
    for uid, r in results:
        by_uuid.setdefault(uid, []).append(r)
    assert len(by_uuid) == 6 and all(len(rs) == 4 and all(r == rs[0] for r in rs) for rs in by_uuid.values())
    # exactly one FD per sale on the FN, each one known to the journal
    assert last_fd(emu) == before + 6
    journal_fds = {a.journal.get(o["uuid"])["fd_number"] for o in sales}
    assert journal_fds == set(range(before + 1, before + 7))
    for fd in journal_fds:
        assert a.device.find_document(fd).operation == 1


def test_hlc_stays_ordered_across_two_journal_objects(tmp_path):
    """A second process whose clock is behind still stamps after the newest entry."""
    path = tmp_path / "j.sqlite"
    ahead = Journal(path, clock=lambda: 2_000_000_000.0, check=None)
    behind = Journal(path, clock=lambda: 1_000_000_000.0, check=None)
    try:
        first, _ = ahead.insert("00000000-0000-4000-8000-000000000001", "cash_in", {"amount": 1})
        second, _ = behind.insert("00000000-0000-4000-8000-000000000002", "cash_in", {"amount": 1})
        assert second["hlc"] > first["hlc"]
        assert [r["uuid"] for r in ahead.query()] == [first["uuid"], second["uuid"]]
    finally:
        ahead.close()
        behind.close()


# -- refund saga policy at the till (docs/refund_saga.md) -----------------------------------


def _refund_of(sale, r):
    return {
        "uuid": sale["uuid"],
        "fiscal_sign": r["fiscal"]["fiscal_sign"],
        "fd_number": r["fiscal"]["fd_number"],
    }


def test_policy_off_refunds_an_fn_fiscalised_sale_the_ofd_has_not_confirmed(tmp_path, emu):
    s = make_service(tmp_path / "j.sqlite", emu)
    try:
        s.start()
        s.open_shift({"uuid": "shift-policy-1", "cashier": {"name": "Анна"}})
        assert s.refund_requires_ofd()  # the default
        sale = order(pay="card")
        r = s.sale(sale)
        refund = order(operation="refund", pay="card", refund_of=_refund_of(sale, r))
        with pytest.raises(errors.Conflict, match="not yet confirmed by the OFD"):
            s.sale(refund)
        assert s.journal.get(refund["uuid"]) is None
        s.set_refund_requires_ofd(False)
        rr = s.sale(refund)
        doc = s.device.find_document(rr["fiscal"]["fd_number"])
        assert doc.operation == 2 and doc.total == 200000
        assert not s.journal.get(sale["uuid"])["ofd_confirmed"]
        # the means check still holds: no second full refund
        with pytest.raises(errors.DocumentInvalid, match="in total"):
            s.sale(order(operation="refund", pay="card", refund_of=_refund_of(sale, r)))
    finally:
        close_service(s)


def test_policy_off_never_refunds_what_the_fn_has_not_fiscalised(tmp_path, emu):
    s = make_service(tmp_path / "j.sqlite", emu, refund_requires_ofd_confirmation=False)
    try:
        s.start()
        s.open_shift({"uuid": "shift-policy-2", "cashier": {"name": "Анна"}})
        emu.control.set(paper_out=True)
        sale = order(pay="card")
        with pytest.raises(errors.PaperOut):
            s.sale(sale)
        emu.control.set(paper_out=False)
        assert s.journal.get(sale["uuid"])["state"] == "failed"
        before = last_fd(emu)
        with pytest.raises(errors.Conflict, match="not fiscalised"):
            s.sale(order(operation="refund", pay="card", refund_of={"uuid": sale["uuid"]}))
        assert last_fd(emu) == before
    finally:
        close_service(s)


def test_the_till_learns_the_policy_from_central_and_keeps_it(tmp_path, emu):
    central = MiniCentral().start()
    path = tmp_path / "j.sqlite"
    s = make_service(path, emu, central_url=central.url, central_token=central.token)
    try:
        s.start()
        s.open_shift({"uuid": "shift-policy-3", "cashier": {"name": "Анна"}})
        sale = order(pay="card")
        r = s.sale(sale)
        central.settings = {"refund_requires_ofd_confirmation": False}
        s.push_to_central()  # central has no OFD link here: nothing gets confirmed
        assert not s.journal.get(sale["uuid"])["ofd_confirmed"]
        assert s.refund_requires_ofd() is False
        close_service(s)
        # restarted while central is unreachable: the policy is remembered
        central.stop()
        s = make_service(path, emu, central_url=central.url, central_token=central.token)
        s.start()
        assert s.refund_requires_ofd() is False
        rr = s.sale(order(operation="refund", pay="card", refund_of=_refund_of(sale, r)))
        assert rr["state"] == "fiscalised"
        # and central switching it back on is applied with the next push
        central.start()
        s.central.url = f"{central.url}/optics_pos_ru54fz/central/push"
        central.settings = {"refund_requires_ofd_confirmation": True}
        s.push_to_central()
        assert s.refund_requires_ofd() is True
        sale2 = order(pay="card")
        r2 = s.sale(sale2)
        with pytest.raises(errors.Conflict, match="not yet confirmed by the OFD"):
            s.sale(order(operation="refund", pay="card", refund_of=_refund_of(sale2, r2)))
    finally:
        close_service(s)
        central.stop()


# -- OFD delivery pace: the ticket of a carried message is asked for soon ---------------------


def test_the_pusher_asks_for_the_ticket_soon_after_carrying_an_ofd_message(tmp_path, emu):
    """Central delivers the FN's message in a job and returns the ticket in a LATER push
    reply; the FN hands out its next message only after that ticket.  With the push
    interval alone (60 s here) three receipts would need minutes; the ticket poll
    (0.2 s, doubling) confirms them all within seconds."""
    import time as _time

    from ru54fz.ofd.mock_server import MockOfd

    ofd = MockOfd().start()
    central = MiniCentral(ofd_port=ofd.port).start()
    central.late_tickets = True
    s = make_service(
        tmp_path / "j.sqlite",
        emu,
        central_url=central.url,
        central_token=central.token,
        autopush=True,
        push_interval=60.0,
        ofd_ticket_poll=0.2,
    )
    try:
        s.start()
        s.open_shift({"uuid": "shift-poll-1", "cashier": {"name": "Анна"}})
        sales = [order() for _ in range(3)]
        for o in sales:
            s.sale(o)
        t0 = _time.monotonic()
        deadline = t0 + 20
        while _time.monotonic() < deadline:
            if all(s.journal.get(o["uuid"])["ofd_confirmed"] for o in sales):
                break
            _time.sleep(0.1)
        assert all(s.journal.get(o["uuid"])["ofd_confirmed"] for o in sales), (
            f"not all confirmed after 20 s ({central.requests} pushes)"
        )
        assert _time.monotonic() - t0 < 20
    finally:
        close_service(s)
        central.stop()
        ofd.stop()
