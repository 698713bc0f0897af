"""A problem found in one cell or row of a price list."""

from dataclasses import dataclass

ERROR = "error"
WARNING = "warning"

# code -> severity.  Errors keep a row out of the catalog; warnings were fixed on the fly.
CODES = {
    "required": ERROR,
    "ean_checksum": ERROR,
    "ean_format": ERROR,
    "not_a_number": ERROR,
    "negative": ERROR,
    "currency_unknown": ERROR,
    "vat_unknown": ERROR,
    "range_inverted": ERROR,
    "duplicate_conflict": ERROR,
    "ean_conflict": ERROR,
    "ambiguous_match": ERROR,
    "duplicate": WARNING,
    "number_as_text": WARNING,
    "whitespace": WARNING,
    "stock_negative": WARNING,
    "column_missing": ERROR,
}


# message key -> English template (str.format).  The Odoo side translates the template
# and formats it with the same parameters, so users read problems in their language.
# ``{what}`` is a logical field name (see profile.FIELDS); the Odoo side shows its label.
MESSAGES = {
    "whitespace": "stray whitespace removed: {raw!r} -> {clean!r}",
    "not_a_number": "{what} is not a number: {raw!r}",
    "number_as_text": "{what} is stored as text ({raw!r}); read as {value}",
    "required": "required value {what} is empty",
    "ean_format": "EAN must be 8, 12, 13 or 14 digits, got {raw!r}",
    "ean_checksum": "EAN {ean} has a wrong check digit",
    "negative": "{what} is negative: {value}",
    "currency_unknown": "unknown currency {raw!r} (known: {known})",
    "vat_unknown": "unknown VAT {raw!r} (expected one of {known} % or 'без НДС')",
    "vat_missing": "prices include VAT but the row has no VAT rate to take it out",
    "stock_unknown": "stock is neither a number nor a known word: {raw!r}",
    "stock_negative": "negative stock {value} read as 0",
    "range_format": "{what} range is not 'from..to': {raw!r}",
    "range_inverted": "{what} range is inverted: from {low} to {high}",
    "duplicate": "same as row {row}; skipped",
    "duplicate_conflict": "{what} {raw!r} already on row {row} with other values",
    "ean_in_file": "EAN {ean} is also on row {row} with article {article!r}",
    "ambiguous_match": "{what} {raw!r} matches several products (ids {ids})",
    "ean_other_product": "EAN {ean} already belongs to product {name!r} (article {article!r})",
    "ean_other_article": (
        "same EAN {ean}, different article: the catalog has {article!r}, the file {file_article!r}"
    ),
    "column_missing": "column {raw!r} for {what} is not in the header (found: {found})",
    "column_unmapped": "the profile maps no column to the required field {what}",
}


#: longest text of a cell kept in a problem (value) and quoted in its message
MAX_VALUE = 256
MAX_QUOTED = 120


def _clip(value, limit=MAX_QUOTED):
    if isinstance(value, str) and len(value) > limit:
        return value[: limit - 1] + "…"
    return value


@dataclass(frozen=True)
class Problem:
    row: int  # 1-based row number in the file (0 = the file as a whole)
    column: str  # header label as found in the file ("" = the row as a whole)
    field: str  # logical field, e.g. "price"
    code: str  # key of CODES
    message: str
    value: str = ""
    key: str = ""  # key of MESSAGES
    params: tuple = ()  # (name, value) pairs for the template

    @classmethod
    def make(cls, _row, _column, _field, _code, _key, _cell="", **params):
        """A problem whose message is ``MESSAGES[_key]`` formatted with ``params``."""
        # a cell may hold 128 KiB of text: messages and stored values show its start only
        params = {k: _clip(v) for k, v in params.items()}
        return cls(
            _row,
            _column,
            _field,
            _code,
            MESSAGES[_key].format(**params),
            "" if _cell is None else _clip(str(_cell), MAX_VALUE),
            _key,
            tuple(sorted(params.items())),
        )

    @property
    def severity(self):
        return CODES.get(self.code, ERROR)

    @property
    def is_error(self):
        return self.severity == ERROR

    def as_dict(self):
        return {
            "row": self.row,
            "column": self.column,
            "field": self.field,
            "code": self.code,
            "severity": self.severity,
            "message": self.message,
            "value": self.value,
        }
