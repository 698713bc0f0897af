"""What each push to central carries (issue 18: a push that brings nothing new must not cost
central a full ingestion; the OFD ticket loop must not push for nothing).

Against the KKT emulator over TCP, a real HTTP central (MiniCentral) and the mock OFD."""

import contextlib
import random
import threading
import time

import pytest
from ru54fz.ofd.mock_server import MockOfd
from ru54fz.till_service import jittered, next_ticket_wait
from till_helpers import MiniCentral, order, service_on_shift, wait_for


@pytest.fixture
def ofd():
    o = MockOfd().start()
    yield o
    o.stop()


@contextlib.contextmanager
def till_of(tmp_path, emu, central, **config):
    """A till on shift (the shared ``emu`` register) pushing to ``central`` only when told."""
    try:
        with service_on_shift(
            tmp_path / "journal.sqlite", emu, central_url=central.url, central_token=central.token, **config
        ) as svc:
            yield svc
    finally:
        central.stop()


def test_a_ticket_poll_carries_the_ofd_message_again_only_after_the_resend_delay(tmp_path, emu):
    central = MiniCentral().start()  # no OFD behind it: the ticket never comes
    with till_of(tmp_path, emu, central, ofd_resend_seconds=0.5) as s:
        s.sale(order())
        s.push_to_central()
        # the FN hands out its oldest unconfirmed message (the shift opening's) with its entry
        carried = central.pushes[0]["messages"]
        assert len(carried) == 1, "the first push carries the FN's message"
        first = len(central.pushes)
        out = s.push_to_central()  # the ticket poll
        assert out["awaiting_ticket"], "the till still waits for the ticket: it polls sooner"
        assert central.pushes[first:] and all(not p["entries"] for p in central.pushes[first:]), (
            "a poll within the resend delay carries no entry: central already has it"
        )
        time.sleep(0.6)
        s.push_to_central()
        assert central.pushes[-1]["messages"] == carried, "after the delay the message goes again"
        assert s.journal.get(carried[0])["state"] in ("delivered", "archived")


def test_the_ticket_round_ends_without_an_empty_push_and_the_next_push_names_the_written_ticket(
    tmp_path, emu, ofd
):
    central = MiniCentral(ofd_port=ofd.port).start()
    central.late_tickets = True  # like the real central: the ticket comes in a later reply
    with till_of(tmp_path, emu, central) as s:
        s.push_to_central()  # the shift opening's message goes; its ticket comes with the next
        s.push_to_central()
        s.push_to_central()
        sale = s.sale(order())["uuid"]
        s.push_to_central()  # carries the sale and its message; central delivers it
        before = len(central.pushes)
        out = s.push_to_central()  # the poll that brings the ticket back
        assert out["tickets"] == 1 and s.journal.get(sale)["ofd_confirmed"]
        assert len(central.pushes) == before + 1, (
            "the FN has no further message: no second round pushing nothing"
        )
        assert not out["awaiting_ticket"]
        s.push_to_central()
        assert central.pushes[-1]["tickets_written"] == [sale], (
            "central learns the ticket is in the FN and stops handing it back"
        )
        s.push_to_central()
        assert central.pushes[-1]["tickets_written"] == [], "named once"


def test_the_status_goes_with_the_first_push_then_once_per_interval(tmp_path, emu):
    central = MiniCentral().start()
    with till_of(tmp_path, emu, central, push_status_interval=0.5) as s:
        s.sale(order())
        s.push_to_central()
        s.push_to_central()
        s.push_to_central()
        assert [p["status"] for p in central.pushes] == [True, False, False]
        time.sleep(0.6)
        s.push_to_central()
        assert central.pushes[-1]["status"], "the interval has passed: the status goes again"
        assert central.statuses[-1]["journal"]["entries"] >= 2


def test_the_ticket_poll_backs_off_while_no_ticket_comes_and_starts_again_after_one():
    waits, wait = [], 0.0
    rounds = [
        {"awaiting_ticket": True, "tickets": 0},  # a message carried
        {"awaiting_ticket": True, "tickets": 0},  # no ticket yet: twice as long
        {"awaiting_ticket": True, "tickets": 0},
        {"awaiting_ticket": True, "tickets": 0},
        {"awaiting_ticket": True, "tickets": 1},  # a ticket, and the FN's next message carried
        {"awaiting_ticket": True, "tickets": 1},
        {"awaiting_ticket": False, "tickets": 1},  # the last ticket: nothing awaited
    ]
    for out in rounds:
        wait = next_ticket_wait(wait, out, poll=1.0, interval=5.0)
        waits.append(wait)
    assert waits == [1.0, 2.0, 4.0, 5.0, 1.0, 1.0, 0.0]


def test_a_backlog_of_ofd_messages_drains_at_one_poll_per_document(tmp_path, emu, ofd):
    """After an OFD outage the FN holds a backlog and hands it out one message per ticket.
    Each ticket restarts the poll at ``ofd_ticket_poll``: 7 messages at 0.2 s take about
    2 s; had the wait kept doubling from one message to the next (0.2, 0.4, 0.8, 1.6, then the
    3 s push interval) they would take 12 s."""
    central = MiniCentral(ofd_port=ofd.port).start()
    central.late_tickets = True  # like the real central: the ticket comes in a later reply
    with till_of(tmp_path, emu, central, ofd_ticket_poll=0.2, push_interval=3.0) as s:
        # sold while nothing was pushed: the FN holds 7 unconfirmed messages (with the shift's)
        sales = [s.sale(order())["uuid"] for _ in range(6)]
        started = time.monotonic()
        s._pusher = threading.Thread(target=s._push_loop, daemon=True)  # the till's own loop
        s._pusher.start()
        assert wait_for(lambda: all(s.journal.get(u)["ofd_confirmed"] for u in sales), timeout=30)
        elapsed = time.monotonic() - started
    assert elapsed < 6, f"the backlog took {elapsed:.1f} s"


def test_the_push_loop_waits_are_spread_so_tills_started_together_do_not_push_in_step():
    assert jittered(5.0, 0.2, 0.0) == pytest.approx(4.0)
    assert jittered(5.0, 0.2, 0.5) == pytest.approx(5.0)
    assert jittered(5.0, 0.2, 0.999999) == pytest.approx(6.0, abs=1e-4)
    assert jittered(5.0, 0.0, 0.9) == 5.0  # jitter off
    assert jittered(1.0, 2.0, 0.0) == 0.0  # never negative
    # forty tills with the same interval spread over the whole window, not one instant
    rnd = random.Random(18)
    waits = sorted(jittered(5.0, 0.2, rnd.random()) for _ in range(40))
    assert waits[0] < 4.3 and waits[-1] > 5.7
