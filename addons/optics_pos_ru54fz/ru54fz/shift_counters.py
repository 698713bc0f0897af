"""Shift counters of a KKT: the one shape both drivers answer, and the Z report's reading of it.

``GET counters``, ``x_report``, the cash in/out replies, ``close_shift``'s ``fiscal.extra``
and the journal's ``sent_info`` all carry the same dict, money in kopecks
(docs/fiscal_contracts.md, "Shift counters")::

    {"shift_number": int, "shift_open": bool,
     "receipts": {"sale" | "sale_refund" | "expense" | "expense_refund":
                  {"count", "cash", "electronic", "prepayment", "credit", "other", "total"}},
     "cash_in": {"count", "total"}, "cash_out": {"count", "total"},
     "voided": {"count"}, "cash_in_drawer": int}

The back office adds ``"ofd": {"unconfirmed_count", "first_unconfirmed_fd",
"oldest_unconfirmed_at"}`` (the FN's status just before the Z report).  Readers take these
keys and no others: a counter under another name is a driver bug, not something to guess.
"""

#: the receipt types of the counters (tag 1054) -> the Z report's operation names
OPERATIONS = {
    "sale": "sale",
    "sale_refund": "refund",
    "expense": "expense",
    "expense_refund": "expense_refund",
}
#: the counters' payment means -> the Z report's payment names
PAYMENTS = {
    "cash": "cash",
    "electronic": "card",
    "prepayment": "prepayment",
    "credit": "credit",
    "other": "other",
}


def _int(value):
    """A counter value as an int; an absent or empty counter is 0."""
    if isinstance(value, bool) or value in (None, ""):
        return 0
    return int(value)


def _section(data, key):
    value = data.get(key) if isinstance(data, dict) else None
    return value if isinstance(value, dict) else {}


def z_report_figures(counters):
    """The shift counters read for a Z report, in kopecks::

        {"shift_number", "receipt_count",
         "sale" | "refund" | "expense" | "expense_refund":
             {"count", "cash", "card", "prepayment", "credit", "other", "total"},
         "cash_in", "cash_out", "cash_in_count", "cash_out_count",
         "cash_in_drawer" (None when the KKT did not tell),
         "ofd": {"unconfirmed_count", "first_unconfirmed_fd", "oldest_unconfirmed_at"}}

    A receipt type's ``total`` is the sum of its means when the KKT left it at 0."""
    counters = counters if isinstance(counters, dict) else {}
    receipts = _section(counters, "receipts")
    out = {"shift_number": _int(counters.get("shift_number")), "receipt_count": 0}
    for kkt_name, name in OPERATIONS.items():
        data = _section(receipts, kkt_name)
        row = {"count": _int(data.get("count"))}
        for kkt_pay, pay in PAYMENTS.items():
            row[pay] = _int(data.get(kkt_pay))
        row["total"] = _int(data.get("total")) or sum(row[p] for p in PAYMENTS.values())
        out[name] = row
        out["receipt_count"] += row["count"]
    for kind in ("cash_in", "cash_out"):
        out[kind] = cash_total(counters, kind)
        out[f"{kind}_count"] = _int(_section(counters, kind).get("count"))
    drawer = counters.get("cash_in_drawer")
    out["cash_in_drawer"] = None if drawer in (None, "") else _int(drawer)
    ofd = _section(counters, "ofd")
    out["ofd"] = {
        "unconfirmed_count": _int(ofd.get("unconfirmed_count")),
        "first_unconfirmed_fd": _int(ofd.get("first_unconfirmed_fd")),
        "oldest_unconfirmed_at": ofd.get("oldest_unconfirmed_at") or "",
    }
    return out


def cash_total(counters, kind):
    """The shift's ``cash_in`` or ``cash_out`` total in kopecks (0 when the KKT told none)."""
    return _int(_section(counters, kind).get("total"))


def of_close_shift(fiscal):
    """The shift counters a ``close_shift`` answer carries: both drivers put them in the
    FiscalResult's ``extra`` (the Z report's own counters, read before the shift closed)."""
    extra = fiscal.get("extra") if isinstance(fiscal, dict) else None
    return extra if isinstance(extra, dict) else {}


def of_reply(reply):
    """The shift counters of a till answer: ``GET counters`` is the counters themselves;
    ``x_report``, ``cash_in`` and ``cash_out`` answer ``{"uuid", "state", "counters"}``."""
    if not isinstance(reply, dict):
        return {}
    nested = reply.get("counters")
    return nested if isinstance(nested, dict) else reply
