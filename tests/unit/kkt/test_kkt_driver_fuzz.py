"""The driver facing a device that answers with arbitrary bytes: it never
crashes with anything but a FiscalError and never hangs."""

import socket
import threading
import time

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ru54fz import errors as E
from ru54fz.shtrih.driver import ShtrihDriver
from ru54fz.shtrih.frame import NAK, encode
from ru54fz.transport import TcpTransport

TINY = {"enq": 0.05, "ack": 0.05, "byte": 0.02, "command": 0.15, "print": 0.15}


class NoisyDevice:
    """A TCP peer that answers every chunk it receives with the next scripted bytes."""

    def __init__(self):
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.script = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.server.accept()
            except OSError:
                return
            threading.Thread(target=self._link, args=(conn,), daemon=True).start()

    def _link(self, conn):
        index = 0
        with conn:
            while True:
                try:
                    if not conn.recv(512):
                        return
                    if self.script:
                        conn.sendall(self.script[index % len(self.script)])
                        index += 1
                except OSError:
                    return


DEVICE = NoisyDevice()

chunks = st.one_of(
    st.binary(max_size=300),
    st.binary(max_size=60).map(lambda b: bytes([NAK]) + b),
    st.binary(min_size=1, max_size=255).map(encode),
    st.binary(min_size=1, max_size=40).map(lambda b: bytes([0x06]) + encode(b)[: len(b) // 2 + 2]),
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(chunks, min_size=1, max_size=6))
def test_arbitrary_device_bytes_end_in_a_fiscal_error_or_a_reply(script):
    DEVICE.script = script
    driver = ShtrihDriver(TcpTransport("127.0.0.1", DEVICE.port), timeouts=TINY, retries=2)
    start = time.monotonic()
    try:
        driver.status()
    except E.FiscalError:
        pass
    finally:
        driver.close()
    assert time.monotonic() - start < 5
