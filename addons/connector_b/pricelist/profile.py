"""The import profile: how one supplier's file is laid out and what its numbers mean."""

from dataclasses import dataclass, field

# Logical fields a column can be mapped to.  ``*_range`` columns hold "from..to" in one
# cell ("-8.00..+6.00", "от -8 до +6"); ``*_min``/``*_max`` are separate columns.
FIELDS = (
    "article",
    "ean",
    "name",
    "brand",
    "lens_index",
    "coating",
    "diameter",
    "sph_min",
    "sph_max",
    "sph_range",
    "cyl_min",
    "cyl_max",
    "cyl_range",
    "add_min",
    "add_max",
    "add_range",
    "price",
    "retail_price",
    "currency",
    "vat",
    "stock",
    "lead_time",
)
#: The values of a validated row (``validate``), in the order of FIELDS: a range is split into
#: its min and max, the stock is read as a quantity and an availability.
ROW_FIELDS = tuple(
    value
    for name in FIELDS
    if not name.endswith("_range")
    for value in (("stock_qty", "availability") if name == "stock" else (name,))
)
NUMERIC_FIELDS = (
    "lens_index",
    "sph_min",
    "sph_max",
    "cyl_min",
    "cyl_max",
    "add_min",
    "add_max",
    "price",
    "retail_price",
    "lead_time",
)
MATCH_KEYS = ("article", "ean", "name")
FILE_TYPES = ("xlsx", "xls", "csv")
UNITS = ("unit", "pair")


@dataclass
class Profile:
    """Everything needed to read one supplier's price list.

    ``columns`` maps a logical field (see :data:`FIELDS`) to the column that holds it: a
    header label (matched case-, space- and punctuation-insensitively, ``ё`` = ``е``;
    alternatives separated by ``|``), or a 1-based column number.

    ``header_row`` is 1-based; 0 means "find it": the first of the top 30 rows that
    contains the most mapped labels.  ``header_rows`` = 2 reads a two-row header whose
    upper row is spread over merged cells (see :mod:`pricelist.headers`).

    ``decimal_separator``: ``","``, ``"."`` or ``"auto"`` (per cell: the last of ``,``/``.``
    is the decimal mark when both occur; a lone comma is decimal — Russian usage).
    """

    file_type: str = "xlsx"
    sheet: object = None  # name or 0-based index; None = first sheet
    header_row: int = 1
    header_rows: int = 1
    columns: dict = field(default_factory=dict)
    encoding: str = "auto"  # csv only: auto, utf-8, utf-8-sig, cp1251, ...
    delimiter: str = "auto"  # csv only
    decimal_separator: str = "auto"
    unit: str = "unit"  # "pair": the list prices a pair, the catalog one lens
    prices_include_vat: bool = False
    default_currency: str = "RUB"
    default_vat: str = ""  # used when no VAT column is mapped; "" = unknown/not tracked
    default_lead_time: int = 0
    match_keys: tuple = ("article", "ean", "name")
    required: tuple = ("article", "name", "price")
    known_currencies: tuple = ("RUB", "EUR", "USD", "CNY", "GBP", "CHF", "JPY", "KZT", "BYN")
    price_digits: int = 2
    xlsx_engine: str = "lean"  # or "openpyxl" (see readers)

    def __post_init__(self):
        if self.file_type not in FILE_TYPES:
            raise ValueError(f"unknown file type {self.file_type!r}; expected one of {FILE_TYPES}")
        unknown = set(self.columns) - set(FIELDS)
        if unknown:
            raise ValueError(f"unknown mapped fields: {', '.join(sorted(unknown))}")
        bad_keys = set(self.match_keys) - set(MATCH_KEYS)
        if bad_keys:
            raise ValueError(f"unknown match keys: {', '.join(sorted(bad_keys))}")
        if self.header_rows not in (1, 2):
            raise ValueError("header_rows must be 1 or 2")
        if self.decimal_separator not in (",", ".", "auto"):
            raise ValueError("decimal_separator must be ',', '.' or 'auto'")
        if self.unit not in UNITS:
            raise ValueError(f"unit must be one of {UNITS}")
        if self.xlsx_engine not in ("lean", "openpyxl"):
            raise ValueError("xlsx_engine must be 'lean' or 'openpyxl'")
        self.match_keys = tuple(self.match_keys)
        self.required = tuple(self.required)
