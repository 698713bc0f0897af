"""A circuit breaker for the OFD link, with pluggable storage.

closed --(N consecutive transport failures)--> open --(cool-down elapsed)-->
half_open (exactly one caller, the probe, is let through) --success--> closed
                                                           --failure--> open

While the breaker is open (or a probe is under way) callers get ``BreakerOpen``
with the number of seconds after which to try again; callers postpone their
work without counting it as an attempt.  When a probe (or any caller) succeeds
while the breaker is not closed, ``on_recovered`` is called once, after the
closed state is stored: the owner wakes the work it postponed, so a backlog goes
out as soon as the link is proven to work instead of at each caller's own retry
time (up to a cool-down later).

The state lives in a ``BreakerStorage``.  ``MemoryStorage`` serves tests and
single-process use; the Odoo model stores it in a database row so that every
worker process shares one breaker.  ``storage.transaction()`` must give
exclusive access to the state for the duration of the block (a row lock).
"""

import abc
import contextlib
import threading
import time
from dataclasses import asdict, dataclass

CLOSED = "closed"
OPEN = "open"
HALF_OPEN = "half_open"


@dataclass
class BreakerState:
    state: str = CLOSED
    failures: int = 0  # consecutive transport failures
    opened_at: float = 0.0  # epoch seconds when it last opened
    probe_started_at: float = 0.0
    last_error: str = ""

    def to_dict(self):
        return asdict(self)


class BreakerOpen(Exception):
    """The OFD link is considered down: postpone, do not count an attempt."""

    def __init__(self, retry_after, state):
        super().__init__(f"OFD circuit breaker is {state}; retry in {retry_after:.1f} s")
        self.retry_after = retry_after
        self.state = state


class BreakerStorage(abc.ABC):
    @abc.abstractmethod
    def transaction(self):
        """Context manager yielding a handle with ``load() -> BreakerState`` and
        ``save(BreakerState)``, holding exclusive access meanwhile."""


class MemoryStorage(BreakerStorage):
    def __init__(self, state=None):
        self.state = state or BreakerState()
        self._lock = threading.Lock()

    @contextlib.contextmanager
    def transaction(self):
        with self._lock:
            yield self

    def load(self):
        return BreakerState(**asdict(self.state))

    def save(self, state):
        self.state = BreakerState(**asdict(state))


class CircuitBreaker:
    def __init__(
        self,
        storage,
        failure_threshold=5,
        cool_down=30.0,
        probe_timeout=60.0,
        clock=time.time,
        on_recovered=None,
    ):
        if failure_threshold < 1:
            raise ValueError("failure_threshold must be at least 1")
        self.storage = storage
        self.on_recovered = on_recovered
        self.failure_threshold = failure_threshold
        self.cool_down = float(cool_down)
        #: a probe that neither succeeded nor failed within this time (its worker
        #: died) no longer blocks the next probe
        self.probe_timeout = float(probe_timeout)
        self.clock = clock

    def before_call(self):
        """Return 'closed' or 'probe' when the caller may go ahead; raise BreakerOpen otherwise."""
        now = self.clock()
        with self.storage.transaction() as tx:
            st = tx.load()
            if st.state == CLOSED:
                return CLOSED
            if st.state == OPEN:
                wait = st.opened_at + self.cool_down - now
                if wait > 0:
                    raise BreakerOpen(wait, OPEN)
            elif st.state == HALF_OPEN:
                wait = st.probe_started_at + self.probe_timeout - now
                if wait > 0:
                    raise BreakerOpen(min(wait, max(1.0, self.cool_down / 4)), HALF_OPEN)
            st.state = HALF_OPEN
            st.probe_started_at = now
            tx.save(st)
            return "probe"

    def record_success(self):
        with self.storage.transaction() as tx:
            st = tx.load()
            recovered = st.state != CLOSED
            if recovered or st.failures:
                tx.save(BreakerState(state=CLOSED))
        # after the transaction: what the owner wakes must see the breaker closed
        if recovered and self.on_recovered is not None:
            self.on_recovered()
        return CLOSED

    def record_failure(self, error=""):
        now = self.clock()
        with self.storage.transaction() as tx:
            st = tx.load()
            st.failures += 1
            st.last_error = str(error)[:500]
            if st.state == HALF_OPEN or (st.state == CLOSED and st.failures >= self.failure_threshold):
                st.state = OPEN
                st.opened_at = now
                st.probe_started_at = 0.0
            tx.save(st)
            return st.state

    def reset(self):
        with self.storage.transaction() as tx:
            tx.save(BreakerState())

    def snapshot(self):
        with self.storage.transaction() as tx:
            return tx.load()
