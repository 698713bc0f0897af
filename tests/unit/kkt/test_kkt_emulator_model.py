"""The emulator's FN model in-process: random requests never break it, and its
archive survives a crash in the middle of a write."""

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from kkt_helpers import close_values, item_values
from ru54fz.emulator.model import KKTModel
from ru54fz.shtrih import commands as C
from ru54fz.shtrih import frame


def _reply_ok(model, payload):
    reply = model.execute(payload)
    code, err, data = C.parse_reply_payload(reply)
    return code, err, data


@pytest.fixture(scope="module")
def model():
    m = KKTModel()
    assert _reply_ok(m, C.get(0xE0).build(password=30))[1] == 0
    return m


@settings(max_examples=400, deadline=None)
@given(st.binary(min_size=1, max_size=255))
@example(b"\xff")
@example(b"\xff\x46")
def test_random_request_payloads_always_get_a_well_formed_reply(model, payload):
    last_fd = model.state["last_fd"]
    reply = model.execute(payload)
    assert 2 <= len(reply) <= 255
    frame.encode(reply)  # fits a frame
    assert model.state["last_fd"] >= last_fd


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([c for c in C.COMMANDS]), st.binary(max_size=120))
def test_known_commands_with_random_data_never_crash(model, cmd, data):
    payload = frame.command_bytes(cmd.code) + b"\x1e\x00\x00\x00" + data
    code, err, _ = C.parse_reply_payload(model.execute(payload[:255]))
    assert code == cmd.code


def test_archive_survives_a_line_cut_by_a_crash(tmp_path):
    path = str(tmp_path / "state.json")
    m = KKTModel(path)
    m.execute(C.get(0xE0).build(password=30))
    m.execute(C.get(0xFF46).build(password=30, **item_values(price=500, name="Линза")))
    reply = m.execute(C.get(0xFF45).build(password=30, **close_values(500)))
    assert C.parse_reply_payload(reply)[1] == 0
    sign = m.state["archive"]["3"]["fp"]
    with open(path + ".archive.jsonl", "a", encoding="utf-8") as fh:
        fh.write('{"fd": 4, "type": 3, "ti')  # torn write of a 4th document
    again = KKTModel(path)
    assert again.state["last_fd"] == 3 and again.state["archive"]["3"]["fp"] == sign
    assert again.state["shift"]["open"] and again.state["registers"]
    assert json.loads(open(path, encoding="utf-8").read())["last_fd"] == 3
