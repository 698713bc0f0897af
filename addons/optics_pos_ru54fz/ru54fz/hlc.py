"""Hybrid logical clock for ordering a till's journal entries.

A timestamp is one 64-bit integer ``(physical milliseconds << 16) | counter``.
``now()`` never returns a value lower than or equal to one it returned
before, even when the wall clock jumps backwards (NTP step, a cashier setting
the date) — the counter carries the order until the wall clock catches up.
Monotonic across restarts: the owner persists the last value (the journal keeps
it in the same SQLite transaction as the entry it stamps) and passes it to the
constructor.  ``update()`` folds in a timestamp received from elsewhere.

Sent over JSON as a decimal string: a JavaScript number cannot hold 64 bits.
"""

import threading
import time

COUNTER_BITS = 16


class HybridLogicalClock:
    def __init__(self, last=0, clock=time.time):
        self._last = int(last)
        self._clock = clock
        self._lock = threading.Lock()

    @staticmethod
    def physical_part(ts):
        """Milliseconds since the epoch carried by a timestamp."""
        return int(ts) >> COUNTER_BITS

    def _wall(self):
        return int(self._clock() * 1000) << COUNTER_BITS

    def now(self):
        with self._lock:
            self._last = max(self._wall(), self._last + 1)
            return self._last

    def update(self, remote):
        """Merge a remote timestamp: the next local one orders after it."""
        with self._lock:
            self._last = max(self._last, int(remote))
            return self._last

    @property
    def last(self):
        return self._last
