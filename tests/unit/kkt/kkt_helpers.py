"""Documents for the KKT tests (a module with a unique name, imported by the tests)."""

from ru54fz import ffd

#: Short link timeouts keep the fault tests fast; the defaults are for real devices.
FAST = {"enq": 1.0, "ack": 1.0, "byte": 0.2, "command": 3.0, "print": 3.0}


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
        cash = total - electronic
    doc = ffd.Receipt(
        operation=operation,
        tax_system=kw.pop("tax_system", 1),
        items=items,
        payments=ffd.Payments(cash=cash, electronic=electronic),
        total=total,
        cashier=kw.pop("cashier", "Смирнова А."),
        **kw,
    )
    doc.vat_totals = ffd.compute_vat_totals(items)
    return doc
