"""The link layer: raw protocol bytes against the emulator, the driver's
handshake recovery, transports and their configuration, the control channel."""

import os
import socket
import time

import pytest
from kkt_helpers import FAST
from kkt_testing import receipt
from ru54fz import errors as E
from ru54fz.devices import make_device
from ru54fz.emulator.control import ControlError, EmulatorControl
from ru54fz.emulator.harness import start_emulator
from ru54fz.shtrih import commands as C
from ru54fz.shtrih.frame import ACK, ENQ, Decoder, encode
from ru54fz.transport import SerialTransport, TcpTransport, UsbTransport, make_transport, parse_address


def _raw(port):
    sock = socket.create_connection(("127.0.0.1", port), timeout=2)
    return sock


def _read_events(sock, want, timeout=2.0):
    dec, events = Decoder(), []
    deadline = time.monotonic() + timeout
    while len(events) < want and time.monotonic() < deadline:
        sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            events += dec.feed(sock.recv(512))
        except TimeoutError:
            break
    return events


def test_emulator_speaks_the_handshake_byte_by_byte(emu):
    sock = _raw(emu.port)
    sock.sendall(bytes([ENQ]))
    assert [e.kind for e in _read_events(sock, 1)] == ["nak"]  # idle
    bad = bytearray(encode(C.get(0x10).build(password=30)))
    bad[-1] ^= 1
    sock.sendall(bytes(bad))
    assert [e.kind for e in _read_events(sock, 1)] == ["nak"]  # bad LRC refused
    sock.sendall(encode(C.get(0x10).build(password=30)))
    events = _read_events(sock, 2)
    assert [e.kind for e in events] == ["ack", "frame"]
    code, err, data = C.parse_reply_payload(events[1].payload)
    assert (code, err) == (0x10, 0) and C.get(0x10).parse_reply(data)["mode"] == 4
    sock.sendall(bytes([ENQ]))  # reply not ACKed yet
    again = _read_events(sock, 2)
    assert [e.kind for e in again] == ["ack", "frame"] and again[1].payload == events[1].payload
    sock.sendall(bytes([ACK, ENQ]))
    assert [e.kind for e in _read_events(sock, 1)] == ["nak"]
    assert emu.control.stats()["10"] == 1  # resent, not executed twice
    sock.close()


def test_unknown_command_and_short_request_are_refused(emu):
    sock = _raw(emu.port)
    sock.sendall(encode(b"\xfe\x1e\x00\x00\x00"))
    ev = _read_events(sock, 2)
    assert C.parse_reply_payload(ev[1].payload)[:2] == (0xFE, 0x37)
    sock.sendall(bytes([ACK]) + encode(b"\xff\x0a\x1e\x00"))
    ev = _read_events(sock, 2)
    assert C.parse_reply_payload(ev[1].payload)[:2] == (0xFF0A, 0x33)
    sock.close()


def test_driver_drains_a_stale_reply_before_its_command(emu, dev):
    sock = _raw(emu.port)
    sock.sendall(encode(C.get(0x11).build(password=30)))
    _read_events(sock, 2)  # the reply is left un-ACKed on this link
    # the device answers the next ENQ on this link with ACK + that stale reply; a
    # driver on the same link must skip it.  Reuse the socket as the driver's link:
    transport = TcpTransport("127.0.0.1", emu.port)
    transport.sock, transport.is_open = sock, True
    from ru54fz.shtrih.driver import ShtrihDriver

    driver = ShtrihDriver(transport, timeouts=FAST)
    assert driver.status()["mode"] == 4
    assert driver.stale_replies == 1
    driver.close()


def test_nak_on_command_frame_is_resent(dev, emu):
    emu.control.line(nak_frames=2)
    assert dev.status()["mode"] == 4
    emu.control.line(nak_frames=10)
    with pytest.raises(E.TransportError) as info:
        dev.status()
    assert "rejected the command frame" in info.value.message
    assert emu.control.stats().get("10", 0) == 1  # only the first status executed


def test_lost_command_frame_is_detected_by_enq_and_resent(shift, emu):
    emu.control.line(drop_frames=1)
    res = shift.fiscalise(receipt())
    assert res.fd_number == 3 and emu.control.stats()["FF45"] == 1


def test_pty_serial_path(tmp_path, profile):
    proc = start_emulator(tmp_path, pty=True, profile=profile)
    try:
        assert proc.pty and os.path.exists(proc.pty)
        dev = make_device({**proc.serial_config, "timeouts": FAST})
        assert isinstance(dev.transport, SerialTransport)
        dev.open_shift("Смирнова А.")
        res = dev.fiscalise(receipt())
        assert res.fd_number == 3 and dev.find_document(3).fiscal_sign == res.fiscal_sign
        proc.control.power_loss(when="after", command="FF45")
        with pytest.raises(E.TransportError):
            dev.fiscalise(receipt())
        assert dev.find_document(4).fd_type == 3  # settled over the same serial line
        dev.close()
    finally:
        proc.kill()


# ------------------------------------------------------------------ configuration
def test_address_parsing():
    assert parse_address("tcp://127.0.0.1:7778") == ("tcp", {"host": "127.0.0.1", "port": 7778})
    assert parse_address("serial:///dev/ttyACM0?baudrate=57600") == (
        "serial",
        {"port": "/dev/ttyACM0", "baudrate": 57600},
    )
    assert parse_address("usb://1fc9:8080") == (
        "usb",
        {"vendor_id": 0x1FC9, "product_id": 0x8080, "interface": 0},
    )
    assert parse_address("usb://18d1:4ee4?interface=1&serial=SHM001")[1]["serial_number"] == "SHM001"
    for bad in ("", "127.0.0.1:7778", "tcp://host", "usb://zz:12", "usb://1fc9", "ftp://x:1", "serial://"):
        with pytest.raises(E.RequestInvalid):
            parse_address(bad)


def test_make_transport_and_make_device_choose_by_config():
    assert isinstance(make_transport("tcp://127.0.0.1:1"), TcpTransport)
    assert isinstance(make_transport({"address": "usb://1fc9:8080"}), UsbTransport)
    assert isinstance(make_transport({"transport": "serial", "port": "/dev/null"}), SerialTransport)
    dev = make_device({"type": "emulator", "address": "tcp://127.0.0.1:1", "password": 1})
    assert dev.password == 1
    with pytest.raises(E.RequestInvalid) as info:
        make_device({"type": "mercury", "address": "tcp://127.0.0.1:1"})
    assert "mercury" in info.value.message and "atol" in info.value.message  # lists the known types
    with pytest.raises(E.RequestInvalid) as info:  # the ATOL web server speaks HTTP only
        make_device({"type": "atol", "address": "tcp://127.0.0.1:1"})
    assert "http://" in info.value.message
    with pytest.raises(E.RequestInvalid):
        make_device("tcp://127.0.0.1:1")


def test_usb_device_not_found():
    transport = make_transport("usb://1fc9:8080")
    with pytest.raises(E.TransportError) as info:
        transport.open()
    # no such device on this machine (or no libusb at all): a clear transport error
    assert "1fc9:8080 not found" in info.value.message or "libusb" in info.value.message
    assert not transport.is_open
    dev = make_device({"type": "shtrih", "address": "usb://1fc9:8080"})
    with pytest.raises(E.TransportError):
        dev.status()


def test_tcp_connection_refused_and_serial_missing_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    with pytest.raises(E.TransportError) as info:
        make_device({"address": f"tcp://127.0.0.1:{port}"}).status()
    assert "cannot connect" in info.value.message
    with pytest.raises(E.TransportError) as info:
        make_device({"address": "serial:///dev/does-not-exist"}).status()
    assert "/dev/does-not-exist" in info.value.message


def test_tcp_read_timeout_returns_nothing(emu):
    t = TcpTransport("127.0.0.1", emu.port)
    t.open()
    start = time.monotonic()
    assert t.read(10, 0.2) == b""
    assert 0.15 < time.monotonic() - start < 3.0
    t.close()
    with pytest.raises(E.TransportError):
        t.read(1, 0.1)


# ------------------------------------------------------------------ control channel
def test_control_channel_reports_errors_and_state(emu):
    ctl = EmulatorControl(emu.control_port)
    assert ctl.ping()["port"] == emu.port
    with pytest.raises(ControlError) as info:
        ctl.call("no_such_op")
    assert "no_such_op" in str(info.value)
    state = ctl.state()
    assert state["fn_serial"] == "9999078900012345" and state["last_fd"] == 1
    assert ctl.set(print_delay=0.25)["print_delay"] == 0.25
    ctl.reset_faults()
    assert ctl.state()["faults"]["print_delay"] == 0
    assert ctl.clock(advance=60)["clock_offset"] == 60


def test_emulator_with_options_and_a_second_process_controlling_it(tmp_path, profile):
    proc = start_emulator(
        tmp_path, args=["--fn-serial", "9999078900054321", "--tax-systems", "2"], profile=profile
    )
    try:
        dev = make_device({**proc.config, "timeouts": FAST})
        dev.open_shift("А")
        assert dev.fn_status().fn_serial == "9999078900054321"
        with pytest.raises(E.DeviceError) as info:  # OSN (1) is not registered here
            dev.fiscalise(receipt(tax_system=1))
        assert info.value.device_code == 0x33
        assert dev.fiscalise(receipt(tax_system=2)).fd_number == 3
        dev.close()
    finally:
        proc.stop()
    assert proc.proc.returncode == 0  # clean shutdown through the control channel
