"""A document the driver itself refuses to encode (``DocumentInvalid`` raised by the
driver, after the till's own FFD checks passed) must not leave its journal entry
``sent``: the entry is ``failed`` with the driver's reason, the KKT has no new
document, and the same uuid is answered with that failure, never fiscalised by the
background settle."""

import json

import pytest
from ru54fz import errors
from till_helpers import order, service_on_shift


@pytest.fixture
def svc(tmp_path, emu):
    with service_on_shift(tmp_path / "journal.sqlite", emu) as service:
        yield service


def test_driver_document_invalid_marks_the_entry_failed_and_fiscalises_nothing(svc):
    before = svc.device.fn_status().last_fd_number
    # a 2D scanner left on the Russian keyboard layout types Cyrillic letters into the
    # code: the FFD rules accept the text (the FN stores CP866), the Shtrih driver sends
    # marking codes as ASCII only (FF61), so the refusal comes from the driver
    o = order(total_lines=1)
    o["lines"][0].update(subject=33, marking_code="0104650117240408215Ыф4Бк\x1d93Ащ3и")
    with pytest.raises(errors.DocumentInvalid) as exc:
        svc.sale(o)
    assert exc.value.http_status == 400
    entry = svc.journal.get(o["uuid"])
    assert entry["state"] == "failed"
    error = json.loads(entry["error"])
    assert error["code"] == "document_invalid" and "marking code" in error["message"]
    # nothing on the KKT: no receipt, no document left open for the next sale
    fn = svc.device.fn_status()
    assert fn.last_fd_number == before and not fn.open_document
    # the background settle does not fiscalise it later; a good sale goes through
    assert svc.journal.get(o["uuid"])["state"] == "failed"
    good = order(total_lines=1)
    assert svc.sale(good)["fiscal"]["fd_number"] == before + 1
