"""Offline soak with a controllable clock: 8 hours without central and without
the OFD at 50 receipts an hour.  Every sale is fiscalised at once; when the
network is back every entry reaches central once, in HLC order, and every
OFD confirmation finds its way back into the FN."""

import pytest
from ru54fz import errors
from ru54fz.emulator.harness import start_emulator
from ru54fz.ofd.mock_server import MockOfd
from till_helpers import Clock, MiniCentral, close_service, make_service, order

HOURS = 8
PER_HOUR = 50
STEP = 3600 // PER_HOUR  # 72 s between receipts


@pytest.fixture
def world(tmp_path):
    (tmp_path / "kkt").mkdir()
    emu = start_emulator(tmp_path / "kkt")
    ofd = MockOfd().start()
    central = MiniCentral(ofd_port=ofd.port).start()
    yield emu, ofd, central
    central.stop()
    ofd.stop()
    emu.stop()


def test_eight_hours_offline_then_everything_delivered_once(tmp_path, world):
    emu, ofd, central = world
    clock = Clock()
    port = central.port
    central.stop()  # central down ...
    ofd.set_mode("refuse")  # ... and the OFD too
    svc = make_service(
        tmp_path / "j.sqlite",
        emu,
        clock=clock,
        central_url=f"http://127.0.0.1:{port}",
        central_token=central.token,
    )
    try:
        svc.start()
        svc.open_shift({"uuid": "soak-shift", "cashier": {"name": "Анна Кассирова"}})
        fds = []
        for i in range(HOURS * PER_HOUR):
            clock.t += STEP
            emu.control.clock(advance=STEP)
            r = svc.sale(order(uid=f"soak-{i:04d}", total_lines=1 + i % 5, pay="cash" if i % 3 else "card"))
            assert r["state"] == "fiscalised"  # fiscalised at once, offline
            fds.append(r["fiscal"]["fd_number"])
            if i % 50 == 0:
                with pytest.raises(errors.TransportError):
                    svc.push_to_central()  # the pusher keeps failing
        assert fds == list(range(fds[0], fds[0] + HOURS * PER_HOUR))
        st = svc.status()
        assert st["journal"]["undelivered"] == HOURS * PER_HOUR + 1
        assert st["ofd"]["backlog"] == HOURS * PER_HOUR + 1
        assert 0.3 < st["ofd"]["oldest_age_days"] < 0.4 and st["clock"]["level"] == "ok"

        central.start(port=port)  # the network is back
        ofd.set_mode("online")
        out = svc.push_to_central()
        assert out["accepted"] >= HOURS * PER_HOUR + 1

        hlcs = [int(central.store[u]["hlc"]) for u in central.arrivals]
        assert hlcs == sorted(hlcs), "central received the entries out of HLC order"
        assert len(central.arrivals) == len(set(central.arrivals)) == HOURS * PER_HOUR + 1
        assert svc.journal.counts()["fiscalised"] == 0
        # every FD reached the OFD exactly once and its ticket is in the FN
        subs = ofd.stats()["submissions"]
        assert len(subs) == HOURS * PER_HOUR + 1 and set(subs.values()) == {1}
        assert emu.control.state()["unconfirmed"] == 0
        assert svc.journal.ofd_backlog()[0] == 0
        assert svc.journal.counts()["archived"] == HOURS * PER_HOUR + 1
    finally:
        close_service(svc)
