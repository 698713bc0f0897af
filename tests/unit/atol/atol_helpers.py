"""Documents and HTTP helpers for the ATOL tests (a module with a unique name)."""

import http.client
import json

from ru54fz import ffd

#: short timeouts keep the fault tests fast; the defaults are for real registers
FAST = {"http": 2.0, "task": 5.0, "poll": 0.01}


def item(name="Линза очковая 1.6", price=250000, qty=1000, vat=6, **kw):
    amount = kw.pop("amount", None)
    if amount is None:
        amount = price * qty // 1000
    return ffd.Item(
        name=name,
        price=price,
        quantity=qty,
        amount=amount,
        vat=vat,
        vat_amount=ffd.item_vat(amount, vat),
        **kw,
    )


def receipt(items=None, operation=1, cash=None, electronic=0, **kw):
    items = items or [item()]
    total = sum(i.amount for i in items)
    if cash is None:
        cash = total - electronic - sum(kw.get("payments_extra", {}).values())
    extra = kw.pop("payments_extra", {})
    doc = ffd.Receipt(
        operation=operation,
        tax_system=kw.pop("tax_system", 1),
        items=items,
        payments=ffd.Payments(cash=cash, electronic=electronic, **extra),
        total=total,
        cashier=kw.pop("cashier", "Смирнова А."),
        **kw,
    )
    doc.vat_totals = ffd.compute_vat_totals(items)
    return doc


def http_call(web, method, path, body=None, raw=None):
    """(status, parsed JSON or None) of one raw HTTP exchange with the web server."""
    conn = http.client.HTTPConnection("127.0.0.1", web.port, timeout=5)
    try:
        data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
        headers = {"Content-Type": "application/json"} if data is not None else {}
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        text = resp.read()
        return resp.status, (json.loads(text) if text else None)
    finally:
        conn.close()


def wait_results(web, uuid, timeout=5.0):
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status, body = http_call(web, "GET", f"/api/v2/requests/{uuid}")
        if status == 200 and all(
            r["status"] in ("ready", "error", "interrupted", "canceled") for r in body["results"]
        ):
            return body["results"]
        time.sleep(0.02)
    raise AssertionError(f"request {uuid} did not finish")
