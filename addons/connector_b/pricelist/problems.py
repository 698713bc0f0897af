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


@dataclass(frozen=True)
class Problem:
    row: int            # 1-based row number in the file (0 = the file as a whole)
    column: str         # header label as found in the file ("" = the row as a whole)
    field: str          # logical field, e.g. "price"
    code: str           # key of CODES
    message: str
    value: str = ""

    @property
    def severity(self):
        return CODES.get(self.code, ERROR)

    @property
    def is_error(self):
        return self.severity == ERROR

    def as_dict(self):
        return {"row": self.row, "column": self.column, "field": self.field, "code": self.code,
                "severity": self.severity, "message": self.message, "value": self.value}
