"""Row normalisation and validation.

Each raw row becomes a :class:`NormalisedRow` carrying clean values and the problems
found.  Fixable problems (numbers stored as text, stray whitespace, identical duplicate
rows) are warnings; anything that would put a wrong value in the catalog is an error and
keeps the row out of it.
"""

import re
from decimal import ROUND_HALF_UP, Decimal

from .ean import GTIN_LENGTHS, ean_is_valid
from .numbers import NotANumber, parse_number, parse_range
from .problems import Problem

TEXT_FIELDS = ("article", "ean", "name", "brand", "coating", "diameter", "currency", "vat", "stock")
_WS = re.compile(r"[\s\u00a0\u202f\u2009\u2007]+")

CURRENCY_ALIASES = {
    "руб": "RUB",
    "руб.": "RUB",
    "рубль": "RUB",
    "рублей": "RUB",
    "р": "RUB",
    "р.": "RUB",
    "₽": "RUB",
    "rur": "RUB",
    "rub": "RUB",
    "€": "EUR",
    "евро": "EUR",
    "$": "USD",
    "долл": "USD",
    "долл.": "USD",
    "usd": "USD",
    "eur": "EUR",
    "юань": "CNY",
    "¥": "CNY",
    "cny": "CNY",
}
VAT_EXEMPT_WORDS = ("без ндс", "не облаг", "освобожд", "exempt", "no vat", "нет")
VAT_RATES = (0, 5, 7, 10, 20, 22)
STOCK_WORDS = (
    ("много", "in_stock"),
    ("есть", "in_stock"),
    ("в наличии", "in_stock"),
    ("да", "in_stock"),
    ("+", "in_stock"),
    ("мало", "low"),
    ("под заказ", "on_order"),
    ("заказ", "on_order"),
    ("нет", "out"),
    ("отсутств", "out"),
    ("-", "out"),
)


def gtin_key(ean):
    """EAN-13 "0…" and UPC-A are the same GTIN: compare codes padded to 14 digits."""
    return ean.zfill(14) if ean else ""


def name_key(name):
    # str.split() splits on every Unicode space (NBSP, thin, figure...) like _WS, and is faster
    return " ".join(str(name or "").split()).casefold().replace("ё", "е")


class NormalisedRow:
    __slots__ = ("row", "values", "problems", "skip")

    def __init__(self, row):
        self.row = row
        self.values = {}
        self.problems = []
        self.skip = False

    @property
    def has_error(self):
        return any(p.is_error for p in self.problems)

    @property
    def identity(self):
        v = self.values
        if v.get("article"):
            return ("article", v["article"])
        if v.get("ean"):
            return ("ean", gtin_key(v["ean"]))
        return ("name", name_key(v.get("name")))

    def __repr__(self):
        return f"<row {self.row} {self.values} {self.problems}>"


class RowValidator:
    """Normalise and validate rows of one file (keeps the state for duplicate detection)."""

    def __init__(self, profile, header):
        self.profile = profile
        self.header = header
        self.typed_source = profile.file_type in ("xlsx", "xls")
        self.seen = {}  # hash(identity) -> row << 32 | fingerprint
        self.seen_ean = {}  # gtin -> (row, article)
        self.quant = Decimal(1).scaleb(-profile.price_digits)
        self._vat_cache = {}
        self._currency_cache = {}

    # -- helpers ------------------------------------------------------------------
    def _problem(self, nrow, fname, code, key, _cell="", **params):
        nrow.problems.append(
            Problem.make(nrow.row, self.header.label(fname), fname, code, key, _cell, **params)
        )

    def _text(self, nrow, fname, raw):
        if raw is None:
            return ""
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, str):
            return str(raw)
        clean = " ".join(raw.split())
        if clean != raw:
            self._problem(nrow, fname, "whitespace", "whitespace", raw, raw=raw, clean=clean)
        return clean

    def _number(self, nrow, fname, raw):
        if raw is None or (isinstance(raw, str) and not raw.strip()):
            return None
        if isinstance(raw, str):
            stripped = _WS.sub(" ", raw).strip()
            if stripped != raw and fname not in ("stock",):
                self._problem(nrow, fname, "whitespace", "whitespace", raw, raw=raw, clean=stripped)
        try:
            value, was_text = parse_number(raw, self.profile.decimal_separator)
        except NotANumber:
            self._problem(nrow, fname, "not_a_number", "not_a_number", raw, what=fname, raw=raw)
            return None
        if was_text and self.typed_source:
            self._problem(
                nrow, fname, "number_as_text", "number_as_text", raw, what=fname, raw=raw, value=value
            )
        return value

    # -- the row ------------------------------------------------------------------
    def normalise(self, number, values):
        """Return a NormalisedRow, or None for an empty row."""
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            return None
        nrow = NormalisedRow(number)
        index = self.header.index
        raw = {f: (values[i] if i < len(values) else None) for f, i in index.items()}
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in raw.values()):
            return None  # a note or a subtotal outside the mapped columns
        out = nrow.values
        for fname in TEXT_FIELDS:
            if fname in raw:
                out[fname] = self._text(nrow, fname, raw[fname])
        self._check_required(nrow, raw)
        self._ean(nrow)
        self._price(nrow, raw)
        self._currency(nrow)
        self._vat(nrow)
        self._stock(nrow)
        self._lead_time(nrow, raw)
        self._ranges(nrow, raw)
        if "lens_index" in raw:
            out["lens_index"] = self._number(nrow, "lens_index", raw["lens_index"])
        if self.profile.prices_include_vat and out.get("price") is not None:
            self._strip_vat(nrow)
        self._duplicates(nrow)
        return nrow

    def _check_required(self, nrow, raw):
        for fname in self.profile.required:
            if fname not in self.header.index:
                continue  # reported once for the file
            value = raw.get(fname)
            if value is None or (isinstance(value, str) and not value.strip()):
                self._problem(nrow, fname, "required", "required", what=fname)

    def _ean(self, nrow):
        ean = nrow.values.get("ean")
        if not ean:
            nrow.values["ean"] = ""
            return
        digits = ean.replace(" ", "").replace("-", "")
        if not digits.isdigit() or len(digits) not in GTIN_LENGTHS:
            self._problem(nrow, "ean", "ean_format", "ean_format", ean, raw=ean)
        elif not ean_is_valid(digits):
            self._problem(nrow, "ean", "ean_checksum", "ean_checksum", ean, ean=digits)
        nrow.values["ean"] = digits

    def _price(self, nrow, raw):
        for fname in ("price", "retail_price"):
            if fname not in raw:
                continue
            value = self._number(nrow, fname, raw[fname])
            if value is not None and value < 0:
                self._problem(nrow, fname, "negative", "negative", raw[fname], what=fname, value=value)
                value = None
            if value is not None and self.profile.unit == "pair":
                value = value / 2
            nrow.values[fname] = value.quantize(self.quant, ROUND_HALF_UP) if value is not None else None

    def _currency(self, nrow):
        cur = nrow.values.get("currency") or self.profile.default_currency
        code = self._currency_cache.get(cur)
        if code is None:
            code = self._currency_cache[cur] = CURRENCY_ALIASES.get(cur.casefold(), cur.upper())
        if code not in self.profile.known_currencies:
            self._problem(
                nrow,
                "currency",
                "currency_unknown",
                "currency_unknown",
                cur,
                raw=cur,
                known=", ".join(self.profile.known_currencies),
            )
        nrow.values["currency"] = code

    def _vat(self, nrow):
        text = nrow.values.get("vat")
        if text is None:
            text = self.profile.default_vat
            if not text:
                nrow.values["vat"] = ""
                return
        try:
            vat = self._vat_cache[text]
        except KeyError:
            vat = self._vat_cache[text] = parse_vat(text)
        except TypeError:  # unhashable: cannot happen for cell values, but never fail on it
            vat = parse_vat(text)
        if vat is None:
            self._problem(
                nrow,
                "vat",
                "vat_unknown",
                "vat_unknown",
                text,
                raw=text,
                known=", ".join(map(str, VAT_RATES)),
            )
            vat = ""
        nrow.values["vat"] = vat

    def _strip_vat(self, nrow):
        vat = nrow.values.get("vat")
        if vat in ("", None):
            if "vat" not in nrow.values or not any(p.field == "vat" for p in nrow.problems):
                self._problem(nrow, "vat", "vat_unknown", "vat_missing")
            return
        if vat != "exempt" and int(vat):
            for fname in ("price",):
                gross = nrow.values.get(fname)
                if gross is not None:
                    net = gross * 100 / (100 + int(vat))
                    nrow.values[fname] = net.quantize(self.quant, ROUND_HALF_UP)

    def _stock(self, nrow):
        text = nrow.values.get("stock")
        if text is None:
            return
        nrow.values["stock_qty"], nrow.values["availability"] = None, ""
        if not text:
            return
        try:
            qty, _ = parse_number(text, self.profile.decimal_separator)
        except NotANumber:
            low = text.casefold()
            for word, avail in STOCK_WORDS:
                if low.startswith(word):
                    nrow.values["availability"] = avail
                    return
            self._problem(nrow, "stock", "not_a_number", "stock_unknown", text, raw=text)
            return
        if qty < 0:
            self._problem(nrow, "stock", "stock_negative", "stock_negative", text, value=qty)
            qty = Decimal(0)
        nrow.values["stock_qty"] = qty
        nrow.values["availability"] = "in_stock" if qty > 0 else "out"

    def _lead_time(self, nrow, raw):
        if "lead_time" not in raw:
            return
        value = raw["lead_time"]
        days = None
        if isinstance(value, str) and value.strip():
            try:
                days = max(parse_range(value, self.profile.decimal_separator))
            except NotANumber:
                days = None
        if days is None:
            days = self._number(nrow, "lead_time", value)
        if days is not None and days < 0:
            self._problem(nrow, "lead_time", "negative", "negative", value, what="lead_time", value=days)
            days = None
        nrow.values["lead_time"] = int(days.to_integral_value(ROUND_HALF_UP)) if days is not None else None

    def _ranges(self, nrow, raw):
        for axis in ("sph", "cyl", "add"):
            low = high = None
            rng = f"{axis}_range"
            if rng in raw and raw[rng] not in (None, ""):
                try:
                    low, high = parse_range(raw[rng], self.profile.decimal_separator)
                except NotANumber:
                    self._problem(nrow, rng, "not_a_number", "range_format", raw[rng], what=rng, raw=raw[rng])
            for bound in ("min", "max"):
                fname = f"{axis}_{bound}"
                if fname in raw:
                    value = self._number(nrow, fname, raw[fname])
                    if bound == "min":
                        low = value if value is not None else low
                    else:
                        high = value if value is not None else high
            if low is not None and high is not None and low > high:
                self._problem(
                    nrow,
                    f"{axis}_max" if f"{axis}_max" in raw else rng,
                    "range_inverted",
                    "range_inverted",
                    what=rng,
                    low=low,
                    high=high,
                )
            if low is not None or high is not None or rng in raw or f"{axis}_min" in raw:
                nrow.values[f"{axis}_min"], nrow.values[f"{axis}_max"] = low, high

    def _duplicates(self, nrow):
        """First occurrence wins; a later identical row is skipped, a different one is an error.

        Every row's key stays in memory for the whole file, so it is kept as two machine
        ints: the hash of the identity and ``row << 32 | hash(values) & 0xffffffff``.
        """
        if nrow.has_error:
            return
        ident = nrow.identity
        key = hash(ident)
        fingerprint = hash(tuple(sorted((k, str(v)) for k, v in nrow.values.items()))) & 0xFFFFFFFF
        first = self.seen.get(key)
        if first is not None:
            first_row = first >> 32
            if first & 0xFFFFFFFF == fingerprint:
                self._problem(nrow, ident[0], "duplicate", "duplicate", ident[1], row=first_row)
                nrow.skip = True
            else:
                self._problem(
                    nrow,
                    ident[0],
                    "duplicate_conflict",
                    "duplicate_conflict",
                    ident[1],
                    what=ident[0],
                    raw=ident[1],
                    row=first_row,
                )
            return
        ean = nrow.values.get("ean")
        if ean:
            other = self.seen_ean.get(gtin_key(ean))
            if other is not None and other[1] != nrow.values.get("article"):
                self._problem(
                    nrow, "ean", "ean_conflict", "ean_in_file", ean, ean=ean, row=other[0], article=other[1]
                )
                return
            self.seen_ean.setdefault(gtin_key(ean), (nrow.row, nrow.values.get("article")))
        self.seen[key] = nrow.row << 32 | fingerprint


def parse_vat(text):
    """ "20%", "20", "0.2", "0,20", "НДС 20 %" -> "20"; "без НДС" -> "exempt"; else None."""
    if isinstance(text, (int, float, Decimal)):
        text = str(text)
    low = _WS.sub(" ", str(text)).strip().casefold()
    if any(low.startswith(w) or w in low for w in VAT_EXEMPT_WORDS):
        return "exempt"
    low = low.replace("ндс", "").replace("vat", "").replace("%", "").strip()
    try:
        rate, _ = parse_number(low, "auto")
    except NotANumber:
        return None
    if 0 < rate < 1:
        rate = rate * 100
    if rate != rate.to_integral_value() or int(rate) not in VAT_RATES:
        return None
    return str(int(rate))
