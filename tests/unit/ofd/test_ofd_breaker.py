"""Circuit breaker state machine with in-memory and shared (multi-thread) storage."""

import threading

import pytest
from ru54fz.breaker import CLOSED, HALF_OPEN, OPEN, BreakerOpen, CircuitBreaker, MemoryStorage


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def make(threshold=3, cool_down=30):
    clock = Clock()
    return CircuitBreaker(
        MemoryStorage(), failure_threshold=threshold, cool_down=cool_down, probe_timeout=60, clock=clock
    ), clock


def test_opens_after_n_consecutive_failures_only():
    br, _ = make()
    assert br.before_call() == CLOSED
    br.record_failure("x")
    br.record_failure("x")
    br.record_success()  # not consecutive any more
    br.record_failure("x")
    br.record_failure("x")
    assert br.snapshot().state == CLOSED
    assert br.record_failure("refused") == OPEN
    with pytest.raises(BreakerOpen) as exc:
        br.before_call()
    assert exc.value.state == OPEN and exc.value.retry_after == pytest.approx(30)


def test_one_probe_after_cool_down_then_closes():
    br, clock = make()
    for _ in range(3):
        br.record_failure()
    clock.now += 29
    with pytest.raises(BreakerOpen):
        br.before_call()
    clock.now += 2
    assert br.before_call() == "probe"
    assert br.snapshot().state == HALF_OPEN
    with pytest.raises(BreakerOpen) as exc:  # a second caller waits for the probe
        br.before_call()
    assert exc.value.state == HALF_OPEN
    br.record_success()
    assert br.snapshot().state == CLOSED and br.before_call() == CLOSED


def test_failed_probe_reopens_for_a_full_cool_down():
    br, clock = make()
    for _ in range(3):
        br.record_failure()
    clock.now += 31
    assert br.before_call() == "probe"
    assert br.record_failure("still down") == OPEN
    with pytest.raises(BreakerOpen) as exc:
        br.before_call()
    assert exc.value.retry_after == pytest.approx(30)


def test_lost_probe_does_not_block_forever():
    br, clock = make()
    for _ in range(3):
        br.record_failure()
    clock.now += 31
    assert br.before_call() == "probe"
    clock.now += 61  # the probing worker died
    assert br.before_call() == "probe"


def test_only_one_of_many_concurrent_callers_probes():
    br, clock = make(threshold=1)
    br.record_failure()
    clock.now += 31
    results = []
    barrier = threading.Barrier(8)

    def call():
        barrier.wait()
        try:
            results.append(br.before_call())
        except BreakerOpen:
            results.append("postponed")

    threads = [threading.Thread(target=call) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("probe") == 1 and results.count("postponed") == 7


def test_threshold_must_be_positive():
    with pytest.raises(ValueError):
        CircuitBreaker(MemoryStorage(), failure_threshold=0)


def test_recovery_is_announced_once_when_the_link_comes_back():
    clock = Clock()
    woken = []
    br = CircuitBreaker(
        MemoryStorage(),
        failure_threshold=2,
        cool_down=30,
        probe_timeout=60,
        clock=clock,
        on_recovered=lambda: woken.append(br.snapshot().state),
    )
    br.record_success()  # closed all along: nothing was postponed
    br.record_failure()
    br.record_success()  # one failure, never open: nothing was postponed either
    assert woken == []
    br.record_failure()
    br.record_failure()
    clock.now += 31
    assert br.before_call() == "probe"
    br.record_success()
    # called once, and only after the closed state is stored (what it wakes must pass)
    assert woken == [CLOSED]
    br.record_success()
    assert woken == [CLOSED]


def test_a_failing_recovery_callback_does_not_undo_the_close():
    def boom():
        raise RuntimeError("wake failed")

    clock = Clock()
    br = CircuitBreaker(MemoryStorage(), failure_threshold=1, cool_down=30, clock=clock, on_recovered=boom)
    br.record_failure()
    clock.now += 31
    br.before_call()
    with pytest.raises(RuntimeError):
        br.record_success()
    assert br.snapshot().state == CLOSED and br.before_call() == CLOSED
