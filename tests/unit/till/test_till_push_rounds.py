"""What each push to central carries (issue 18: a push that brings nothing new must not cost
central a full ingestion; the OFD ticket loop must not push for nothing).

Against the KKT emulator over TCP, a real HTTP central (MiniCentral) and the mock OFD."""

import contextlib
import time

import pytest
from ru54fz.ofd.mock_server import MockOfd
from till_helpers import MiniCentral, order, service_on_shift


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
