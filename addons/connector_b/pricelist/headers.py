"""Find the header and map the profile's columns onto it.

Two-row headers with merged cells: openpyxl's read-only mode does not expose merged
ranges, and a merged cell's value is stored only in its top-left cell, e.g.::

    | Артикул | Цена        |        | Диапазон SPH |     |
    |         | опт         | розн.  | от           | до  |

We forward-fill the upper row to the right over empty cells (``Цена, Цена, Диапазон SPH,
Диапазон SPH``) and join it with the lower row: ``Цена / опт``, ``Цена / розн.``,
``Диапазон SPH / от``.  A column with an empty lower cell keeps the upper label alone
(``Артикул``) and a forward fill never crosses such a column, since a vertically merged
cell ends a horizontal merge.  Mapping labels may be written either way: "Цена опт",
"цена / опт" and "ЦЕНА-ОПТ" all match ``Цена / опт``.
"""

import re

from .profile import FIELDS

_NON_WORD = re.compile(r"[^0-9a-zа-я%]+")
SCAN_ROWS = 30


class HeaderError(ValueError):
    pass


def norm_label(label):
    text = str(label or "").casefold().replace("ё", "е")
    return _NON_WORD.sub(" ", text).strip()


def _cell_text(value):
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def combine_header_rows(upper, lower):
    """Labels of a two-row header (see the module docstring)."""
    width = max(len(upper), len(lower))
    upper = [_cell_text(v) for v in upper] + [""] * (width - len(upper))
    lower = [_cell_text(v) for v in lower] + [""] * (width - len(lower))
    labels, carry = [], ""
    for up, low in zip(upper, lower, strict=True):
        if up:
            carry = up if low else ""
            labels.append(f"{up} / {low}" if low else up)
        elif low:
            labels.append(f"{carry} / {low}" if carry else low)
        else:
            carry = ""
            labels.append("")
    return labels


class HeaderMap:
    """Column index (0-based) of each mapped field, and the file's label of each column."""

    def __init__(self, labels, columns):
        self.labels = [_cell_text(v) for v in labels]
        self.index = {}
        self.missing = []
        normed = [norm_label(v) for v in self.labels]
        for fname in FIELDS:
            spec = columns.get(fname)
            if spec in (None, ""):
                continue
            idx = self._find(spec, normed)
            if idx is None:
                self.missing.append((fname, spec))
            else:
                self.index[fname] = idx

    def _find(self, spec, normed):
        if isinstance(spec, int):
            return spec - 1 if 0 < spec <= max(len(normed), spec) else None
        for alt in str(spec).split("|"):
            key = norm_label(alt)
            if key and key in normed:
                return normed.index(key)
        return None

    def label(self, fname):
        idx = self.index.get(fname)
        if idx is None:
            return ""
        if idx < len(self.labels) and self.labels[idx]:
            return self.labels[idx]
        return _column_letter(idx)

    def score(self):
        return len(self.index)


def _column_letter(idx):
    letters = ""
    idx += 1
    while idx:
        idx, rem = divmod(idx - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def locate_header(rows, profile):
    """Consume the header row(s) from the ``rows`` iterator and return a HeaderMap.

    ``rows`` yields ``(row_number, values)``; after the call it is positioned on the first
    data row.  With ``header_row == 0`` the best-matching row among the first
    :data:`SCAN_ROWS` is taken, and rows read past it are returned as ``pending``.
    """
    columns = profile.columns
    if not columns:
        raise HeaderError("the profile maps no columns")
    pending = []
    if profile.header_row and profile.header_row > 0:
        first = None
        for number, values in rows:
            if number == profile.header_row:
                first = values
                break
        if first is None:
            raise HeaderError(f"the file has no row {profile.header_row} (header row)")
        labels = first
        if profile.header_rows == 2:
            second = next(rows, (None, ()))[1]
            labels = combine_header_rows(first, second)
        header = HeaderMap(labels, columns)
        return header, pending
    # auto-detect
    scanned = []
    for number, values in rows:
        scanned.append((number, values))
        if len(scanned) >= SCAN_ROWS:
            break
    best, best_i = None, -1
    for i, (_number, values) in enumerate(scanned):
        candidates = [(HeaderMap(values, columns), i + 1)]
        if profile.header_rows == 2 and i + 1 < len(scanned):
            candidates = [(HeaderMap(combine_header_rows(values, scanned[i + 1][1]), columns), i + 2)]
        for hm, next_i in candidates:
            if best is None or hm.score() > best.score():
                best, best_i = hm, next_i
    if best is None or not best.score():
        raise HeaderError(f"no header row found in the first {SCAN_ROWS} rows")
    pending = scanned[best_i:]
    return best, pending
