"""Shtrih frames, field codecs and command layouts at byte level."""

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ru54fz.shtrih import codec
from ru54fz.shtrih import commands as C
from ru54fz.shtrih.frame import ACK, ENQ, NAK, STX, Decoder, FrameError, encode, lrc, split_command

# Frames logged from real devices (54fz.md §4.2, re-star-ru/shtrih-m-driver docs/out.txt).
VERIFIED = {
    "02 05 10 1E 00 00 00 0B": (0x10, {"password": 30}),
    "02 05 88 1E 00 00 00 93": (0x88, {"password": 30}),
    "02 05 E0 1E 00 00 00 FB": (0xE0, {"password": 30}),
}


@pytest.mark.parametrize("hexframe", sorted(VERIFIED))
def test_builds_the_frames_real_devices_exchange(hexframe):
    code, values = VERIFIED[hexframe]
    assert encode(C.get(code).build(**values)) == bytes.fromhex(hexframe)
    events = Decoder().feed(bytes.fromhex(hexframe))
    assert [e.kind for e in events] == ["frame"]
    cmd, parsed_code, data = C.parse_request_payload(events[0].payload)
    assert parsed_code == code and cmd.parse_request(data) == values


def test_two_byte_fn_commands_and_lrc():
    payload = C.get(0xFF01).build(password=30)
    assert payload[:2] == b"\xff\x01"
    frame = encode(payload)
    assert frame[1] == len(payload) and frame[-1] == lrc(frame[1:-1])
    assert split_command(payload) == (0xFF01, b"\x1e\x00\x00\x00")


def test_encode_rejects_empty_and_oversized_payloads():
    with pytest.raises(FrameError):
        encode(b"")
    with pytest.raises(FrameError):
        encode(b"\x01" * 256)


def test_decoder_handles_control_bytes_garbage_and_resync():
    good = encode(b"\x10\x00\x1e")
    corrupt = bytearray(encode(b"\x11\x00\x01\x02"))
    corrupt[-1] ^= 0xFF
    dec = Decoder()
    events = dec.feed(bytes([ENQ, 0x99, ACK]) + bytes(corrupt) + good + bytes([NAK]))
    kinds = [e.kind for e in events]
    assert kinds[:2] == ["enq", "ack"] and "bad" in kinds
    assert [e.payload for e in events if e.kind == "frame"] == [b"\x10\x00\x1e"]
    assert kinds[-1] == "nak" and dec.garbage >= 1


def test_decoder_waits_for_the_rest_of_a_split_frame():
    frame = encode(C.get(0xFF01).build(password=30))
    dec = Decoder()
    assert dec.feed(frame[:3]) == [] and dec.in_frame
    assert [e.payload for e in dec.feed(frame[3:])] == [frame[2:-1]]
    assert not dec.in_frame


payloads = st.binary(min_size=1, max_size=255)


@settings(deadline=None)
@given(st.lists(payloads, min_size=1, max_size=5))
def test_decode_of_encode_gives_the_payloads_back(items):
    stream = b"".join(encode(p) for p in items)
    assert [e.payload for e in Decoder().feed(stream)] == items


@settings(deadline=None)
@given(st.lists(payloads, min_size=1, max_size=4), st.data())
def test_chunking_does_not_change_the_result(items, data):
    stream = b"".join(encode(p) for p in items)
    cuts = sorted(data.draw(st.lists(st.integers(0, len(stream)), max_size=8)))
    dec, events, last = Decoder(), [], 0
    for cut in cuts + [len(stream)]:
        events += dec.feed(stream[last:cut])
        last = cut
    assert [e.payload for e in events] == items


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=4000))
def test_random_input_never_crashes_and_buffers_at_most_one_frame(blob):
    dec = Decoder()
    for start in range(0, len(blob), 700):
        for event in dec.feed(blob[start : start + 700]):
            assert event.kind in {"frame", "enq", "ack", "nak", "bad"}
        assert len(dec._buf) <= 257
    dec.reset()
    assert not dec.in_frame


@settings(deadline=None)
@given(payloads, st.integers(1, 256))
def test_truncated_frame_yields_nothing_until_completed(payload, cut):
    frame = encode(payload)
    cut = min(cut, len(frame) - 1)
    dec = Decoder()
    assert [e for e in dec.feed(frame[:cut]) if e.kind == "frame"] == []
    assert [e.payload for e in dec.feed(frame[cut:])] == [payload]


@settings(deadline=None)
@given(st.binary(min_size=1, max_size=300), payloads)
def test_a_good_frame_after_garbage_is_found(garbage, payload):
    # garbage that ends inside a fake frame would swallow the start of the next
    # one; the driver resets the decoder on the byte timeout, as here
    dec = Decoder()
    dec.feed(garbage)
    dec.reset()
    assert [e.payload for e in dec.feed(encode(payload)) if e.kind == "frame"] == [payload]


def test_oversized_stream_of_stx_does_not_grow_the_buffer():
    dec = Decoder()
    dec.feed(bytes([STX, 0xFF]) + b"\x00" * 100_000)
    assert len(dec._buf) <= 257


# ---------------------------------------------------------------- codec
def test_sums_are_5_byte_little_endian_kopecks():
    assert codec.pack_uint(123456, 5) == bytes.fromhex("40e2010000")
    assert codec.unpack_uint(bytes.fromhex("40e2010000"), 0, 5) == (123456, 5)
    with pytest.raises(codec.CodecError):
        codec.pack_uint(1 << 40, 5)
    with pytest.raises(codec.CodecError):
        codec.pack_uint(-1, 5)


def test_dates_times_and_strings():
    when = dt.datetime(2026, 3, 4, 13, 45)
    assert codec.pack_datetime5(when) == bytes([26, 3, 4, 13, 45])
    assert codec.unpack_datetime5(bytes([26, 3, 4, 13, 45])) == when
    with pytest.raises(codec.CodecError):
        codec.unpack_date_ymd(bytes([26, 13, 40]))
    assert codec.pack_text("Очки", codec.TLV_ENCODING) == "Очки".encode("cp866")
    with pytest.raises(codec.CodecError):
        codec.pack_text("€" * 3, codec.TLV_ENCODING)
    with pytest.raises(codec.CodecError):
        codec.pack_text("x" * 129, max_len=128)


def test_tlv_encoding_and_parsing():
    raw = codec.tlv(1008, "+79990001122") + codec.tlv_u32(1178, 1700000000)
    assert raw[:4] == bytes.fromhex("f0030c00")
    assert codec.parse_tlvs(raw) == [(1008, b"+79990001122"), (1178, (1700000000).to_bytes(4, "little"))]
    stlv = codec.tlv(1174, [codec.tlv(1179, "12-34")])
    assert codec.parse_tlvs(codec.parse_tlvs(stlv)[0][1]) == [(1179, b"12-34")]
    with pytest.raises(codec.CodecError):
        codec.parse_tlvs(raw[:-1])


# ---------------------------------------------------------------- layouts
SAMPLE = {
    "u8": 7,
    "u16": 513,
    "u32": 70000,
    "u40": 123456789,
    "u48": 2_500_000,
    "date_ymd": dt.date(2026, 1, 5),
    "date_dmy": dt.date(2026, 1, 5),
    "time_hm": dt.time(9, 30),
    "time_hms": dt.time(9, 30, 15),
    "dt5": dt.datetime(2026, 1, 5, 9, 30),
    "ascii16": "9999078900012345",
    "bytes2": b"AB",
    "bytes3": b"\0\1\2",
    "bytes8": bytes(range(8)),
    "text": "Линза",
    "tlv": codec.tlv(1008, "a@b.ru"),
    "rest": b"\x01\x02",
    "lenbytes": b"\xaa\xbb",
    "regnum": 241,
}


@pytest.mark.parametrize("cmd", C.COMMANDS, ids=lambda c: c.label)
def test_every_layout_round_trips_both_ways(cmd):
    req = {name.rstrip("?"): SAMPLE[kind] for name, kind in cmd.request}
    payload = cmd.build(**req)
    _, code, data = C.parse_request_payload(payload)
    assert code == cmd.code and cmd.parse_request(data) == req
    rep = {name.rstrip("?"): SAMPLE[kind] for name, kind in cmd.reply}
    rcode, err, rdata = C.parse_reply_payload(cmd.build_reply(0, **rep))
    assert (rcode, err) == (cmd.code, 0) and cmd.parse_reply(rdata) == rep
    assert C.parse_reply_payload(cmd.build_reply(0x6B)) == (cmd.code, 0x6B, b"")


def test_short_request_is_a_layout_error():
    with pytest.raises(C.LayoutError):
        C.get(0xFF0A).parse_request(b"\x1e\x00\x00\x00\x01")


def test_item_and_close_request_offsets_match_the_vendor_layout():
    cmd = C.get(0xFF46)
    data = cmd.build(
        password=30,
        operation=1,
        quantity=1_000_000,
        price=1000,
        amount=1000,
        tax_amount=codec.NOT_GIVEN_5,
        tax=0x08,
        department=1,
        payment_method=4,
        subject=1,
        name="A",
    )[2:]
    # pwd 4 | op 1 | qty 6 | price 5 | sum 5 | tax sum 5 | tax 1 | dept 1 | 1214 1 | 1212 1 | name
    assert len(data) == 4 + 1 + 6 + 5 + 5 + 5 + 1 + 1 + 1 + 1 + 1
    assert data[4] == 1 and data[5:11] == (1_000_000).to_bytes(6, "little")
    assert data[21:26] == b"\xff" * 5 and data[26] == 0x08 and data[-1:] == b"A"
    close = C.get(0xFF45).build(
        password=30,
        **{f"pay{i}": 0 for i in range(1, 17)},
        rounding=0,
        **{f"tax{i}": 0 for i in range(1, 7)},
        tax_system=1,
        text="",
    )[2:]
    assert len(close) == 4 + 16 * 5 + 1 + 6 * 5 + 1


def test_register_numbers_follow_the_vendor_x_report():
    assert C.payment_register(0, 1) == 193  # sale, cash
    assert C.payment_register(C.REG_OP_INDEX[2], 1) == 195  # sale refund, cash
    assert C.payment_register(0, 2) == 197  # sale, payment type 2
    assert C.payment_register(0, 14) > 255  # two-byte register number
    assert C.get(0x1A).build(password=30, register=257)[-2:] == b"\x01\x01"


def test_layout_table_lists_every_command():
    table = C.layout_table()
    for cmd in C.COMMANDS:
        assert f"| {cmd.label} |" in table


def test_the_protocol_document_lists_exactly_these_layouts_and_codes():
    from pathlib import Path

    from ru54fz.shtrih import errors as SE

    doc = (Path(__file__).resolve().parents[3] / "docs" / "kkt_shtrih_protocol.md").read_text()
    assert C.layout_table() in doc
    for code, (_cls, message) in SE.CODES.items():
        assert f"| 0x{code:02X} |" in doc and message in doc


def test_the_protocol_document_lists_exactly_these_models():
    from pathlib import Path

    from ru54fz.shtrih import models as M

    doc = (Path(__file__).resolve().parents[3] / "docs" / "kkt_shtrih_protocol.md").read_text()
    assert M.models_table() in doc
    assert M.caps_for(152).vat_byte(11) == 0x90 and M.caps_for(239).vat_byte(11) == 0xCB
    assert M.caps_for(45).tags_first and M.caps_for(19).tags_first and not M.caps_for(77).tags_first
