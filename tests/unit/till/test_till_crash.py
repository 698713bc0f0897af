"""Crash matrix: kill -9 the till process at each step of a receipt, restart it,
and check the FN holds exactly one fiscal document per sale, none lost.

The till is a real process (till_crash_runner.py) talking to the KKT emulator
process over TCP; central is a real HTTP server (MiniCentral).
"""

import random
import signal
import uuid as uuidlib

import pytest
from ru54fz.emulator.harness import start_emulator
from till_helpers import (
    CRASH_POINTS,
    MiniCentral,
    check_exactly_one,
    crash_env,
    journal_entry,
    open_shift_on,
    order,
    run_till,
)


@pytest.fixture(scope="module")
def emu(tmp_path_factory):
    d = tmp_path_factory.mktemp("kkt")
    e = start_emulator(d)
    open_shift_on(e, d / "setup.sqlite")
    yield e
    e.stop()


@pytest.mark.parametrize("point", CRASH_POINTS)
def test_kill_at_each_step_of_a_receipt(tmp_path, emu, point):
    emu.control.set(print_delay=0.6 if point == "during_device" else 0)
    before = emu.control.state()["last_fd"]
    payload = order(total_lines=3)
    rc, _ = run_till(tmp_path, emu, "sale", payload, crash_env(point))
    assert rc == -signal.SIGKILL
    emu.control.set(print_delay=0)
    entry = journal_entry(tmp_path, payload["uuid"])
    if point == "before_journal":
        assert entry is None
    else:
        assert entry["state"] in ("journaled", "sent")
    if point in ("after_sent", "during_device", "after_device"):
        # killed while the KKT works on (or has just closed) the receipt: the journal
        # knows which FD number to look for
        assert entry["state"] == "sent" and entry["expected_fd"] == before + 1
    # restart: settle runs first, then the POS retries the same uuid
    rc, counts = run_till(tmp_path, emu, "settle")
    assert rc == 0 and counts["sent"] == 0 and counts["journaled"] == 0
    rc, result = run_till(tmp_path, emu, "sale", payload)
    assert rc == 0 and result["state"] == "fiscalised"
    check_exactly_one(emu, tmp_path, before, payload, result)
    assert not emu.control.state()["doc"], "a receipt was left open on the KKT"


def test_kill_before_central_delivery(tmp_path, emu):
    central = MiniCentral().start()
    env = {"RU54FZ_CENTRAL_URL": central.url, "RU54FZ_CENTRAL_TOKEN": central.token}
    try:
        uuids = []
        for _ in range(3):
            p = order()
            rc, _ = run_till(tmp_path, emu, "sale", p, env)
            assert rc == 0
            uuids.append(p["uuid"])
        rc, _ = run_till(tmp_path, emu, "push", env=dict(env, RU54FZ_CRASH_AT="before_delivery"))
        assert rc == -signal.SIGKILL and not central.store
        # killed right after central answered, before the journal recorded it
        rc, _ = run_till(
            tmp_path,
            emu,
            "push",
            env=dict(env, RU54FZ_CRASH_FROM="before_delivery", RU54FZ_CRASH_AFTER_MS="1"),
        )
        rc, out = run_till(tmp_path, emu, "push", env=env)
        assert rc == 0
        assert sorted(central.store) == sorted(uuids) and len(central.arrivals) == 3
        assert all(journal_entry(tmp_path, u)["state"] == "delivered" for u in uuids)
    finally:
        central.stop()


def test_kill_at_random_moments(tmp_path, emu):
    """Several sales, each killed at a random moment (possibly twice, possibly
    after it finished), then retried until answered: exactly one FD each."""
    rnd = random.Random(20260301)
    emu.control.set(print_delay=0.15)
    kills = 0
    try:
        for i in range(8):
            before = emu.control.state()["last_fd"]
            payload = order(uid=f"rand-{i}-{uuidlib.uuid4().hex[:8]}", total_lines=rnd.randint(1, 5))
            for _ in range(rnd.randint(1, 2)):
                rc, _ = run_till(
                    tmp_path, emu, "sale", payload, {"RU54FZ_CRASH_AFTER_MS": str(rnd.randint(0, 300))}
                )
                kills += rc == -signal.SIGKILL
            rc, result = run_till(tmp_path, emu, "sale", payload)
            assert rc == 0
            check_exactly_one(emu, tmp_path, before, payload, result)
            assert not emu.control.state()["doc"]
        assert kills >= 4, "the random timings should have killed most attempts"
    finally:
        emu.control.set(print_delay=0)
