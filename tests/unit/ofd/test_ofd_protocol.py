"""OFD session/frame protocol: round trips, CRC, precise decoding errors, fuzzing."""

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ru54fz.ofd import protocol as p

FN = "9999078900012345"


def test_crc16_ccitt_false_check_value():
    assert p.crc16_ccitt_false(b"123456789") == 0x29B1
    assert p.crc16_ccitt_false(b"") == 0xFFFF


def test_session_header_layout_is_30_bytes_with_magic_and_versions():
    raw = p.SessionHeader(FN, 100).pack()
    assert len(raw) == 30
    assert raw[:4] == bytes.fromhex("2a08410a")
    assert raw[4:6] == bytes.fromhex("81a2")
    assert raw[6:8] == bytes.fromhex("0001")
    assert raw[8:24] == FN.encode()
    assert struct.unpack_from("<H", raw, 24)[0] == 100
    assert struct.unpack_from("<H", raw, 28)[0] == p.crc16_ccitt_false(raw[:28])
    assert p.SessionHeader.unpack(raw) == p.SessionHeader(
        FN, 100, p.DEFAULT_FLAGS, p.crc16_ccitt_false(raw[:28])
    )


def test_frame_header_layout_and_crc_cover_header_and_body():
    msg = p.build_document_message(FN, 70000, fd_type=3, fiscal_sign=123456789, doc_time=1700000000)
    assert msg[4] == 0xA5 and msg[5] == 3 and msg[6] == 1
    assert struct.unpack_from("<H", msg, 0)[0] == len(msg)
    assert msg[9:17] == bytes.fromhex(FN)
    assert int.from_bytes(msg[17:20], "little") == 70000
    crc = struct.unpack_from("<H", msg, 2)[0]
    assert crc == p.crc16_ccitt_false(msg[:2] + msg[4:])
    c = p.Container.unpack(msg)
    assert (c.fd_type, c.fn_number, c.fd_number) == (3, FN, 70000)
    root = c.tlvs[0]
    assert root.tag == 3
    assert root.find(p.TAG_FD_NUMBER).as_int == 70000
    assert root.find(p.TAG_FISCAL_SIGN).as_int == 123456789
    assert root.find(p.TAG_FN_NUMBER).as_str == FN


def test_session_round_trip():
    msg = p.build_document_message(FN, 5)
    header, container = p.unpack_session(p.pack_session(msg, FN))
    assert header.length == len(msg)
    assert container.pack() == msg


def test_cp866_strings_round_trip():
    item = p.decode_tlv(p.tlv(1021, "Кассир Иванова"))[0]
    assert item.as_str == "Кассир Иванова"
    with pytest.raises(p.BadTlv, match="CP866"):
        p.tlv(1021, "emoji \U0001f600")


def test_ticket_round_trip_and_rejection_text():
    ok = p.parse_ticket(p.build_ticket(FN, 42))
    assert ok.accepted and ok.fd_number == 42 and ok.fn_number == FN
    bad = p.parse_ticket(p.build_ticket(FN, 43, code=14, message="Неверный ФП"))
    assert not bad.accepted and bad.code == 14 and bad.message == "Неверный ФП"


@pytest.mark.parametrize(
    "mutate, error, text",
    [
        (lambda b: b"\x2b" + b[1:], p.BadMagic, "session magic"),
        (lambda b: b[:4] + b"\x81\xa3" + b[6:], p.BadVersion, "session protocol version"),
        (lambda b: b[:6] + b"\x00\x02" + b[8:], p.BadVersion, "application protocol version"),
        (lambda b: b[:28] + bytes([b[28] ^ 1]) + b[29:], p.BadCrc, "session header CRC"),
        (lambda b: b[:20], p.Truncated, "needs 30 bytes"),
    ],
)
def test_session_header_errors_are_precise(mutate, error, text):
    raw = p.pack_session(p.build_document_message(FN, 1), FN)
    with pytest.raises(error, match=text):
        p.unpack_session(mutate(raw))


def test_frame_errors_are_precise():
    msg = bytearray(p.build_document_message(FN, 7))
    bad = bytearray(msg)
    bad[-1] ^= 0xFF
    with pytest.raises(p.BadCrc, match="frame CRC"):
        p.Container.unpack(bytes(bad))
    bad = bytearray(msg)
    bad[4] = 0xA6
    with pytest.raises(p.BadMessageType, match="0xa6"):
        p.Container.unpack(bytes(bad))
    with pytest.raises(p.BadLength, match="declares"):
        p.Container.unpack(bytes(msg) + b"\x00")
    with pytest.raises(p.BadFnNumber, match="16 decimal digits"):
        p.build_document_message("12345", 1)
    other = p.build_document_message("9999078900099999", 7)
    with pytest.raises(p.BadFnNumber, match="differs from session FN"):
        p.unpack_session(p.pack_session(other, FN))


def test_tlv_errors_carry_the_offset():
    body = p.tlv(1040, 5) + b"\x29\x04\x10\x00ab"  # tag 1065 claims 16 bytes, has 2
    with pytest.raises(p.BadTlv, match=r"declares 16 bytes but only 2 remain \(at byte 8\)"):
        p.decode_tlv(body)
    with pytest.raises(p.BadTlv, match="stray"):
        p.decode_tlv(p.tlv(1040, 5) + b"\x01")


def test_ticket_for_wrong_fd_is_refused():
    inner = [p.tlv(p.TAG_FD_NUMBER, 9), p.tlv(p.TAG_MESSAGE_TO_FN, [p.tlv_u8(1022, 0)])]
    raw = p.Container(7, FN, 8, p.tlv(7, inner)).pack()
    with pytest.raises(p.BadTlv, match="differs from its frame FD"):
        p.parse_ticket(raw)
    with pytest.raises(p.BadMessageType, match="not an operator confirmation"):
        p.parse_ticket(p.build_document_message(FN, 8))


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=300))
def test_fuzz_decoder_raises_only_protocol_errors(data):
    for decode in (p.unpack_session, p.Container.unpack, p.decode_tlv, p.parse_ticket):
        try:
            decode(data)
        except p.ProtocolError:
            pass


@settings(max_examples=300, deadline=None)
@given(
    st.integers(0, (1 << 24) - 1),
    st.integers(0, 0xFFFFFFFF),
    st.integers(0, 0xFF),
    st.text(max_size=40).filter(lambda s: all(ord(c) < 0x2000 for c in s)),
)
def test_fuzz_round_trip(fd_number, sign, fd_type, text):
    try:
        extra = [p.tlv(1021, text)]
    except p.BadTlv:
        extra = []
    msg = p.build_document_message(
        FN, fd_number, fd_type=fd_type if fd_type in p.STLV_TAGS else 3, fiscal_sign=sign, extra_tlvs=extra
    )
    header, c = p.unpack_session(p.pack_session(msg, FN))
    assert c.fd_number == fd_number and c.pack() == msg
    assert c.tlvs[0].find(p.TAG_FISCAL_SIGN).as_int == sign


@settings(max_examples=300, deadline=None)
@given(st.integers(0, 200), st.integers(0, 255))
def test_fuzz_single_bit_flip_is_always_detected(position, mask):
    raw = p.pack_session(p.build_document_message(FN, 1234, fiscal_sign=99), FN)
    pos = position % len(raw)
    flipped = bytearray(raw)
    flipped[pos] ^= mask or 1
    if bytes(flipped) == raw:
        return
    with pytest.raises(p.ProtocolError):
        p.unpack_session(bytes(flipped))
