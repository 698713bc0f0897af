"""The till proxy the way a till runs it: a database-less Odoo 18 process
(``--load=base,web,optics_pos_ru54fz``, no -d) with a till config file, over
real HTTP, against the KKT emulator process."""

import importlib.util
import json
import threading
import uuid

import pytest
from local_odoo import till_proxy
from ru54fz import tokens
from ru54fz.emulator.harness import start_emulator
from till_helpers import order

pytestmark = pytest.mark.skipif(importlib.util.find_spec("odoo") is None, reason="Odoo is not importable")
requests = pytest.importorskip("requests")

TOKEN = "dbless-pairing-token"
ORIGIN = "http://pos.example.ru:8069"


@pytest.fixture(scope="module")
def till(tmp_path_factory):
    work = tmp_path_factory.mktemp("dbless")
    with start_emulator(work) as emu:
        till = {
            "till_code": "DBLESS-1",
            "token_hash": tokens.hash_token(TOKEN),
            "allowed_origin": ORIGIN,
            "device": emu.config,
            "journal_path": str(work / "journal.sqlite"),
        }
        with till_proxy(work, [till]) as url:
            yield url, emu, work


def call(url, action, body=None, token=TOKEN, **kw):
    headers = {"Content-Type": "application/json", **kw.pop("headers", {})}
    if token is not None:
        headers["X-Till-Token"] = token
    data = body if isinstance(body, (bytes, str)) or body is None else json.dumps(body)
    method = "POST" if data is not None else "GET"
    return requests.request(
        method, f"{url}/hw_proxy/ru54fz/{action}", data=data, headers=headers, timeout=30, **kw
    )


def test_without_the_token_nothing_happens(till):
    url, emu, work = till
    before = emu.control.state()["last_fd"]
    for token in (None, "", "nope"):
        r = call(url, "receipt", order(), token=token)
        assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
        r = call(url, "open_shift", {"uuid": str(uuid.uuid4()), "cashier": {"name": "Анна"}}, token=token)
        assert r.status_code == 401
        assert "fn" not in r.text and "journal" not in r.text
    assert emu.control.state()["last_fd"] == before


def test_cors_preflight_only_for_the_pos_origin(till):
    url, _, _ = till
    ok = requests.options(
        url + "/hw_proxy/ru54fz/receipt",
        timeout=10,
        headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"},
    )
    assert ok.status_code == 200 and ok.headers["Access-Control-Allow-Origin"] == ORIGIN
    bad = requests.options(
        url + "/hw_proxy/ru54fz/receipt",
        timeout=10,
        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"},
    )
    assert "Access-Control-Allow-Origin" not in bad.headers


def test_sale_replay_and_ten_concurrent_posts_of_one_uuid(till):
    url, emu, _ = till
    r = call(url, "open_shift", {"uuid": f"shift-{uuid.uuid4()}", "cashier": {"name": "Анна Кассирова"}})
    assert r.status_code in (200, 502), r.text  # 502: a shift is already open
    before = emu.control.state()["last_fd"]
    o = order(total_lines=5)
    r = call(url, "receipt", o, headers={"Origin": ORIGIN})
    assert r.status_code == 200, r.text
    assert r.headers["Access-Control-Allow-Origin"] == ORIGIN
    first = r.json()
    assert first["fiscal"]["fd_number"] == before + 1
    assert call(url, "receipt", o).json() == first

    o2 = order()
    replies = []

    def post():
        replies.append(call(url, "receipt", o2))

    threads = [threading.Thread(target=post) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [x.status_code for x in replies] == [200] * 10
    bodies = [x.json() for x in replies]
    assert all(b == bodies[0] for b in bodies)
    assert emu.control.state()["last_fd"] == before + 2

    bad = call(url, "receipt", b"{truncated")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "request_invalid"
    st = call(url, "status").json()
    assert st["journal"]["entries"] >= 2 and st["fn"]["last_fd_number"] == before + 2


def test_oversized_and_garbage_bodies_get_400(till):
    url, emu, _ = till
    before = emu.control.state()["last_fd"]
    big = json.dumps(order()).encode()[:-1] + b', "x": "' + b"a" * 400_000 + b'"}'
    r = call(url, "receipt", big)
    assert r.status_code == 400 and "larger" in r.json()["error"]["message"]
    for raw in (b"", b"\xff\xfe\x00", b"null", b'{"uuid": ', b"[]" * 1000):
        r = call(url, "receipt", raw)
        assert r.status_code == 400, (raw[:20], r.text)
    assert emu.control.state()["last_fd"] == before
