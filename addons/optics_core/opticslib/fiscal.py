"""Fiscal settlement of a lab order in 54-FZ terms (kopecks, no floats).

At order the customer pays an advance (tag 1214 = 3 АВАНС, subject 1212 = 10
платёж) or the whole price (1214 = 1 ПРЕДОПЛАТА 100 %, the goods themselves);
both use the calculated VAT rate (22/122 -> 1199 = 12).  At hand-over the goods
are sold in full (1214 = 4 ПОЛНЫЙ РАСЧЁТ, 1199 = 11 / 6) and the prepaid part is
paid by "prepayment" (1215).
"""

from dataclasses import dataclass

FULL_PREPAYMENT = 1  # 1214 ПРЕДОПЛАТА 100 %
ADVANCE = 3  # 1214 АВАНС
FULL_SETTLEMENT = 4  # 1214 ПОЛНЫЙ РАСЧЁТ
SUBJECT_GOODS = 1  # 1212 товар
SUBJECT_SERVICE = 4  # 1212 услуга
SUBJECT_PAYMENT = 10  # 1212 платёж (advance)

VAT_EXEMPT = 6
# 1199 sale rate -> calculated rate used on prepayment / advance receipts.
PREPAYMENT_VAT = {1: 3, 2: 4, 7: 9, 8: 10, 11: 12}
VAT_LABELS = {
    1: "20%",
    2: "10%",
    3: "20/120",
    4: "10/110",
    5: "0%",
    6: "без НДС",
    7: "5%",
    8: "7%",
    9: "5/105",
    10: "7/107",
    11: "22%",
    12: "22/122",
}


@dataclass(frozen=True)
class KitLine:
    name: str
    amount: int  # kopecks, VAT included, after discounts
    quantity: int = 1000  # thousandths (1023)
    vat_code: int = VAT_EXEMPT
    subject: int = SUBJECT_GOODS
    barcode: str = ""


def prepayment_vat(code):
    return PREPAYMENT_VAT.get(code, code)


def allocate(total, weights):
    """Split ``total`` kopecks proportionally to ``weights`` (largest remainder, exact)."""
    weight_sum = sum(weights)
    if total < 0 or any(w < 0 for w in weights):
        raise ValueError("amounts cannot be negative")
    if not weights or weight_sum == 0:
        if total:
            raise ValueError("nothing to allocate to")
        return [0] * len(weights)
    shares = [total * w // weight_sum for w in weights]
    rest = total - sum(shares)
    order = sorted(range(len(weights)), key=lambda i: (-(total * weights[i] % weight_sum), i))
    for i in order[:rest]:
        shares[i] += 1
    return shares


def _line(name, amount, quantity, vat, method, subject, barcode=""):
    return {
        "name": name,
        "quantity": quantity,
        "amount": amount,
        "price": amount * 1000 // quantity if quantity else amount,
        "vat_code": vat,
        "payment_method": method,
        "subject": subject,
        "barcode": barcode,
    }


def prepayment_lines(kit, prepaid, order_name):
    """Receipt lines for the money taken at order.

    Equal to the total -> 1214 = 1 with the kit's own lines; less -> 1214 = 3,
    one advance line per VAT code, the advance split over the codes in
    proportion to the kit amounts.
    """
    total = sum(k.amount for k in kit)
    if prepaid <= 0:
        raise ValueError("the prepayment must be positive")
    if prepaid > total:
        raise ValueError(f"the prepayment {prepaid} exceeds the order total {total}")
    if prepaid == total:
        return [
            _line(
                k.name,
                k.amount,
                k.quantity,
                prepayment_vat(k.vat_code),
                FULL_PREPAYMENT,
                k.subject,
                k.barcode,
            )
            for k in kit
        ]
    by_vat = {}
    for k in kit:
        by_vat[k.vat_code] = by_vat.get(k.vat_code, 0) + k.amount
    codes = sorted(by_vat)
    shares = allocate(prepaid, [by_vat[c] for c in codes])
    return [
        _line(
            f"Аванс по заказу {order_name}" + (f" ({VAT_LABELS.get(c, c)})" if len(codes) > 1 else ""),
            share,
            1000,
            prepayment_vat(c),
            ADVANCE,
            SUBJECT_PAYMENT,
        )
        for c, share in zip(codes, shares, strict=True)
        if share
    ]


def handover_lines(kit):
    """Receipt lines at hand-over: every kit line in full, 1214 = 4."""
    return [
        _line(k.name, k.amount, k.quantity, k.vat_code, FULL_SETTLEMENT, k.subject, k.barcode) for k in kit
    ]
