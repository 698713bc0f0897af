"""The per-till SQLite journal and its hybrid logical clock."""

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from ru54fz import errors
from ru54fz.hlc import HybridLogicalClock
from ru54fz.journal import Journal

HERE = Path(__file__).resolve().parent


class Clock:
    def __init__(self, t=1_767_000_000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_hlc_monotonic_when_wall_clock_goes_back_and_across_restarts(tmp_path):
    clock = Clock()
    h = HybridLogicalClock(clock=clock)
    a = h.now()
    clock.t -= 3600  # someone sets the date back an hour
    b, c = h.now(), h.now()
    assert a < b < c
    clock.t += 7200
    d = h.now()
    assert d > c and HybridLogicalClock.physical_part(d) == int(clock.t * 1000)
    assert h.update(d + 1000) == d + 1000 and h.now() > d + 1000

    j = Journal(tmp_path / "t.sqlite", clock=clock)
    j.insert("u1", "sale", {"x": 1})
    stamp = j.get("u1")["hlc"]
    j.close()
    clock.t -= 86400  # restart with the clock a day behind
    j2 = Journal(tmp_path / "t.sqlite", clock=clock)
    j2.insert("u2", "sale", {"x": 2})
    assert j2.get("u2")["hlc"] > stamp


def test_wal_full_sync_and_state_machine(tmp_path):
    clock = Clock()
    j = Journal(tmp_path / "t.sqlite", till_code="T1", clock=clock)
    assert j._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert j._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    e, created = j.insert("u1", "sale", {"total": 100}, pos_reference="Order 1")
    assert created and e["state"] == "journaled"
    e2, created = j.insert("u1", "sale", {"total": 999})
    assert not created and e2["payload"] == e["payload"]  # the uuid is the idempotency key
    j.mark_sent("u1", "9999000011112222", 8, 3)
    assert j.get("u1")["expected_fd"] == 8 and j.get("u1")["state"] == "sent"
    j.mark_fiscalised("u1", {"fd_number": 8, "fn_serial": "9999000011112222", "fiscal_sign": 1}, {"ok": 1})
    assert j.counts()["fiscalised"] == 1
    assert [r["uuid"] for r in j.in_state("fiscalised")] == ["u1"]
    # a fiscalised entry can never go back to failed or journaled
    assert j.mark_failed("u1", {"code": "x"}) == 0
    j.mark_delivered(["u1"])
    assert j.get("u1")["state"] == "delivered"
    j.set_ofd_confirmed(8, "dGlja2V0")
    e = j.get("u1")
    assert e["state"] == "archived" and e["ofd_confirmed"] == 1
    entry = Journal.to_entry(e)
    assert entry["hlc"] == str(e["hlc"]) and entry["till_code"] == "T1" and entry["payload"] == {"total": 100}
    # non-fiscal operations are archived on delivery
    j.insert("c1", "cash_in", {"amount": 5})
    j.mark_fiscalised("c1", {"counters": {}}, {})
    j.mark_delivered(["c1"])
    assert j.get("c1")["state"] == "archived"


def test_compaction_removes_only_old_archived_entries(tmp_path):
    clock = Clock()
    j = Journal(tmp_path / "t.sqlite", clock=clock)
    for i, state in enumerate(["archived", "archived", "delivered", "fiscalised", "journaled", "failed"]):
        u = f"u{i}"
        j.insert(u, "sale", {})
        if state == "failed":
            j.mark_failed(u, {"code": "paper_out"})
        elif state != "journaled":
            j.mark_fiscalised(u, {"fd_number": i + 1}, {})
            if state in ("archived", "delivered"):
                j.mark_delivered([u])
            if state == "archived":
                j.set_ofd_confirmed(i + 1)
    clock.t += 10
    j.insert("fresh", "cash_in", {})
    j.mark_fiscalised("fresh", {}, {})
    j.mark_delivered(["fresh"])
    clock.t += 90 * 86400
    assert j.compact(90 * 86400) == 2
    left = {r["uuid"] for r in j.query(limit=100)}
    assert left == {"u2", "u3", "u4", "u5", "fresh"}
    top = j.hlc.last
    j.close()
    assert Journal(tmp_path / "t.sqlite", clock=clock).hlc.last >= top


def test_refuses_cleanly_when_it_cannot_journal(tmp_path):
    path = tmp_path / "t.sqlite"
    # a journal capped at a few pages: SQLite reports "database or disk is full"
    j = Journal(path, max_bytes=64 * 1024)
    big = {"blob": "x" * 20000}
    with pytest.raises(errors.JournalUnavailable) as exc:
        for i in range(20):
            j.insert(f"u{i}", "sale", big)
    assert exc.value.http_status == 503 and "full" in exc.value.message
    assert j.fill()["db_pct"] > 80
    n = j.counts()["journaled"]
    assert j.integrity_check() and n == len(j.query(limit=100))
    j.close()

    # another process holds the write lock: refused after the busy timeout, not hung
    j = Journal(tmp_path / "locked.sqlite", busy_timeout_ms=200)
    other = sqlite3.connect(tmp_path / "locked.sqlite", isolation_level=None)
    other.execute("BEGIN EXCLUSIVE")
    t0 = time.monotonic()
    with pytest.raises(errors.JournalUnavailable, match="locked"):
        j.insert("u1", "sale", {})
    assert time.monotonic() - t0 < 2
    other.execute("ROLLBACK")
    assert j.insert("u1", "sale", {})[1]

    # the disk has less than the configured reserve free
    j = Journal(tmp_path / "disk.sqlite", min_free_bytes=1 << 62)
    with pytest.raises(errors.JournalUnavailable, match="free"):
        j.insert("u1", "sale", {})
    assert j.get("u1") is None


def test_lookups_stay_indexed_with_100k_entries(tmp_path):
    j = Journal(tmp_path / "big.sqlite")
    now = time.time()
    rows = [
        (
            f"u{i:06d}",
            (1 << 40) + i,
            "sale",
            "",
            "",
            None,
            '{"total": 100}',
            "archived" if i < 99_900 else "fiscalised",
            "2026-01-01T10:00:00",
            now,
            now,
        )
        for i in range(100_000)
    ]
    with j._lock:
        j._db.execute("BEGIN")
        j._db.executemany(
            "INSERT INTO entries (uuid, hlc, kind, till_code, pos_reference, original_uuid,"
            " payload, state, created_at, created_ts, updated_ts) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
        j._db.execute("COMMIT")
    for sql, params in [
        ("SELECT * FROM entries WHERE uuid=?", ("u1",)),
        ("SELECT * FROM entries WHERE state=? AND hlc>? ORDER BY hlc LIMIT ?", ("fiscalised", 0, 200)),
        ("SELECT * FROM entries WHERE fd_number=? ORDER BY hlc DESC LIMIT 1", (5,)),
        ("SELECT * FROM entries WHERE original_uuid=? ORDER BY hlc", ("u1",)),
        ("SELECT MAX(hlc) FROM entries", ()),
    ]:
        plan = " ".join(r[-1] for r in j._db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN entries" not in plan or "USING" in plan, (sql, plan)
    t0 = time.perf_counter()
    for i in range(200):
        j.insert(f"new{i}", "sale", {"total": 1})
        j.get(f"u{i:06d}")
    per_op = (time.perf_counter() - t0) / 200
    assert per_op < 0.02
    assert len(j.in_state("fiscalised", limit=500)) == 100


WRITER = r"""
import sys, json
sys.path.insert(0, sys.argv[2])
from ru54fz.journal import Journal
j = Journal(sys.argv[1], check=None)
i = int(sys.argv[3])
while True:
    u = f"w{i}"
    j.insert(u, "sale", {"n": i, "pad": "x" * (i % 700)})
    j.mark_sent(u, "FN", i, 1)
    j.mark_fiscalised(u, {"fd_number": i, "fn_serial": "FN"}, {"uuid": u})
    sys.stdout.write(u + "\n"); sys.stdout.flush()
    i += 1
"""


def test_power_loss_of_the_writer_never_loses_a_committed_entry(tmp_path):
    """SIGKILL a process writing the journal at random points, many times; the
    journal always opens, passes integrity_check and holds every entry the
    writer had seen committed (it prints a uuid only after the commit)."""
    path = tmp_path / "pl.sqlite"
    addon = str(HERE.parents[2] / "addons" / "optics_pos_ru54fz")
    rnd = random.Random(1234)
    start = 0
    committed = []
    for _ in range(12):
        p = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(path), addon, str(start)], stdout=subprocess.PIPE, text=True
        )
        time.sleep(rnd.uniform(0.3, 0.8))
        os.kill(p.pid, signal.SIGKILL)
        out, _ = p.communicate()
        done = out.split()
        committed += done
        j = Journal(path, check="full")
        assert j.integrity_check()
        for u in done:
            e = j.get(u)
            assert e is not None and e["state"] == "fiscalised", u
        last = j._row("SELECT uuid FROM entries ORDER BY id DESC LIMIT 1")
        # the newest row may be one the writer had not yet reported: continue after it
        start = (int(last["uuid"][1:]) if last else start) + 1
        j.close()
    assert len(committed) > 30
    j = Journal(path)
    assert len({r["uuid"] for r in j._rows("SELECT uuid FROM entries")} & set(committed)) == len(committed)
