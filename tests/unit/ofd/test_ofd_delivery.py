"""The OFD delivery rules (ru54fz/ofd/delivery.py) over an in-memory storage, with the real
TCP transport, the real circuit breaker and the mock OFD running as a subprocess."""

import pytest
from ru54fz.breaker import CLOSED, OPEN, CircuitBreaker, MemoryStorage
from ru54fz.ofd import protocol as p
from ru54fz.ofd.client import OfdTransportError, TcpOfdTransport
from ru54fz.ofd.delivery import (
    ACKNOWLEDGED,
    JOB_KEY_PREFIX,
    MOVED_ON,
    NOTHING,
    Endpoint,
    MemoryDeliveryStorage,
    OfdDelivery,
    RetryLater,
    plan_batches,
    stuck_after_seconds,
)
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


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


class Recording(MemoryDeliveryStorage):
    """Remembers the order of the durable steps."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.calls = []

    def record_acks(self, acks):
        self.calls.append(("acks", [a.id for a in acks]))
        super().record_acks(acks)

    def record_rejection(self, doc_id, attempt, error, kind):
        self.calls.append(("rejection", doc_id))
        super().record_rejection(doc_id, attempt, error, kind)


def setup(
    ofd,
    fds=(1, 2, 3),
    max_attempts=20,
    threshold=5,
    port=None,
    transport=None,
    job_retries=0,
    read_timeout=1.0,
):
    """A storage holding one document per FD number (id = FD number), all claimed by one job."""
    breaker = CircuitBreaker(MemoryStorage(), failure_threshold=threshold, cool_down=30, clock=Clock())

    def open_transport():
        if transport:
            return transport()
        return TcpOfdTransport("127.0.0.1", port or ofd.port, connect_timeout=1.0, read_timeout=read_timeout)

    storage = Recording(Endpoint(breaker, open_transport, max_attempts), job_retries=job_retries)
    for fd in fds:
        storage.add(fd, p.build_document_message(FN, fd))
    ((key, _ids),) = storage.claim(batch_size=len(fds))
    return storage, breaker, key


def states(storage):
    return {i: d.state for i, d in storage.documents.items()}


def test_acknowledgements_mark_the_documents_delivered(ofd):
    storage, breaker, key = setup(ofd)
    outcome = OfdDelivery(storage).deliver(key)
    assert (outcome.kind, outcome.acknowledged) == (ACKNOWLEDGED, 3)
    assert states(storage) == {1: "acknowledged", 2: "acknowledged", 3: "acknowledged"}
    for fd, doc in storage.documents.items():
        ticket = p.parse_ticket(doc.ticket)
        assert (ticket.fn_number, ticket.fd_number, ticket.accepted) == (FN, fd, True)
        assert (doc.attempts, doc.job_key, doc.log) == (1, None, [("ack", 1, "Confirmed by the OFD")])
        assert ofd.control.submissions(FN, fd) == 1
    assert breaker.snapshot().state == CLOSED
    assert ofd.control.stats()["connections"] == 1, "one connection carries the batch"


def test_confirmations_are_made_durable_in_groups(ofd):
    storage, _breaker, key = setup(ofd, fds=range(1, 6))
    OfdDelivery(storage, flush_size=2).deliver(key)
    assert storage.calls == [("acks", [1, 2]), ("acks", [3, 4]), ("acks", [5])]


def test_confirmations_are_flushed_after_flush_seconds(ofd):
    storage, _breaker, key = setup(ofd, fds=range(1, 4))
    clock = Clock()

    class Ticking:
        """Each send takes 0.6 s on the delivery's clock."""

        def __init__(self):
            self.inner = TcpOfdTransport("127.0.0.1", ofd.port, connect_timeout=1.0, read_timeout=1.0)

        def send(self, message):
            clock.now += 0.6
            return self.inner.send(message)

        def close(self):
            self.inner.close()

    storage._endpoint.open_transport = Ticking
    OfdDelivery(storage, flush_size=25, flush_seconds=1.0, clock=clock).deliver(key)
    assert storage.calls == [("acks", [1, 2]), ("acks", [3])]


def test_rejection_dead_letters_at_once_and_the_batch_goes_on(ofd):
    ofd.control.set_mode(
        "reject", reject_fds=[2], reject_code=14, reject_message="Неверный фискальный признак"
    )
    storage, breaker, key = setup(ofd)
    outcome = OfdDelivery(storage).deliver(key)
    assert (outcome.kind, outcome.acknowledged) == (ACKNOWLEDGED, 2)
    assert states(storage) == {1: "acknowledged", 2: "dead_lettered", 3: "acknowledged"}
    doc = storage.documents[2]
    assert doc.attempts == 1 and doc.job_key is None
    assert "code 14: Неверный фискальный признак" in doc.last_error
    [(doc_id, kind, reason)] = storage.dead_letters
    assert (doc_id, kind) == (2, "rejected") and "code 14" in reason
    assert [k for k, _a, _m in doc.log] == ["rejected"]
    # the confirmation before the rejection was made durable before it
    assert storage.calls == [("acks", [1]), ("rejection", 2), ("acks", [3])]
    assert [ofd.control.submissions(FN, fd) for fd in (1, 2, 3)] == [1, 1, 1]
    assert breaker.snapshot().state == CLOSED


def test_rejection_alone_tells_the_breaker_the_link_works(ofd):
    ofd.control.set_mode("reject", reject_fds=[], reject_code=3)
    storage, breaker, key = setup(ofd, fds=[1], threshold=5)
    for _ in range(4):
        breaker.record_failure("down")
    OfdDelivery(storage).deliver(key)
    assert storage.documents[1].state == "dead_lettered"
    assert breaker.snapshot().failures == 0, "an answer of the OFD resets the failure count"


def test_malformed_message_is_dead_lettered_without_reaching_the_ofd(ofd):
    storage, breaker, key = setup(ofd, fds=[1, 2])
    storage.documents[1].message = b"\x00" * 40
    for _ in range(2):
        breaker.record_failure("down")
    outcome = OfdDelivery(storage).deliver(key)
    assert outcome.kind == ACKNOWLEDGED and outcome.acknowledged == 1
    assert storage.dead_letters[0][:2] == (1, "malformed")
    assert "malformed" in storage.dead_letters[0][2]
    assert storage.documents[2].state == "acknowledged"
    assert ofd.control.submissions(FN, 2) == 1 and ofd.control.stats()["total_submissions"] == 1
    assert breaker.snapshot().failures == 0, "reset by document 2's confirmation, not by the local refusal"


def test_local_refusal_alone_does_not_close_the_breaker_count(ofd):
    storage, breaker, key = setup(ofd, fds=[1])
    storage.documents[1].message = b"garbage"
    breaker.record_failure("down")
    OfdDelivery(storage).deliver(key)
    assert storage.documents[1].state == "dead_lettered"
    assert breaker.snapshot().failures == 1


def test_partial_acks_then_a_transport_failure(ofd):
    """Two confirmations, then the OFD answers garbage: the confirmed documents stay
    confirmed, the third spends an attempt, the others go back to pending untried."""

    class SwitchAfterTwo(TcpOfdTransport):
        sent = 0

        def send(self, message):
            SwitchAfterTwo.sent += 1
            if SwitchAfterTwo.sent == 3:
                ofd.control.set_mode("garbage")
            return super().send(message)

    storage, breaker, key = setup(
        ofd,
        fds=range(1, 6),
        transport=lambda: SwitchAfterTwo("127.0.0.1", ofd.port, connect_timeout=1.0, read_timeout=1.0),
    )
    with pytest.raises(RetryLater) as exc:
        OfdDelivery(storage).deliver(key)
    assert "unusable answer" in str(exc.value)
    assert exc.value.spend_attempt and exc.value.seconds is None, "the job runner's backoff"
    assert states(storage) == {1: "acknowledged", 2: "acknowledged", 3: "failed", 4: "pending", 5: "pending"}
    doc = storage.documents[3]
    assert doc.attempts == 1 and "unusable answer" in doc.last_error
    assert [k for k, _a, _m in doc.log] == ["transport"]
    assert all(storage.documents[i].attempts == 0 and not storage.documents[i].log for i in (4, 5))
    assert {storage.documents[i].job_key for i in (3, 4, 5)} == {key}, "still this job's"
    assert [ofd.control.submissions(FN, fd) for fd in range(1, 6)] == [1, 1, 1, 0, 0]
    snap = breaker.snapshot()
    assert (snap.state, snap.failures) == (CLOSED, 1)
    assert "unusable answer" in snap.last_error
    # the job's retry: the rest goes through, the confirmed ones are not sent again
    ofd.control.set_mode("online")
    storage.job_retries = 1
    outcome = OfdDelivery(storage).deliver(key)
    assert (outcome.kind, outcome.acknowledged) == (ACKNOWLEDGED, 3)
    assert storage.documents[3].attempts == 2
    assert [ofd.control.submissions(FN, fd) for fd in range(1, 6)] == [1, 1, 2, 1, 1]


def test_transient_errors_spend_the_budget_then_dead_letter(ofd):
    ofd.control.set_mode("refuse")
    storage, breaker, key = setup(ofd, fds=[1, 2], max_attempts=3, threshold=50)
    delivery = OfdDelivery(storage)
    for retry in range(2):
        storage.job_retries = retry
        with pytest.raises(RetryLater, match="cannot connect"):
            delivery.deliver(key)
        assert states(storage) == {1: "failed", 2: "pending"}
        assert storage.documents[1].attempts == retry + 1
    storage.job_retries = 2
    outcome = delivery.deliver(key)
    assert outcome.kind == MOVED_ON
    doc = storage.documents[1]
    assert (doc.state, doc.attempts, doc.job_key) == ("dead_lettered", 3, None)
    [(doc_id, kind, reason)] = storage.dead_letters
    assert (doc_id, kind) == (1, "exhausted")
    assert reason.startswith("No OFD confirmation after 3 attempts; last error: cannot connect")
    assert [k for k, _a, _m in doc.log] == ["transport"] * 3
    # the other document moves on to a fresh job with its own budget, untried
    other = storage.documents[2]
    assert other.state == "pending" and other.attempts == 0
    assert other.job_key and other.job_key != key and (other.job_key, [2]) in storage.enqueued
    assert breaker.snapshot().failures == 3
    ofd.control.set_mode("online")
    storage.job_retries = 0
    outcome = OfdDelivery(storage).deliver(other.job_key)
    assert (outcome.kind, other.state) == (ACKNOWLEDGED, "acknowledged")
    assert ofd.control.submissions(FN, 1) == 0 and ofd.control.submissions(FN, 2) == 1


def test_spent_job_budget_moves_an_unspent_document_on(ofd):
    """The job's retries were spent on an earlier document: the failing one is not
    dead-lettered (its own budget is not spent) but moves to a fresh job."""
    ofd.control.set_mode("refuse")
    storage, _breaker, key = setup(ofd, fds=[1], max_attempts=3, threshold=50, job_retries=2)
    assert OfdDelivery(storage).deliver(key).kind == MOVED_ON
    doc = storage.documents[1]
    assert (doc.state, doc.attempts) == ("failed", 1)
    assert not storage.dead_letters
    assert len(storage.enqueued) == 2 and storage.enqueued[-1] == (doc.job_key, [1]), "enqueued again"


def test_no_transport_counts_an_attempt(ofd):
    def no_host():
        raise OfdTransportError("no OFD host/port configured for company X")

    storage, breaker, key = setup(ofd, fds=[1, 2], transport=no_host)
    with pytest.raises(RetryLater, match="no OFD host"):
        OfdDelivery(storage).deliver(key)
    assert states(storage) == {1: "failed", 2: "pending"}
    assert breaker.snapshot().failures == 1


def test_breaker_opens_after_the_threshold_and_then_nothing_is_sent(ofd):
    ofd.control.set_mode("refuse")
    storage, breaker, key = setup(ofd, fds=[1, 2], threshold=2)
    delivery = OfdDelivery(storage)
    for _ in range(2):
        with pytest.raises(RetryLater):
            delivery.deliver(key)
    assert breaker.snapshot().state == OPEN
    ofd.control.set_mode("online")
    stats = ofd.control.stats()
    with pytest.raises(RetryLater, match="circuit breaker is open") as exc:
        delivery.deliver(key)
    assert exc.value.spend_attempt is False and exc.value.seconds == 30
    assert ofd.control.stats()["connections"] == stats["connections"], "nothing sent"
    assert states(storage) == {1: "failed", 2: "pending"}, "not even marked sending"
    assert storage.documents[1].attempts == 2


def test_open_breaker_postpones_for_the_rest_of_the_cool_down(ofd):
    storage, breaker, key = setup(ofd, fds=[1], threshold=1)
    breaker.record_failure("down")
    breaker.clock.now += 12.5
    with pytest.raises(RetryLater) as exc:
        OfdDelivery(storage).deliver(key)
    assert (exc.value.seconds, exc.value.spend_attempt) == (18, False)
    assert states(storage) == {1: "pending"} and storage.commits == 0
    assert ofd.control.stats()["connections"] == 0


def test_half_open_probe_success_closes_the_breaker(ofd):
    storage, breaker, key = setup(ofd, fds=[1, 2], threshold=1)
    breaker.record_failure("down")
    breaker.clock.now += 31
    assert OfdDelivery(storage).deliver(key).acknowledged == 2
    assert breaker.snapshot().state == CLOSED


def test_failed_probe_reopens_the_breaker(ofd):
    ofd.control.set_mode("refuse")
    storage, breaker, key = setup(ofd, fds=[1], threshold=1)
    breaker.record_failure("down")
    breaker.clock.now += 31
    with pytest.raises(RetryLater):
        OfdDelivery(storage).deliver(key)
    assert breaker.snapshot().state == OPEN and storage.documents[1].attempts == 1


def test_nothing_left_to_deliver(ofd):
    storage, _breaker, key = setup(ofd, fds=[1])
    OfdDelivery(storage).deliver(key)
    assert OfdDelivery(storage).deliver(key).kind == NOTHING, "a requeued job sends nothing again"
    assert OfdDelivery(storage).deliver("another-key").kind == NOTHING
    assert ofd.control.submissions(FN, 1) == 1


def test_documents_locked_elsewhere_postpone_without_an_attempt(ofd):
    storage, _breaker, key = setup(ofd, fds=[1, 2])
    storage.locked_elsewhere = {1, 2}
    with pytest.raises(RetryLater, match="locked by another transaction") as exc:
        OfdDelivery(storage).deliver(key)
    assert (exc.value.seconds, exc.value.spend_attempt) == (2, False)
    assert ofd.control.stats()["total_submissions"] == 0
    # some locked: the others are delivered, then the job comes back for the rest
    storage.locked_elsewhere = {2}
    with pytest.raises(RetryLater, match="some documents were locked") as exc:
        OfdDelivery(storage).deliver(key)
    assert (exc.value.seconds, exc.value.spend_attempt) == (2, False)
    assert states(storage) == {1: "acknowledged", 2: "pending"}
    storage.locked_elsewhere = set()
    assert OfdDelivery(storage).deliver(key).acknowledged == 1
    assert [ofd.control.submissions(FN, fd) for fd in (1, 2)] == [1, 1]


def test_unexpected_error_puts_the_documents_back_to_pending(ofd):
    storage, _breaker, key = setup(ofd, fds=[1, 2, 3])
    real = storage.message

    def message(document):
        if document.id == 2:
            raise RuntimeError("a bug")
        return real(document)

    storage.message = message
    with pytest.raises(RuntimeError, match="a bug"):
        OfdDelivery(storage, flush_size=1).deliver(key)
    assert states(storage) == {1: "acknowledged", 2: "pending", 3: "pending"}
    assert all(storage.documents[i].job_key == key for i in (2, 3)), "still this job's, for its retry"


def test_confirm_twice_is_harmless(ofd):
    ofd.control.set_mode("confirm_twice")
    storage, _breaker, key = setup(ofd, fds=range(1, 5))
    assert OfdDelivery(storage).deliver(key).acknowledged == 4
    assert [ofd.control.submissions(FN, fd) for fd in range(1, 5)] == [1] * 4


def test_timeout_is_a_transport_failure(ofd):
    ofd.control.set_mode("blackhole")
    storage, breaker, key = setup(ofd, fds=[1], read_timeout=0.3)
    with pytest.raises(RetryLater, match="did not answer within 0.3 s"):
        OfdDelivery(storage).deliver(key)
    ofd.control.set_mode("online")
    assert storage.documents[1].state == "failed" and breaker.snapshot().failures == 1


def test_plan_batches():
    candidates = [(i, f"uuid-{i}") for i in range(1, 6)]
    tokens = iter("abc")
    plan = plan_batches(candidates, 2, new_token=lambda: next(tokens))
    assert plan == [
        (f"{JOB_KEY_PREFIX}batch:a", [1, 2]),
        (f"{JOB_KEY_PREFIX}batch:b", [3, 4]),
        (f"{JOB_KEY_PREFIX}batch:c", [5]),
    ]
    assert plan_batches(candidates[:2], 1) == [
        (f"{JOB_KEY_PREFIX}uuid-1", [1]),
        (f"{JOB_KEY_PREFIX}uuid-2", [2]),
    ]
    assert plan_batches(candidates[:1], 0) == [(f"{JOB_KEY_PREFIX}uuid-1", [1])], "no batch size: one by one"
    keys = [k for k, _ids in plan_batches(candidates, 50)]
    assert len(keys) == 1 and keys[0].startswith(f"{JOB_KEY_PREFIX}batch:")
    assert plan_batches([], 50) == []


def test_stuck_after_seconds():
    assert stuck_after_seconds(10, 50) == 800
    assert stuck_after_seconds(0, 0) == 310
    assert stuck_after_seconds(2.5, 4) == 310
