"""The TCP transport against the mock OFD running as a real subprocess, in every mode."""

import socket
import threading
import time

import pytest
from ru54fz.ofd import protocol as p
from ru54fz.ofd.client import OfdRejected, OfdTransportError, TcpOfdTransport
from ru54fz.ofd.mock_server import MockOfdProcess

FN = "9999078900012345"


@pytest.fixture(scope="module")
def ofd():
    server = MockOfdProcess(latency_ms=1)
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _reset(ofd):
    ofd.control.reset()
    yield


def transport(ofd, **kw):
    kw.setdefault("connect_timeout", 1.0)
    kw.setdefault("read_timeout", 1.0)
    return TcpOfdTransport("127.0.0.1", ofd.port, **kw)


def test_online_confirms_and_counts_one_submission(ofd):
    with transport(ofd) as t:
        ticket = p.parse_ticket(t.send(p.build_document_message(FN, 1)))
    assert ticket.accepted and ticket.fd_number == 1 and ticket.fn_number == FN
    assert ofd.control.submissions(FN, 1) == 1


def test_one_connection_carries_a_batch(ofd):
    with transport(ofd) as t:
        for fd in range(10, 30):
            assert p.parse_ticket(t.send(p.build_document_message(FN, fd))).fd_number == fd
    stats = ofd.control.stats()
    assert stats["connections"] == 1 and stats["total_submissions"] == 20


def test_refusing_connections_is_a_retryable_transport_error(ofd):
    ofd.control.set_mode("refuse")
    with transport(ofd) as t, pytest.raises(OfdTransportError, match="cannot connect") as exc:
        t.send(p.build_document_message(FN, 2))
    assert exc.value.retryable
    ofd.control.set_mode("online")
    with transport(ofd) as t:
        assert p.parse_ticket(t.send(p.build_document_message(FN, 2))).accepted
    assert ofd.control.submissions(FN, 2) == 1


def test_blackhole_hits_the_read_timeout_on_time(ofd):
    ofd.control.set_mode("blackhole")
    started = time.monotonic()
    with (
        transport(ofd, read_timeout=0.5) as t,
        pytest.raises(OfdTransportError, match="did not answer within 0.5 s"),
    ):
        t.send(p.build_document_message(FN, 3))
    assert 0.45 <= time.monotonic() - started < 2.0
    assert ofd.control.submissions(FN, 3) == 1


def test_slow_answers_within_the_timeout_pass_and_beyond_it_fail(ofd):
    ofd.control.set_mode("slow", slow_ms=300)
    with transport(ofd, read_timeout=2.0) as t:
        assert p.parse_ticket(t.send(p.build_document_message(FN, 4))).accepted
    with transport(ofd, read_timeout=0.1) as t, pytest.raises(OfdTransportError, match="did not answer"):
        t.send(p.build_document_message(FN, 5))


def test_garbage_reply_is_a_transport_error(ofd):
    ofd.control.set_mode("garbage")
    with transport(ofd) as t, pytest.raises(OfdTransportError, match="unusable answer") as exc:
        t.send(p.build_document_message(FN, 6))
    assert exc.value.retryable


def test_rejection_is_permanent_with_the_ofd_reason(ofd):
    ofd.control.set_mode("reject", reject_fds=[8], reject_code=14, reject_message="ФП не сходится")
    with transport(ofd) as t:
        assert p.parse_ticket(t.send(p.build_document_message(FN, 7))).accepted
        with pytest.raises(OfdRejected, match="code 14: ФП не сходится") as exc:
            t.send(p.build_document_message(FN, 8))
    assert not exc.value.retryable and exc.value.ofd_code == 14


def test_confirm_twice_does_not_confuse_the_next_document(ofd):
    ofd.control.set_mode("confirm_twice")
    with transport(ofd) as t:
        for fd in (20, 21, 22):
            assert p.parse_ticket(t.send(p.build_document_message(FN, fd))).fd_number == fd
        assert t.duplicates_skipped == 2
    assert all(ofd.control.submissions(FN, fd) == 1 for fd in (20, 21, 22))


def test_malformed_message_is_rejected_before_sending(ofd):
    msg = bytearray(p.build_document_message(FN, 30))
    msg[-1] ^= 1
    with transport(ofd) as t, pytest.raises(OfdRejected, match="malformed.*frame CRC"):
        t.send(bytes(msg))
    assert ofd.control.stats()["total_submissions"] == 0


def test_server_rejects_bad_framing_it_receives(ofd):
    """A frame with a broken CRC inside a valid session is answered with a rejection."""
    msg = bytearray(p.build_document_message(FN, 31))
    msg[-1] ^= 1
    with socket.create_connection(("127.0.0.1", ofd.port), timeout=2) as s:
        s.sendall(p.pack_session(bytes(msg), FN))
        head = s.recv(30, socket.MSG_WAITALL)
        body = s.recv(p.SessionHeader.unpack(head).length, socket.MSG_WAITALL)
    ticket = p.parse_ticket(body)
    assert ticket.code == 2 and "bad_crc" in ticket.message
    assert ofd.control.stats()["protocol_errors"] == 1


def test_reconnects_when_the_ofd_closed_an_idle_connection(ofd):
    with transport(ofd) as t:
        t.send(p.build_document_message(FN, 40))
        t._sock.shutdown(socket.SHUT_RDWR)  # the peer is gone, as after an OFD idle close
        assert p.parse_ticket(t.send(p.build_document_message(FN, 41))).accepted


def test_concurrent_clients(ofd):
    errors = []

    def run(base):
        try:
            with transport(ofd) as t:
                for fd in range(base, base + 25):
                    t.send(p.build_document_message(FN, fd))
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(1000 * i,)) for i in range(1, 5)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors
    assert ofd.control.stats()["total_submissions"] == 100


def test_control_channel_refuses_unknown_modes(ofd):
    with pytest.raises(RuntimeError, match="unknown mode"):
        ofd.control.set_mode("teapot")
