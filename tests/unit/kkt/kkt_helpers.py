"""Timeouts for the KKT tests (a module with a unique name, imported by the tests); the
documents they print are in tests/tools/kkt_testing.py."""

#: Short link timeouts keep the fault tests fast; the defaults are for real devices.
FAST = {"enq": 1.0, "ack": 1.0, "byte": 0.2, "command": 3.0, "print": 3.0}


def item_values(price=100, name="X", **fields):
    """The FF46 fields of one piece sold at ``price`` kopecks (no VAT: tax byte 0x08, full
    payment of goods), for a test that speaks the commands itself; ``fields`` override."""
    return {
        "operation": 1,
        "quantity": 1_000_000,
        "price": price,
        "amount": price,
        "tax_amount": 0,
        "tax": 0x08,
        "department": 1,
        "payment_method": 4,
        "subject": 1,
        "name": name,
        **fields,
    }


def close_values(cash):
    """The FF45 fields closing a receipt paid ``cash`` kopecks in cash (the KKT sums the VAT)."""
    return {
        **{f"pay{i}": 0 for i in range(2, 17)},
        "pay1": cash,
        "rounding": 0,
        **{f"tax{i}": 0 for i in range(1, 7)},
        "tax_system": 1,
        "text": "",
    }
