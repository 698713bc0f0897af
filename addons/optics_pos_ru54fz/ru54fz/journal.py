"""The per-till fiscal journal: SQLite, WAL, ``synchronous=FULL``.

Every fiscal operation is written here *before* the KKT is touched, keyed by
the operation's UUID (the idempotency key, UNIQUE), stamped with a hybrid
logical clock and carrying its full payload.  States::

    journaled --> sent --> fiscalised --> delivered --> archived
        \\          \\
         +----------+--> failed  (the KKT refused; nothing was fiscalised)
    fiscalised / delivered --> dead_letter  (central refused the entry for good)

* ``sent`` records, before the close command, the FN serial and the FD number
  the document will get: after a crash the till looks that number up in the
  FN to know whether the document exists (till_service settles it).
* ``delivered``: the central server accepted the entry.
* ``archived``: delivered *and* confirmed by the OFD (or not a fiscal document
  at all) — nothing is left to do for it; only archived entries are ever
  removed by ``compact()``.
* ``dead_letter``: fiscalised, but central refused the entry itself (4xx naming
  it): it is set aside so the entries after it are delivered, shown in the till's
  status, and offered to central again now and then (``dead_letters_due``) — once
  accepted it becomes ``delivered``.  It is never compacted.

The hot path (insert, state changes, lookups by uuid) only uses indexed
access, so 100,000+ entries do not slow a sale.  Each write is one short
``BEGIN IMMEDIATE`` transaction; a failure to write raises
``errors.JournalUnavailable`` and the caller must not touch the device.
"""

import contextlib
import datetime
import json
import os
import sqlite3
import threading
import time

from . import errors
from .hlc import HybridLogicalClock

STATES = ("journaled", "sent", "fiscalised", "delivered", "archived", "failed", "dead_letter")
KINDS = ("sale", "refund", "correction", "cash_in", "cash_out", "open_shift", "close_shift", "x_report")
#: kinds that produce a fiscal document (and so wait for an OFD confirmation)
FISCAL_KINDS = ("sale", "refund", "correction", "open_shift", "close_shift")

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    hlc INTEGER NOT NULL,
    kind TEXT NOT NULL,
    till_code TEXT NOT NULL DEFAULT '',
    pos_reference TEXT NOT NULL DEFAULT '',
    original_uuid TEXT,
    payload TEXT NOT NULL,
    state TEXT NOT NULL,
    fn_serial TEXT,
    expected_fd INTEGER,
    shift_number INTEGER,
    sent_info TEXT,
    fd_number INTEGER,
    fiscal TEXT,
    response TEXT,
    ofd_message TEXT,
    ofd_confirmed INTEGER NOT NULL DEFAULT 0,
    ofd_ticket TEXT,
    error TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_ts REAL NOT NULL,
    updated_ts REAL NOT NULL,
    fiscalised_ts REAL
);
CREATE INDEX IF NOT EXISTS entries_state_hlc ON entries (state, hlc);
CREATE INDEX IF NOT EXISTS entries_hlc ON entries (hlc);
CREATE INDEX IF NOT EXISTS entries_fd ON entries (fd_number) WHERE fd_number IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_original ON entries (original_uuid) WHERE original_uuid IS NOT NULL;
CREATE INDEX IF NOT EXISTS entries_unconfirmed ON entries (fiscalised_ts)
    WHERE ofd_confirmed = 0 AND fd_number IS NOT NULL;
-- manager grants used at this till (ru54fz/grants.py): a nonce serves one operation
CREATE TABLE IF NOT EXISTS grant_uses (
    nonce TEXT PRIMARY KEY,
    uuid TEXT NOT NULL,
    action TEXT NOT NULL,
    user TEXT NOT NULL DEFAULT '',
    expires_ts REAL NOT NULL,
    used_ts REAL NOT NULL
);
"""


def _loads(text):
    return json.loads(text) if text else None


class Journal:
    """One till's journal file.  Thread-safe: one connection behind a lock
    (SQLite serialises writers anyway; the KKT serialises documents)."""

    def __init__(
        self,
        path,
        till_code="",
        clock=time.time,
        max_bytes=None,
        min_free_bytes=16 * 1024 * 1024,
        busy_timeout_ms=2000,
        check="background",
    ):
        self.path = str(path)
        self.till_code = till_code
        self.clock = clock
        self.max_bytes = max_bytes
        self.min_free_bytes = min_free_bytes
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.path, isolation_level=None, check_same_thread=False, timeout=busy_timeout_ms / 1000
            )
            db = self._db
            db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            mode = db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if mode.lower() != "wal":
                raise errors.JournalUnavailable(f"the journal {self.path} cannot use WAL mode ({mode})")
            db.execute("PRAGMA synchronous = FULL")
            db.execute("PRAGMA foreign_keys = ON")
            #: result of the integrity check: None (not run), "running", "ok" or "damaged: ..."
            self.check_state = None
            self.check_seconds = None
            if check in ("quick", "full"):
                self._run_check(db, check)
                if self.check_state != "ok":
                    raise errors.JournalUnavailable(f"the journal {self.path} is {self.check_state}")
            db.executescript("BEGIN IMMEDIATE;" + _SCHEMA + "COMMIT;")
            db.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            if max_bytes:
                page = db.execute("PRAGMA page_size").fetchone()[0]
                db.execute(f"PRAGMA max_page_count = {max(int(max_bytes) // page, 16)}")
            last = db.execute("SELECT MAX(hlc) FROM entries").fetchone()[0] or 0
            row = db.execute("SELECT value FROM meta WHERE key = 'hlc'").fetchone()
            last = max(last, int(row[0]) if row else 0)
        except sqlite3.Error as exc:
            raise errors.JournalUnavailable(f"the journal {self.path} cannot be opened: {exc}") from None
        self.hlc = HybridLogicalClock(last, clock=clock)
        if check == "background":
            # A quick_check reads every page: 100,000 entries take about a second.
            # SQLite's WAL recovery already made the file consistent on open; the
            # check looks for media damage, so it runs beside the sale path (WAL
            # readers do not block the writer) and sales stop if it fails.
            self.check_state = "running"
            threading.Thread(target=self._background_check, name="ru54fz-journal-check", daemon=True).start()

    def _run_check(self, db, kind="quick"):
        t0 = time.perf_counter()
        try:
            res = db.execute("PRAGMA quick_check" if kind == "quick" else "PRAGMA integrity_check").fetchall()
            self.check_state = "ok" if res == [("ok",)] else f"damaged: {res[:3]}"
        except sqlite3.Error as exc:
            self.check_state = f"damaged: {exc}"
        self.check_seconds = time.perf_counter() - t0

    def _background_check(self):
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=5)
        except sqlite3.Error as exc:
            self.check_state = f"damaged: {exc}"
            return
        try:
            self._run_check(db)
        finally:
            db.close()

    # -- plumbing ---------------------------------------------------------------
    def close(self):
        with self._lock:
            with contextlib.suppress(sqlite3.Error):
                row = self._db.execute("SELECT MAX(hlc) FROM entries").fetchone()
                last = max(row[0] or 0, self.hlc.last)
                self._db.execute("INSERT OR REPLACE INTO meta VALUES ('hlc', ?)", (str(last),))
            self._db.close()

    def _write(self, sql, params=(), many=False):
        """One write transaction; JournalUnavailable when SQLite cannot commit it."""
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")
                try:
                    cur = db.executemany(sql, params) if many else db.execute(sql, params)
                    db.execute("COMMIT")
                except BaseException:
                    if db.in_transaction:
                        db.execute("ROLLBACK")
                    raise
                return cur.rowcount
            except sqlite3.IntegrityError:
                raise
            except sqlite3.Error as exc:
                raise errors.JournalUnavailable(
                    f"the till journal cannot record the operation ({exc}); nothing was sent to the KKT",
                    reason=str(exc),
                ) from None

    def _row(self, sql, params=()):
        with self._lock:
            cur = self._db.execute(sql, params)
            names = [c[0] for c in cur.description]
            row = cur.fetchone()
        return dict(zip(names, row, strict=True)) if row else None

    def _rows(self, sql, params=()):
        with self._lock:
            cur = self._db.execute(sql, params)
            names = [c[0] for c in cur.description]
            rows = cur.fetchall()
        return [dict(zip(names, r, strict=True)) for r in rows]

    def _now_iso(self):
        return datetime.datetime.fromtimestamp(self.clock()).isoformat(timespec="seconds")

    def check_writable(self):
        """Refuse before the device is touched when the disk is (nearly) full
        or the integrity check found the journal damaged."""
        if self.check_state and self.check_state.startswith("damaged"):
            raise errors.JournalUnavailable(
                f"the till journal is {self.check_state}; nothing was sent to the KKT", reason="damaged"
            )
        free = self.disk_free_bytes()
        if free is not None and free < self.min_free_bytes:
            raise errors.JournalUnavailable(
                f"the till journal's disk has only {free // 1024} KiB free; nothing was sent to the KKT",
                reason="disk_full",
            )

    # -- writes -------------------------------------------------------------------
    def insert(self, uuid, kind, payload, pos_reference="", original_uuid=None, sent=None):
        """Journal a new operation.  Returns ``(entry, created)``: an existing
        entry with the same uuid is returned unchanged with ``created=False``.

        ``sent=(fn_serial, expected_fd, shift_number)`` journals it directly in
        state ``sent`` — one commit instead of two when the caller already read
        the FN and holds the device until the document is closed."""
        if kind not in KINDS:
            raise ValueError(f"unknown journal kind {kind!r}")
        self.check_writable()
        now = self.clock()
        with self._lock:
            existing = self.get(uuid)
            if existing:
                return existing, False
            stamp = self.hlc.now()
            try:
                fn_serial, expected_fd, shift_number = sent or (None, None, None)
                # another process of this till (a prefork worker) stamps from its own
                # clock: inside the write transaction the stamp also passes the file's
                # newest one, so HLC order holds across processes (indexed MAX)
                self._write(
                    "INSERT INTO entries (uuid, hlc, kind, till_code, pos_reference, original_uuid, payload,"
                    " state, fn_serial, expected_fd, shift_number, attempts, created_at, created_ts, "
                    "updated_ts)"
                    " VALUES (?,MAX(?, COALESCE((SELECT MAX(hlc) FROM entries), 0) + "
                    "1),?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        uuid,
                        stamp,
                        kind,
                        self.till_code,
                        pos_reference or "",
                        original_uuid or None,
                        json.dumps(payload, ensure_ascii=False, separators=(",", ":")),
                        "sent" if sent else "journaled",
                        fn_serial,
                        expected_fd,
                        shift_number,
                        1 if sent else 0,
                        self._now_iso(),
                        now,
                        now,
                    ),
                )
            except sqlite3.IntegrityError:  # another process of the same till won the race
                return self.get(uuid), False
        entry = self.get(uuid)
        self.hlc.update(entry["hlc"])
        return entry, True

    def use_grant(self, nonce, uuid, action, user, expires_ts):
        """Record a manager grant's nonce as used for operation ``uuid``.  True when the
        nonce is new or was already used for this very uuid (a retry of the same
        operation); False when it served another operation (a replayed grant)."""
        try:
            self._write(
                "INSERT INTO grant_uses (nonce, uuid, action, user, expires_ts, used_ts)"
                " VALUES (?,?,?,?,?,?)",
                (nonce, uuid, action, user or "", expires_ts, self.clock()),
            )
            return True
        except sqlite3.IntegrityError:
            row = self._row("SELECT uuid, action FROM grant_uses WHERE nonce=?", (nonce,))
            return bool(row and row["uuid"] == uuid and row["action"] == action)

    def retry_failed(self, uuid, payload):
        """A failed operation is posted again: back to ``journaled`` with the new payload."""
        return self._write(
            "UPDATE entries SET state='journaled', payload=?, error=NULL, updated_ts=?"
            " WHERE uuid=? AND state='failed'",
            (json.dumps(payload, ensure_ascii=False, separators=(",", ":")), self.clock(), uuid),
        )

    def mark_sent(self, uuid, fn_serial, expected_fd, shift_number=None, info=None):
        """About to touch the KKT: record what settlement needs to find the outcome
        (the FN serial and expected FD number; ``info`` e.g. cash counters before)."""
        return self._write(
            "UPDATE entries SET state='sent', fn_serial=?, expected_fd=?, shift_number=?, sent_info=?,"
            " attempts=attempts+1, updated_ts=? WHERE uuid=? AND state IN ('journaled','sent')",
            (
                fn_serial,
                expected_fd,
                shift_number,
                json.dumps(info) if info is not None else None,
                self.clock(),
                uuid,
            ),
        )

    def back_to_journaled(self, uuid):
        """Settlement found the document was not fiscalised: retry from the journal."""
        return self._write(
            "UPDATE entries SET state='journaled', updated_ts=? WHERE uuid=? AND state='sent'",
            (self.clock(), uuid),
        )

    def mark_fiscalised(self, uuid, fiscal, response, ofd_message=None):
        now = self.clock()
        return self._write(
            "UPDATE entries SET state='fiscalised', fiscal=?, response=?, fd_number=?, fn_serial=COALESCE(?, "
            "fn_serial),"
            " ofd_message=COALESCE(?, ofd_message), error=NULL, fiscalised_ts=?, updated_ts=?"
            " WHERE uuid=? AND state IN ('journaled','sent')",
            (
                json.dumps(fiscal, ensure_ascii=False),
                json.dumps(response, ensure_ascii=False),
                fiscal.get("fd_number"),
                fiscal.get("fn_serial"),
                ofd_message,
                now,
                now,
                uuid,
            ),
        )

    def mark_failed(self, uuid, error):
        return self._write(
            "UPDATE entries SET state='failed', error=?, updated_ts=? WHERE uuid=? AND state IN "
            "('journaled','sent')",
            (json.dumps(error, ensure_ascii=False), self.clock(), uuid),
        )

    def mark_delivered(self, uuids):
        """Central accepted these entries.  Non-fiscal ones and OFD-confirmed ones
        have nothing left to do and are archived at once."""
        if not uuids:
            return 0
        now = self.clock()
        fiscal = ",".join(f"'{k}'" for k in FISCAL_KINDS)
        return self._write(
            f"UPDATE entries SET state = CASE WHEN ofd_confirmed = 1 OR kind NOT IN ({fiscal}) THEN "
            "'archived'"
            " ELSE 'delivered' END, updated_ts=? WHERE uuid=? AND state IN ('fiscalised','dead_letter')",
            [(now, u) for u in uuids],
            many=True,
        )

    def set_aside(self, uuid, error):
        """Central refused this entry for good: out of the push queue, into ``dead_letter``
        with central's reason (``error``: dict).  Returns 1 when the entry moved."""
        return self._write(
            "UPDATE entries SET state='dead_letter', error=?, attempts=attempts+1, updated_ts=?"
            " WHERE uuid=? AND state IN ('fiscalised','delivered','dead_letter')",
            (json.dumps(error, ensure_ascii=False), self.clock(), uuid),
        )

    def dead_letters_due(self, older_than_seconds, limit=10):
        """Set-aside entries not offered to central for ``older_than_seconds``, oldest first."""
        return self._rows(
            "SELECT * FROM entries WHERE state='dead_letter' AND updated_ts<=? ORDER BY hlc LIMIT ?",
            (self.clock() - older_than_seconds, int(limit)),
        )

    def set_ofd_confirmed(self, fd_number, ticket_b64=None, uuid=None):
        """The OFD confirmed a document: flag it; a delivered entry becomes archived."""
        now = self.clock()
        where, key = ("uuid=?", uuid) if uuid else ("fd_number=?", fd_number)
        return self._write(
            "UPDATE entries SET ofd_confirmed=1, ofd_ticket=COALESCE(?, ofd_ticket), updated_ts=?,"
            " state = CASE WHEN state='delivered' THEN 'archived' ELSE state END WHERE " + where,
            (ticket_b64, now, key),
        )

    def set_ofd_confirmed_below(self, fn_serial, fd_limit):
        """Every document of this FN numbered below ``fd_limit`` is confirmed by the OFD
        (a register that talks to the OFD itself reports its oldest unconfirmed one)."""
        return self._write(
            "UPDATE entries SET ofd_confirmed=1, updated_ts=?,"
            " state = CASE WHEN state='delivered' THEN 'archived' ELSE state END"
            " WHERE fn_serial=? AND fd_number IS NOT NULL AND fd_number < ? AND ofd_confirmed=0"
            " AND state IN ('fiscalised', 'delivered')",
            (self.clock(), fn_serial, int(fd_limit)),
        )

    def attach_ofd_message(self, fd_number, message_b64):
        return self._write(
            "UPDATE entries SET ofd_message=?, updated_ts=? WHERE fd_number=? AND ofd_message IS NULL"
            " AND state='fiscalised'",
            (message_b64, self.clock(), fd_number),
        )

    def compact(self, older_than_seconds):
        """Delete archived entries last changed more than ``older_than_seconds`` ago.
        Never an unfiscalised, undelivered or OFD-unconfirmed one."""
        cutoff = self.clock() - older_than_seconds
        with self._lock:
            self._write("INSERT OR REPLACE INTO meta VALUES ('hlc', ?)", (str(self.hlc.last),))
            # a grant past its expiry is refused anyway: its nonce need not be kept
            self._write("DELETE FROM grant_uses WHERE expires_ts < ?", (self.clock() - 86400,))
            return self._write("DELETE FROM entries WHERE state='archived' AND updated_ts < ?", (cutoff,))

    def set_meta(self, key, value):
        """A small durable setting of this till (e.g. a policy learned from central)."""
        return self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, str(value)))

    def get_meta(self, key, default=None):
        row = self._row("SELECT value FROM meta WHERE key=?", (key,))
        return row["value"] if row else default

    # -- reads ----------------------------------------------------------------------
    def get(self, uuid):
        return self._row("SELECT * FROM entries WHERE uuid=?", (uuid,))

    def by_fd_number(self, fd_number):
        return self._row("SELECT * FROM entries WHERE fd_number=? ORDER BY hlc DESC LIMIT 1", (fd_number,))

    def in_state(self, state, limit=1000, after_hlc=0):
        return self._rows(
            "SELECT * FROM entries WHERE state=? AND hlc>? ORDER BY hlc LIMIT ?",
            (state, int(after_hlc), int(limit)),
        )

    def query(self, state=None, since_hlc=None, limit=100):
        limit = max(1, min(int(limit), 1000))
        since = int(since_hlc or 0)
        if state:
            return self.in_state(state, limit, since)
        return self._rows("SELECT * FROM entries WHERE hlc>? ORDER BY hlc LIMIT ?", (since, limit))

    def refunds_of(self, original_uuid):
        return self._rows("SELECT * FROM entries WHERE original_uuid=? ORDER BY hlc", (original_uuid,))

    def last_fiscal_entry(self):
        return self._row("SELECT * FROM entries WHERE fd_number IS NOT NULL ORDER BY hlc DESC LIMIT 1")

    def counts(self):
        rows = self._rows("SELECT state, COUNT(*) AS n FROM entries GROUP BY state")
        out = {s: 0 for s in STATES}
        out.update({r["state"]: r["n"] for r in rows})
        return out

    def ofd_backlog(self):
        row = self._row(
            "SELECT COUNT(*) AS n, MIN(fiscalised_ts) AS oldest FROM entries"
            " WHERE ofd_confirmed=0 AND fd_number IS NOT NULL"
        )
        return row["n"], row["oldest"]

    def disk_free_bytes(self):
        try:
            st = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
        except OSError:
            return None
        return st.f_bavail * st.f_frsize

    def fill(self):
        """Fill of the real limits: the filesystem the journal lives on, and the
        journal's own size cap when one is configured (``max_bytes``)."""
        out = {"disk_pct": None, "db_pct": None}
        with contextlib.suppress(OSError):
            st = os.statvfs(os.path.dirname(os.path.abspath(self.path)))
            if st.f_blocks:
                out["disk_pct"] = round(100 * (1 - st.f_bavail / st.f_blocks), 1)
        if self.max_bytes:
            with self._lock:
                pages = self._db.execute("PRAGMA page_count").fetchone()[0]
                size = self._db.execute("PRAGMA page_size").fetchone()[0]
            out["db_pct"] = round(100 * pages * size / self.max_bytes, 1)
        out["fill_pct"] = max(v for v in (out["disk_pct"], out["db_pct"], 0) if v is not None)
        return out

    def integrity_check(self):
        with self._lock:
            return self._db.execute("PRAGMA integrity_check").fetchall() == [("ok",)]

    # -- the entry as exchanged with central (till push format) ----------------------------
    @staticmethod
    def to_entry(row):
        return {
            "uuid": row["uuid"],
            "hlc": str(row["hlc"]),
            "kind": row["kind"],
            "till_code": row["till_code"],
            "pos_reference": row["pos_reference"],
            "payload": _loads(row["payload"]),
            "state": row["state"],
            "fiscal": _loads(row["fiscal"]),
            "ofd_message": row["ofd_message"],
            "ofd_confirmed": bool(row["ofd_confirmed"]),
            "created_at": row["created_at"],
            "error": _loads(row["error"]),
        }
