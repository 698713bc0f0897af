"""One till proxy (a database-less Odoo 18 process with a till config file) serving
two tills, one on a Shtrih-M register and one on an ATOL register: the till config
chooses the driver per till, and the POS sends the same requests to both and gets
the same answers."""

import importlib.util
import json
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "till"))

from local_odoo import till_proxy
from ru54fz import tokens
from ru54fz.atol.harness import start_atol_emulator
from ru54fz.emulator.harness import start_emulator
from till_helpers import order

pytestmark = pytest.mark.skipif(importlib.util.find_spec("odoo") is None, reason="Odoo is not importable")
requests = pytest.importorskip("requests")

TOKENS = {"SHTRIH-1": "pairing-token-shtrih", "ATOL-1": "pairing-token-atol"}


@pytest.fixture(scope="module")
def proxy(tmp_path_factory):
    work = tmp_path_factory.mktemp("two-tills")
    with start_emulator(work / "shtrih") as shtrih, start_atol_emulator(work / "atol") as atol:
        tills = [
            {
                "till_code": "SHTRIH-1",
                "token_hash": tokens.hash_token(TOKENS["SHTRIH-1"]),
                "allowed_origin": "",
                "device": shtrih.config,
                "journal_path": str(work / "shtrih.sqlite"),
            },
            {
                "till_code": "ATOL-1",
                "token_hash": tokens.hash_token(TOKENS["ATOL-1"]),
                "allowed_origin": "",
                "device": {**atol.config, "inflight_file": str(work / "atol.inflight")},
                "journal_path": str(work / "atol.sqlite"),
            },
        ]
        # two tills: a status request without a till code is refused as ambiguous (400)
        with till_proxy(work, tills, up_statuses=(400, 401)) as url:
            yield url, {"SHTRIH-1": shtrih, "ATOL-1": atol}


def call(url, till, action, body=None):
    headers = {"X-Till-Token": TOKENS[till], "X-Till-Code": till, "Content-Type": "application/json"}
    if body is None:
        return requests.get(f"{url}/hw_proxy/ru54fz/{action}", headers=headers, timeout=30)
    return requests.post(
        f"{url}/hw_proxy/ru54fz/{action}", data=json.dumps(body), headers=headers, timeout=30
    )


def test_the_same_pos_requests_fiscalise_on_both_registers(proxy):
    url, registers = proxy
    answers = {}
    for till, register in registers.items():
        before = register.control.state()["last_fd"]
        r = call(url, till, "open_shift", {"uuid": str(uuid.uuid4()), "cashier": {"name": "Анна Кассирова"}})
        assert r.status_code == 200, r.text
        sale = order(total_lines=2)
        r = call(url, till, "receipt", sale)
        assert r.status_code == 200, r.text
        answer = r.json()
        assert answer["state"] == "fiscalised" and answer["fiscal"]["fd_number"] == before + 2
        assert register.control.state()["last_fd"] == before + 2
        # the same uuid again: the stored answer, no second document
        assert call(url, till, "receipt", sale).json() == answer
        assert register.control.state()["last_fd"] == before + 2
        status = call(url, till, "status")
        assert status.status_code == 200 and status.json()["shift"]["open"] is True
        answers[till] = answer
    shapes = {till: (sorted(a), sorted(a["fiscal"])) for till, a in answers.items()}
    assert shapes["SHTRIH-1"] == shapes["ATOL-1"], "the POS must not see which register it talks to"
    assert {a["fiscal"]["fn_serial"] for a in answers.values()} == {"9999078900012345", "9999078900054321"}


def test_a_paper_out_refusal_reads_the_same_on_both(proxy):
    url, registers = proxy
    errors = {}
    for till, register in registers.items():
        register.control.set(paper_out=True)
        try:
            r = call(url, till, "receipt", order())
        finally:
            register.control.set(paper_out=False)
        errors[till] = (
            r.status_code,
            r.json()["error"]["code"] if "error" in r.json() else r.json().get("code"),
        )
    assert errors["SHTRIH-1"] == errors["ATOL-1"]
    assert errors["ATOL-1"][1] == "paper_out"
