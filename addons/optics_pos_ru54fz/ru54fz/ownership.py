"""One owner per till at a time, across threads, processes and machines.

A till (one KKT, one journal) may be reached by several processes at once: the
workers of a prefork Odoo (``workers > 0``) each build their own ``TillService``,
and a store may run two Odoo nodes.  Thread locks do not reach across
processes, so without this module a POS retry landing on another worker
fiscalises the same order twice, and one worker's settlement cancels the
receipt another worker has open on the KKT.

``OwnerGuard`` is what ``TillService`` holds around every use of the KKT (and
around every journal decision that leads to one).  It is reentrant within a
thread and takes, on its outermost entry:

1. a thread lock (threads of this process), then
2. a cross-process owner lock, one of

   * ``FileOwnerLock``: ``fcntl.flock`` on ``<journal>.owner`` next to the
     journal — the database-less till.  A side file, not the journal itself:
     SQLite keeps POSIX locks on its database file, and closing any other
     descriptor of that file drops them for the whole process
     (https://www.sqlite.org/howtocorrupt.html, section 2.2).
   * ``PgAdvisoryOwnerLock``: a session-level PostgreSQL advisory lock keyed
     by the till code, on its own connection — a till served by the central
     server, whatever machine the worker runs on.  It needs a real session:
     connect straight to PostgreSQL or through a *session*-mode pool, never a
     transaction-mode pgbouncer (docs/deployment.md).

   When the lock does not come within ``wait`` seconds the caller gets
   ``TillBusy`` (HTTP 503, retryable) and nothing was journaled or sent.

On its outermost exit the guard closes the device link before releasing the
owner lock, so the next owner — maybe another process — can open the serial
port or the KKT's single TCP connection.  Either lock dies with its process
(the kernel drops the flock, PostgreSQL ends the session), so a crashed worker
never keeps a till; whoever owns it next settles what the crash left ``sent``.
"""

import fcntl
import os
import threading
import time
import zlib

from . import errors

#: first key of the advisory lock: this addon's namespace (crc32 of a fixed name)
PG_LOCK_CLASS = zlib.crc32(b"optics_pos_ru54fz.till_owner") - 2**31


class TillBusy(errors.FiscalError):
    """Another process is serving this till right now: retry in a moment."""

    code = "till_busy"
    retryable = True
    http_status = 503


class FileOwnerLock:
    """``flock`` on a side file of the journal: one owner among the processes
    (and the ``FileOwnerLock`` objects) of one machine."""

    def __init__(self, path):
        self.path = str(path)
        self._fd = None

    def acquire(self, wait):
        if self._fd is None:
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + max(0.0, wait)
        delay = 0.002
        while True:
            try:
                fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                # flock has no timeout: poll, backing off to 50 ms
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 0.05)

    def release(self):
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)

    def close(self):
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)  # also drops the lock

    def describe(self):
        return f"flock {self.path}"


class PgAdvisoryOwnerLock:
    """A session-level advisory lock ``(PG_LOCK_CLASS, crc32(till_code))`` on a
    connection of its own (not a request cursor: it must outlive transactions).
    ``connect`` is a callable returning a psycopg2 connection."""

    def __init__(self, connect, till_code):
        self._connect = connect
        self.key = (PG_LOCK_CLASS, zlib.crc32(till_code.encode()) - 2**31)
        self.till_code = till_code
        self._conn = None

    def _connection(self):
        if self._conn is None or self._conn.closed:
            conn = self._connect()
            conn.autocommit = True
            self._conn = conn
        return self._conn

    def acquire(self, wait):
        import psycopg2

        try:
            with self._connection().cursor() as cr:
                # lock_timeout bounds the wait for a heavyweight lock, advisory ones included
                cr.execute("SELECT set_config('lock_timeout', %s, false)", (f"{max(1, int(wait * 1000))}ms",))
                cr.execute("SELECT pg_advisory_lock(%s, %s)", self.key)
            return True
        except psycopg2.errors.LockNotAvailable:
            return False
        except psycopg2.Error as exc:
            self.close()
            raise errors.TransportError(f"the till lock in PostgreSQL is unavailable: {exc}") from None

    def release(self):
        import psycopg2

        try:
            with self._connection().cursor() as cr:
                cr.execute("SELECT pg_advisory_unlock(%s, %s)", self.key)
        except psycopg2.Error:
            self.close()  # the session is gone, and with it the lock

    def close(self):
        conn, self._conn = self._conn, None
        if conn is not None and not conn.closed:
            conn.close()

    def describe(self):
        return f"PostgreSQL advisory lock {self.key} of till {self.till_code}"


class OwnerGuard:
    """Reentrant context manager: thread lock + cross-process owner lock.
    ``owner_lock`` None keeps the guard within this process (tests, benches
    that own their journal); ``on_release`` runs before the owner lock is
    released (the till service closes the KKT link there)."""

    def __init__(self, owner_lock=None, wait=20.0, on_release=None):
        self.owner_lock = owner_lock
        self.wait = wait
        self.on_release = on_release
        self._thread_lock = threading.RLock()
        self._depth = 0

    def __enter__(self):
        self._thread_lock.acquire()
        self._depth += 1
        if self._depth == 1 and self.owner_lock is not None:
            try:
                got = self.owner_lock.acquire(self.wait)
            except BaseException:
                self._depth -= 1
                self._thread_lock.release()
                raise
            if not got:
                self._depth -= 1
                self._thread_lock.release()
                raise TillBusy(
                    f"another process is serving this till ({self.owner_lock.describe()}); "
                    f"nothing was done, retry in a moment"
                )
        return self

    def __exit__(self, *exc):
        try:
            if self._depth == 1 and self.owner_lock is not None:
                try:
                    if self.on_release is not None:
                        self.on_release()
                finally:
                    self.owner_lock.release()
        finally:
            self._depth -= 1
            self._thread_lock.release()
        return False

    @property
    def owned(self):
        """True while some thread of this object is inside the guard."""
        return self._depth > 0

    def close(self):
        if self.owner_lock is not None:
            self.owner_lock.close()
