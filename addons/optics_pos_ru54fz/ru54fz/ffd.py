"""FFD 1.2 documents the till produces, their builder and their validator.

The FFD documents of docs/fiscal_contracts.md.  Plain dataclasses holding ints only:
money in kopecks, quantities in thousandths.  ``validate()`` rejects a
document the fiscal drive would refuse (or, worse, accept with wrong data)
with ``errors.DocumentInvalid`` naming the offending field; ``build_*()``
turn the POS / controller JSON payloads into documents and reject malformed
input with ``errors.RequestInvalid`` or ``errors.DocumentInvalid``.

Documents:

* ``Receipt``           FD 3: sale / sale refund / expense / expense refund (1054)
* ``CorrectionReceipt`` FD 31: a receipt plus 1173 / 1178 / 1179
* ``ShiftOpen``         FD 2, ``ShiftClose`` FD 5 (the Z report)
* ``CashOperation``     cash in / cash out: not fiscal documents, KKT counters only
* ``XReport``           not a fiscal document either
"""

import datetime
import re
from dataclasses import asdict, dataclass, field, fields

from . import errors
from .money import MoneyError, format_rub, line_sum, to_kopecks, to_milli

# -- value domains (54fz.md §1) -------------------------------------------------

#: 1054 Признак расчёта
OPERATIONS = {1: "sale", 2: "sale refund", 3: "expense", 4: "expense refund"}
OPERATION_CODES = {"sale": 1, "refund": 2, "expense": 3, "expense_refund": 4}
#: 1055 СНО (one bit of the bitmask per receipt).  8 (ЕНВД) is gone: the regime was abolished
#: on 01.01.2021 (Federal law 178-FZ of 29.06.2012 as amended, 54fz.md §1.2 [S14][S22]).
TAX_SYSTEMS = {1: "ОСН", 2: "УСН доход", 4: "УСН доход-расход", 16: "ЕСХН", 32: "ПСН"}
ABOLISHED_TAX_SYSTEMS = {8: "ЕНВД"}
#: 1199 Ставка НДС -> (rate percent, taxable).  Prices are VAT-inclusive (retail),
#: so the VAT of an item is amount * rate / (100 + rate) for every taxable code:
#: for the "calculated" codes 3/4/9/10/12 that is their definition, for the plain
#: rates it is the VAT contained in a VAT-inclusive price.
VAT_RATES = {
    1: (20, True),
    2: (10, True),
    3: (20, True),
    4: (10, True),
    5: (0, False),
    6: (0, False),
    7: (5, True),
    8: (7, True),
    9: (5, True),
    10: (7, True),
    11: (22, True),
    12: (22, True),
}
VAT_LABELS = {
    1: "НДС 20%",
    2: "НДС 10%",
    3: "НДС 20/120",
    4: "НДС 10/110",
    5: "НДС 0%",
    6: "Без НДС",
    7: "НДС 5%",
    8: "НДС 7%",
    9: "НДС 5/105",
    10: "НДС 7/107",
    11: "НДС 22%",
    12: "НДС 22/122",
}
#: 1212 Признак предмета расчёта
SUBJECTS = set(range(1, 28)) | {30, 31, 32, 33}
#: 1212 values of marked goods that carry a marking code (2000): 31 excise goods, 33 other
#: goods "подлежащий маркировке средством идентификации, имеющий код маркировки".
MARKED_SUBJECTS = frozenset({31, 33})
#: What a driver without marking support (2000 with the KKT's code check, 54fz.md §3.2) says
#: when it refuses an item with a marking code (``shtrih.driver._marking_tlvs``).
MARKING_REFUSED = (
    "line {line}: goods with a marking code (Честный ЗНАК, tag 2000 / 1212 = 31, 33) "
    "cannot be sold on this KKT yet: its driver cannot send the marking code to the "
    "fiscal drive; sell this item at a till with marking support"
)
#: 1214 values of a prepayment / advance (100 % prepayment, prepayment, advance): such items
#: carry a calculated VAT rate (54fz.md §1.4; FNS letter АБ-4-20/11248@ case 3).
ADVANCE_METHODS = frozenset({1, 2, 3})
#: plain rate -> its calculated rate (20 -> 20/120, 10 -> 10/110, 5 -> 5/105, 7 -> 7/107, 22 -> 22/122)
CALCULATED_RATE = {1: 3, 2: 4, 7: 9, 8: 10, 11: 12}
#: 1214 Признак способа расчёта
PAYMENT_METHODS = {1, 2, 3, 4, 5, 6, 7}
#: 2108 Мера количества
MEASURES = {0, 10, 11, 12, 20, 21, 22, 30, 31, 32, 40, 41, 42, 50, 51, 70, 71, 72, 73, 80, 81, 82, 83, 255}
#: 1173 Тип коррекции
CORRECTION_TYPES = {0: "own", 1: "by order"}

#: payment means of tag -> Payments field
PAYMENT_KINDS = {
    "cash": "cash",
    "card": "electronic",
    "electronic": "electronic",
    "prepayment": "prepayment",
    "credit": "credit",
    "other": "other",
}
PAYMENT_TAGS = {"cash": 1031, "electronic": 1081, "prepayment": 1215, "credit": 1216, "other": 1217}

# -- limits ---------------------------------------------------------------------
MAX_NAME = 128  # 1030
MAX_BUYER_CONTACT = 64  # 1008
MAX_CASHIER = 64  # 1021
MAX_ADDITIONAL = 16  # 1192
MAX_BASIS_NUMBER = 32  # 1179
MAX_MARKING_CODE = 256  # 2000
MAX_ITEMS = 100  # what one receipt of an optics shop reasonably holds; FD 3 <= 32 KB
MAX_SUM = 2**40 - 1  # 5-byte kopeck sums of the Shtrih protocol (VLN <= 6 allows more)
MAX_QTY = 10**9  # thousandths: one million units
MAX_UUID = 64
MIN_UUID = 8  # central (till push format) keys documents by uuids of 8-64 characters

_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}$")
_PHONE_RE = re.compile(r"^\+7\d{10}$")
_PERSON_INN_RE = re.compile(r"^\d{12}$")
_EAN_RE = re.compile(r"^(\d{8}|\d{13})$")


# -- documents ------------------------------------------------------------------


@dataclass
class Item:
    name: str  # 1030
    price: int  # 1079 kopecks, after discounts, VAT included
    quantity: int  # 1023 thousandths
    amount: int  # 1043 kopecks
    vat: int  # 1199 code
    vat_amount: int = 0  # 1200 kopecks (computed by the builder)
    payment_method: int = 4  # 1214
    subject: int = 1  # 1212
    measure: int = 0  # 2108
    product_code: str = ""  # EAN-8/13 for 1163 (1301/1302) when known
    marking_code: str = ""  # 2000, optional


@dataclass
class Payments:
    cash: int = 0  # 1031
    electronic: int = 0  # 1081
    prepayment: int = 0  # 1215
    credit: int = 0  # 1216
    other: int = 0  # 1217

    def total(self):
        return self.cash + self.electronic + self.prepayment + self.credit + self.other

    def as_dict(self):
        return asdict(self)


@dataclass
class Receipt:
    operation: int  # 1054
    tax_system: int  # 1055
    items: list  # [Item]
    payments: Payments
    total: int  # 1020
    cashier: str  # 1021
    cashier_inn: str = ""  # 1203
    buyer_contact: str = ""  # 1008
    additional: str = ""  # 1192: the original's fiscal sign on refunds
    vat_totals: dict = field(default_factory=dict)  # {1199 code: VAT sum}, computed
    original_uuid: str = ""  # refunds: the uuid of the sale being refunded

    fd_type = 3
    doc_type = "receipt"


@dataclass
class CorrectionReceipt(Receipt):
    correction_type: int = 0  # 1173
    basis_date: str = ""  # 1178, ISO date of the corrected settlement
    basis_number: str = ""  # 1179, the tax authority's order number (type 1)

    fd_type = 31
    doc_type = "correction"


@dataclass
class ShiftOpen:
    cashier: str
    cashier_inn: str = ""

    fd_type = 2
    doc_type = "open_shift"


@dataclass
class ShiftClose:
    cashier: str
    cashier_inn: str = ""

    fd_type = 5
    doc_type = "close_shift"


@dataclass
class CashOperation:
    kind: str  # "cash_in" | "cash_out"
    amount: int  # kopecks
    cashier: str = ""

    fd_type = 0
    doc_type = "cash"


@dataclass
class XReport:
    cashier: str = ""

    fd_type = 0
    doc_type = "x_report"


DOC_CLASSES = {
    c.doc_type: c for c in (Receipt, CorrectionReceipt, ShiftOpen, ShiftClose, CashOperation, XReport)
}


# -- computations ---------------------------------------------------------------


def item_vat(amount, vat_code):
    """VAT contained in a VAT-inclusive item sum, rounded half-up to the kopeck."""
    rate, taxable = VAT_RATES[vat_code]
    if not taxable:
        return 0
    num = amount * rate
    den = 100 + rate
    q, r = divmod(num, den)
    return q + (1 if r * 2 >= den else 0)


def compute_vat_totals(items):
    """{1199 code: VAT sum} over the items (codes 5/6 carry 0: no VAT)."""
    totals = {}
    for it in items:
        totals[it.vat] = totals.get(it.vat, 0) + it.vat_amount
    return totals


# -- validation -----------------------------------------------------------------


def _invalid(message, fld):
    raise errors.DocumentInvalid(message, field=fld)


def _check_text(value, fld, limit, tag, required=False):
    if not isinstance(value, str):
        _invalid(f"{fld} (tag {tag}) must be text", fld)
    if required and not value.strip():
        _invalid(f"{fld} (tag {tag}) is mandatory and empty", fld)
    if len(value) > limit:
        _invalid(f"{fld} (tag {tag}) is {len(value)} characters long, the limit is {limit}", fld)
    try:
        value.encode("cp866")
    except UnicodeEncodeError as exc:
        bad = value[exc.start : exc.end]
        _invalid(f"{fld} (tag {tag}) contains {bad!r}, which the fiscal drive cannot store (CP866)", fld)
    if any(ord(c) < 32 for c in value):
        _invalid(f"{fld} (tag {tag}) contains control characters", fld)


def _check_int(value, fld, tag, lo=0, hi=MAX_SUM):
    if not isinstance(value, int) or isinstance(value, bool):
        _invalid(f"{fld} (tag {tag}) must be an integer, got {type(value).__name__}", fld)
    if value < lo or value > hi:
        _invalid(f"{fld} (tag {tag}) = {value} is outside {lo}..{hi}", fld)


def _check_domain(value, domain, fld, tag):
    if isinstance(value, bool) or not isinstance(value, (int, str)) or value not in domain:
        allowed = ", ".join(str(v) for v in sorted(domain))
        _invalid(f"{fld} (tag {tag}) = {value!r} is not an allowed value ({allowed})", fld)


def _check_contact(value):
    _check_text(value, "buyer_contact", MAX_BUYER_CONTACT, 1008)
    if value and not (_EMAIL_RE.match(value) or _PHONE_RE.match(value)):
        _invalid(
            f"buyer_contact (tag 1008) {value!r} is neither an e-mail address nor a "
            f"phone number in the form +7XXXXXXXXXX",
            "buyer_contact",
        )


_INN_WEIGHTS_11 = (7, 2, 4, 10, 3, 5, 9, 4, 6, 8)
_INN_WEIGHTS_12 = (3, 7, 2, 4, 10, 3, 5, 9, 4, 6, 8)


def person_inn_valid(value):
    """A 12-digit INN of a natural person with both check digits right."""
    if not isinstance(value, str) or not _PERSON_INN_RE.match(value):
        return False
    digits = [int(c) for c in value]
    d11 = sum(w * d for w, d in zip(_INN_WEIGHTS_11, digits, strict=False)) % 11 % 10
    d12 = sum(w * d for w, d in zip(_INN_WEIGHTS_12, digits, strict=False)) % 11 % 10
    return digits[10] == d11 and digits[11] == d12


def cashier_inn(vat):
    """Tag 1203 for a cashier whose recorded tax number is ``vat``: the INN when it is a
    valid personal INN, else "" (the tag is left out).  The POS and the back office's Z
    report both take the cashier's INN from here."""
    value = vat.strip() if isinstance(vat, str) else ""
    return value if person_inn_valid(value) else ""


def _check_inn(value, fld):
    """1203 is the cashier's own INN: a person's, 12 digits (a 10-digit INN is a company's)."""
    if value and not _PERSON_INN_RE.match(value):
        _invalid(f"{fld} (tag 1203) {value!r} must be the cashier's personal INN of 12 digits", fld)
    if value and not person_inn_valid(value):
        _invalid(f"{fld} (tag 1203) {value!r} is not a valid INN (its check digits are wrong)", fld)


def _validate_item(it, i):
    p = f"items[{i}]"
    if not isinstance(it, Item):
        _invalid(f"{p} is not an item", p)
    _check_text(it.name, f"{p}.name", MAX_NAME, 1030, required=True)
    _check_int(it.price, f"{p}.price", 1079)
    _check_int(it.quantity, f"{p}.quantity", 1023, lo=-MAX_QTY, hi=MAX_QTY)
    if it.quantity <= 0:
        _invalid(f"{p}.quantity (tag 1023) must be positive, got {it.quantity / 1000:g}", f"{p}.quantity")
    _check_int(it.amount, f"{p}.amount", 1043)
    _check_domain(it.vat, VAT_RATES, f"{p}.vat", 1199)
    _check_int(it.vat_amount, f"{p}.vat_amount", 1200)
    _check_domain(it.payment_method, PAYMENT_METHODS, f"{p}.payment_method", 1214)
    _check_domain(it.subject, SUBJECTS, f"{p}.subject", 1212)
    _check_domain(it.measure, MEASURES, f"{p}.measure", 2108)
    expected = line_sum(it.price, it.quantity)
    if it.amount != expected:
        _invalid(
            f"{p}.amount (tag 1043) {format_rub(it.amount)} is not price × quantity "
            f"({format_rub(it.price)} × {it.quantity / 1000:g} = {format_rub(expected)})",
            f"{p}.amount",
        )
    vat = item_vat(it.amount, it.vat)
    if it.vat_amount != vat:
        _invalid(
            f"{p}.vat_amount (tag 1200) {format_rub(it.vat_amount)} does not follow from "
            f"{VAT_LABELS[it.vat]} of {format_rub(it.amount)} (expected {format_rub(vat)})",
            f"{p}.vat_amount",
        )
    if not isinstance(it.product_code, str) or (it.product_code and not _EAN_RE.match(it.product_code)):
        _invalid(
            f"{p}.product_code {it.product_code!r} must be an EAN-8 or EAN-13 barcode", f"{p}.product_code"
        )
    _check_text(
        it.marking_code.replace("\x1d", " ") if isinstance(it.marking_code, str) else it.marking_code,
        f"{p}.marking_code",
        MAX_MARKING_CODE,
        2000,
    )
    if it.marking_code and it.subject not in MARKED_SUBJECTS:
        _invalid(
            f"{p}.marking_code is set but the subject (tag 1212) is {it.subject}, "
            f"not 31/33 (marked goods with a code)",
            f"{p}.subject",
        )
    if it.subject in MARKED_SUBJECTS and not it.marking_code:
        _invalid(
            f"{p}.subject (tag 1212) = {it.subject} declares goods with a marking code, but "
            f"no marking code was scanned",
            f"{p}.marking_code",
        )
    if it.payment_method in ADVANCE_METHODS and it.vat in CALCULATED_RATE:
        calc = CALCULATED_RATE[it.vat]
        _invalid(
            f"{p}.vat (tag 1199): a prepayment or advance (tag 1214 = {it.payment_method}) "
            f"carries the calculated rate {VAT_LABELS[calc]} (code {calc}), not "
            f"{VAT_LABELS[it.vat]}",
            f"{p}.vat",
        )


def _validate_receipt(doc):
    _check_domain(doc.operation, OPERATIONS, "operation", 1054)
    if doc.tax_system in ABOLISHED_TAX_SYSTEMS and not isinstance(doc.tax_system, bool):
        _invalid(
            f"tax_system (tag 1055) {doc.tax_system} ({ABOLISHED_TAX_SYSTEMS[doc.tax_system]}) "
            f"no longer exists (abolished on 01.01.2021): use the company's current tax system",
            "tax_system",
        )
    _check_domain(doc.tax_system, TAX_SYSTEMS, "tax_system", 1055)
    _check_text(doc.cashier, "cashier", MAX_CASHIER, 1021, required=True)
    _check_inn(doc.cashier_inn, "cashier_inn")
    _check_contact(doc.buyer_contact)
    _check_text(doc.additional, "additional", MAX_ADDITIONAL, 1192)
    if not isinstance(doc.items, list) or not doc.items:
        _invalid("the receipt has no items (tag 1059)", "items")
    if len(doc.items) > MAX_ITEMS:
        _invalid(f"the receipt has {len(doc.items)} items, the limit is {MAX_ITEMS}", "items")
    for i, it in enumerate(doc.items):
        _validate_item(it, i)
    _check_int(doc.total, "total", 1020)
    items_sum = sum(it.amount for it in doc.items)
    if doc.total != items_sum:
        _invalid(
            f"total (tag 1020) {format_rub(doc.total)} is not the sum of the items {format_rub(items_sum)}",
            "total",
        )
    if doc.total <= 0:
        _invalid("total (tag 1020) must be greater than zero", "total")
    if not isinstance(doc.payments, Payments):
        _invalid("payments are missing", "payments")
    for name, tag in PAYMENT_TAGS.items():
        _check_int(getattr(doc.payments, name), f"payments.{name}", tag)
    paid = doc.payments.total()
    if paid != doc.total:
        _invalid(
            f"payments 1031+1081+1215+1216+1217 = {format_rub(paid)} do not equal the total "
            f"(tag 1020) {format_rub(doc.total)}",
            "payments",
        )
    if not isinstance(doc.vat_totals, dict):
        _invalid("vat_totals must be a mapping", "vat_totals")
    expected = compute_vat_totals(doc.items)
    if doc.vat_totals != expected:
        _invalid(
            f"vat_totals {doc.vat_totals} do not follow from the items (expected {expected})", "vat_totals"
        )
    if not isinstance(doc.original_uuid, str) or len(doc.original_uuid) > MAX_UUID:
        _invalid("original_uuid must be text of at most 64 characters", "original_uuid")
    if doc.operation == 2 and not isinstance(doc, CorrectionReceipt) and not doc.original_uuid:
        _invalid("a refund (tag 1054 = 2) must name the sale it refunds", "original_uuid")


def _validate_correction(doc):
    _validate_receipt(doc)
    _check_domain(doc.correction_type, CORRECTION_TYPES, "correction_type", 1173)
    try:
        datetime.date.fromisoformat(doc.basis_date)
    except (TypeError, ValueError):
        _invalid(f"basis_date (tag 1178) {doc.basis_date!r} is not a date YYYY-MM-DD", "basis_date")
    _check_text(doc.basis_number, "basis_number", MAX_BASIS_NUMBER, 1179)
    if doc.correction_type == 1 and not doc.basis_number.strip():
        _invalid(
            "basis_number (tag 1179) is mandatory for a correction by order of the tax "
            "authority (tag 1173 = 1)",
            "basis_number",
        )


def check_refund_means(refund, original, already_refunded=None):
    """A refund gives money back by the means the sale was paid with: never cash
    back for a card payment.  Per means, the refunded sum (with what earlier
    refunds of the same sale already gave back) must not exceed what was paid."""
    already = already_refunded or Payments()
    for name, tag in PAYMENT_TAGS.items():
        back = getattr(refund, name) + getattr(already, name)
        paid = getattr(original, name)
        if back > paid:
            if paid == 0:
                msg = (
                    f"the refund pays {format_rub(getattr(refund, name))} back as {name} "
                    f"(tag {tag}), but the original sale was not paid by {name}"
                )
            else:
                msg = (
                    f"the refund pays {format_rub(back)} back as {name} (tag {tag}) in total, "
                    f"but only {format_rub(paid)} of the original sale was paid by {name}"
                )
            _invalid(msg, f"payments.{name}")


def check_refund_vat(items, original_items):
    """A refund keeps the VAT rate of the sale it refunds: a 2026 refund of a 2025 sale at
    20 % stays at 20 % (FNS letter 15.12.2025 № АБ-4-20/11248@, case 1; 54fz.md §1.4).  An
    item of the refund named like an item of the original must carry that item's rate; any
    other item one of the original's rates."""
    by_name = {}
    for orig in original_items:
        by_name.setdefault(orig.name, set()).add(orig.vat)
    rates = {orig.vat for orig in original_items}
    for i, it in enumerate(items):
        allowed = by_name.get(it.name, rates)
        if it.vat not in allowed:
            wanted = " or ".join(f"{VAT_LABELS[c]} (code {c})" for c in sorted(allowed))
            _invalid(
                f"items[{i}].vat (tag 1199): the refund of {it.name!r} must keep the VAT rate of "
                f"the original sale, {wanted}, not {VAT_LABELS[it.vat]}",
                f"items[{i}].vat",
            )


def validate(doc, original_payments=None, already_refunded=None, original_items=None):
    """Raise ``errors.DocumentInvalid`` when ``doc`` is not a valid document.

    ``original_payments`` (a ``Payments``) is the split of the sale a refund
    refunds; with it the refund's means of payment are checked against it.
    ``original_items`` (the sale's ``Item`` list, when known): the refund's VAT
    rates are checked against them."""
    if isinstance(doc, CorrectionReceipt):
        _validate_correction(doc)
        if doc.operation in (2, 4) and original_items:
            check_refund_vat(doc.items, original_items)
    elif isinstance(doc, Receipt):
        _validate_receipt(doc)
        if doc.operation in (2, 4) and original_payments is not None:
            check_refund_means(doc.payments, original_payments, already_refunded)
        if doc.operation in (2, 4) and original_items:
            check_refund_vat(doc.items, original_items)
    elif isinstance(doc, (ShiftOpen, ShiftClose)):
        _check_text(doc.cashier, "cashier", MAX_CASHIER, 1021, required=True)
        _check_inn(doc.cashier_inn, "cashier_inn")
    elif isinstance(doc, CashOperation):
        _check_domain(doc.kind, {"cash_in", "cash_out"}, "kind", "-")
        _check_int(doc.amount, "amount", "-", lo=1)
        _check_text(doc.cashier, "cashier", MAX_CASHIER, 1021)
    elif isinstance(doc, XReport):
        _check_text(doc.cashier, "cashier", MAX_CASHIER, 1021)
    else:
        raise errors.DocumentInvalid(f"unknown document {type(doc).__name__}", field=None)
    return doc


# -- JSON round trip ------------------------------------------------------------


def to_dict(doc):
    """JSON-safe dict of a document (``vat_totals`` keys become strings)."""
    d = asdict(doc)
    d["doc_type"] = doc.doc_type
    if "vat_totals" in d:
        d["vat_totals"] = {str(k): v for k, v in d["vat_totals"].items()}
    return d


def from_dict(d):
    """Inverse of ``to_dict``."""
    if not isinstance(d, dict) or d.get("doc_type") not in DOC_CLASSES:
        raise errors.RequestInvalid("not a serialised fiscal document")
    cls = DOC_CLASSES[d["doc_type"]]
    names = {f.name for f in fields(cls)}
    kw = {k: v for k, v in d.items() if k in names}
    if "items" in kw:
        kw["items"] = [Item(**it) for it in kw["items"]]
    if "payments" in kw:
        kw["payments"] = Payments(**kw["payments"])
    if "vat_totals" in kw:
        kw["vat_totals"] = {int(k): v for k, v in kw["vat_totals"].items()}
    return cls(**kw)


# -- builders from the controller's JSON payloads -----------------------------


def _req(cond, message, fld=None):
    if not cond:
        raise errors.RequestInvalid(message, field=fld)


def _get_str(d, key, fld, default=None):
    value = d.get(key, default)
    if value is None:
        value = ""
    _req(isinstance(value, str), f"{fld} must be a string", fld)
    return value.strip()


def _decimal(value, fld, shape, convert, limit):
    """A JSON decimal (a string, or an integer) converted by ``convert`` to whole units, within
    +-``limit``; ``shape`` completes the message of a wrong type."""
    _req(
        isinstance(value, (str, int)) and not isinstance(value, bool),
        f"{fld} must be a decimal string {shape}",
        fld,
    )
    try:
        number = convert(value, fld)
    except MoneyError as exc:
        raise errors.RequestInvalid(str(exc), field=fld) from None
    _req(-limit <= number <= limit, f"{fld} is out of range", fld)
    return number


def _money(value, fld):
    return _decimal(value, fld, 'of roubles such as "1234.50"', to_kopecks, MAX_SUM)


def _qty(value, fld):
    return _decimal(value, fld, 'such as "1.000"', to_milli, MAX_QTY)


def _small_int(d, key, fld, default):
    value = d.get(key, default)
    if value is None:
        value = default
    _req(isinstance(value, int) and not isinstance(value, bool), f"{fld} must be an integer code", fld)
    return value


def check_uuid(value, fld="uuid"):
    _req(
        isinstance(value, str) and value.strip(), f"{fld} is mandatory (the operation's idempotency key)", fld
    )
    _req(
        MIN_UUID <= len(value) <= MAX_UUID and re.match(r"^[A-Za-z0-9._:\-]+$", value),
        f"{fld} must be {MIN_UUID} to {MAX_UUID} letters, digits, '-', '_', '.' or ':'",
        fld,
    )
    return value


def _cashier(payload):
    c = payload.get("cashier")
    if isinstance(c, str):
        return c.strip(), ""
    _req(isinstance(c, dict), 'cashier must be an object {"name", "inn"}', "cashier")
    return _get_str(c, "name", "cashier.name"), _get_str(c, "inn", "cashier.inn")


def _build_items(payload):
    lines = payload.get("lines")
    _req(isinstance(lines, list) and lines, "lines must be a non-empty list", "lines")
    _req(len(lines) <= MAX_ITEMS, f"a receipt holds at most {MAX_ITEMS} lines", "lines")
    items = []
    for i, ln in enumerate(lines):
        p = f"lines[{i}]"
        _req(isinstance(ln, dict), f"{p} must be an object", p)
        qty = _qty(ln.get("quantity"), f"{p}.quantity")
        if qty <= 0:
            raise errors.DocumentInvalid(
                f"{p}.quantity must be positive, got {ln.get('quantity')}", field=f"{p}.quantity"
            )
        price = _money(ln.get("price"), f"{p}.price")
        amount = (
            _money(ln.get("amount"), f"{p}.amount") if ln.get("amount") is not None else line_sum(price, qty)
        )
        vat = ln.get("vat_code")
        _req(
            isinstance(vat, int) and not isinstance(vat, bool),
            f"{p}.vat_code must be an integer 1199 code",
            f"{p}.vat_code",
        )
        if vat not in VAT_RATES:
            raise errors.DocumentInvalid(
                f"{p}.vat_code {vat} is not a VAT rate code of tag 1199 (1..12)", field=f"{p}.vat_code"
            )
        barcode = _get_str(ln, "barcode", f"{p}.barcode")
        items.append(
            Item(
                name=_get_str(ln, "name", f"{p}.name"),
                price=price,
                quantity=qty,
                amount=amount,
                vat=vat,
                vat_amount=item_vat(amount, vat) if amount >= 0 else 0,
                payment_method=_small_int(ln, "payment_method", f"{p}.payment_method", 4),
                subject=_small_int(ln, "subject", f"{p}.subject", 1),
                measure=_small_int(ln, "measure", f"{p}.measure", 0),
                product_code=barcode if _EAN_RE.match(barcode) else "",
                marking_code=_get_str(ln, "marking_code", f"{p}.marking_code"),
            )
        )
    return items


def _build_payments(payload):
    pays = payload.get("payments")
    _req(isinstance(pays, list) and pays, "payments must be a non-empty list", "payments")
    out = Payments()
    for i, pay in enumerate(pays):
        p = f"payments[{i}]"
        _req(isinstance(pay, dict), f"{p} must be an object", p)
        kind = pay.get("kind")
        _req(
            isinstance(kind, str) and kind in PAYMENT_KINDS,
            f"{p}.kind must be one of cash, card, prepayment, credit, other",
            f"{p}.kind",
        )
        amount = _money(pay.get("amount"), f"{p}.amount")
        if amount < 0:
            raise errors.DocumentInvalid(f"{p}.amount must not be negative", field=f"{p}.amount")
        name = PAYMENT_KINDS[kind]
        setattr(out, name, getattr(out, name) + amount)
    return out


def build_receipt(
    order, original_payments=None, already_refunded=None, correction=False, original_items=None
):
    """Receipt (or CorrectionReceipt) from the POS receipt payload; validated."""
    _req(isinstance(order, dict), "the request body must be a JSON object")
    check_uuid(order.get("uuid"))
    op = order.get("operation", "sale")
    _req(
        isinstance(op, str) and op in OPERATION_CODES,
        "operation must be one of sale, refund" + (", expense, expense_refund" if correction else ""),
        "operation",
    )
    operation = OPERATION_CODES[op]
    if not correction:
        _req(operation in (1, 2), "operation must be sale or refund", "operation")
    name, inn = _cashier(order)
    items = _build_items(order)
    payments = _build_payments(order)
    tax_system = _small_int(order, "tax_system", "tax_system", 1)
    additional = ""
    original_uuid = ""
    refund_of = order.get("refund_of")
    if operation == 2 and not correction:
        _req(
            isinstance(refund_of, dict),
            'a refund must carry refund_of {"uuid", "fiscal_sign", "fd_number"} of the original sale',
            "refund_of",
        )
        original_uuid = check_uuid(refund_of.get("uuid"), "refund_of.uuid")
        sign = refund_of.get("fiscal_sign")
        if sign is not None:
            _req(
                isinstance(sign, (int, str)) and str(sign).isdigit(),
                "refund_of.fiscal_sign must be a number",
                "refund_of.fiscal_sign",
            )
            additional = str(int(sign))
    else:
        _req(refund_of in (None, {}), "refund_of is only allowed on a refund", "refund_of")
    kw = dict(
        operation=operation,
        tax_system=tax_system,
        items=items,
        payments=payments,
        total=sum(it.amount for it in items),
        cashier=name,
        cashier_inn=inn,
        buyer_contact=_get_str(order, "buyer_contact", "buyer_contact"),
        additional=additional,
        vat_totals=compute_vat_totals(items),
        original_uuid=original_uuid,
    )
    if correction:
        c = order.get("correction")
        _req(
            isinstance(c, dict),
            'a correction must carry correction {"type", "basis_date", "basis_number"}',
            "correction",
        )
        doc = CorrectionReceipt(
            **kw,
            correction_type=_small_int(c, "type", "correction.type", 0),
            basis_date=_get_str(c, "basis_date", "correction.basis_date"),
            basis_number=_get_str(c, "basis_number", "correction.basis_number"),
        )
        sign = c.get("fiscal_sign")
        if sign not in (None, ""):
            # 1192 carries the fiscal sign of the receipt being corrected
            _req(
                isinstance(sign, (int, str)) and str(sign).isdigit(),
                "correction.fiscal_sign must be a number",
                "correction.fiscal_sign",
            )
            doc.additional = str(int(sign))
    else:
        doc = Receipt(**kw)
    return validate(
        doc,
        original_payments=original_payments,
        already_refunded=already_refunded,
        original_items=original_items,
    )


def build_correction(payload, original_items=None):
    return build_receipt(payload, correction=True, original_items=original_items)


def build_shift(payload, close=False):
    _req(isinstance(payload, dict), "the request body must be a JSON object")
    check_uuid(payload.get("uuid"))
    name, inn = _cashier(payload)
    inn = _get_str(payload, "cashier_inn", "cashier_inn") or inn
    doc = (ShiftClose if close else ShiftOpen)(cashier=name, cashier_inn=inn)
    return validate(doc)


def build_cash(payload, kind):
    _req(isinstance(payload, dict), "the request body must be a JSON object")
    check_uuid(payload.get("uuid"))
    amount = payload.get("amount")
    _req(
        isinstance(amount, int) and not isinstance(amount, bool),
        "amount must be an integer number of kopecks",
        "amount",
    )
    if amount <= 0:
        raise errors.DocumentInvalid("amount must be greater than zero", field="amount")
    c = payload.get("cashier", "")
    name = _cashier(payload)[0] if c else ""
    return validate(CashOperation(kind=kind, amount=amount, cashier=name))


def build_x_report(payload):
    _req(isinstance(payload, dict), "the request body must be a JSON object")
    check_uuid(payload.get("uuid"))
    c = payload.get("cashier", "")
    return validate(XReport(cashier=_cashier(payload)[0] if c else ""))


# -- QR code (tag 1196) ---------------------------------------------------------


def qr_text(result, total, operation):
    """``t=YYYYMMDDTHHMM&s=<sum>&fn=<FN>&i=<FD>&fp=<FP>&n=<1054>`` for a fiscal result."""
    t = datetime.datetime.fromisoformat(result.doc_time)
    return (
        f"t={t:%Y%m%dT%H%M}&s={format_rub(total)}&fn={result.fn_serial}"
        f"&i={result.fd_number}&fp={result.fiscal_sign}&n={operation}"
    )
