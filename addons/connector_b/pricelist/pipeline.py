"""One streaming pass over a price list: read, normalise, validate, plan, hand out plans.

Rows are processed in chunks, so memory holds one chunk of rows (plus the catalog index,
the duplicate-detection keys and the problems), whatever the size of the file.
"""

from .diff import CatalogIndex, DiffPlanner
from .headers import locate_header
from .problems import Problem
from .readers import open_rows
from .validate import RowValidator

MAX_STORED_WARNINGS = 20000
#: errors kept for the preview, the history and the report; the rest are only counted
#: (a hostile or broken file with a million bad rows must not fill the database)
MAX_STORED_ERRORS = 10000


class Analysis:
    def __init__(self):
        self.header = None
        self.fatal = False
        self.problems = []
        self.preview = []
        self.rows_total = 0  # non-empty data rows
        self.rows_blank = 0
        self.rows_error = 0
        self.rows_skipped = 0  # identical duplicates
        self.created = self.updated = self.unchanged = 0
        self.errors = self.warnings = 0
        self.warnings_dropped = 0
        self.errors_dropped = 0

    @property
    def has_errors(self):
        return self.fatal or self.rows_error > 0

    def add_problems(self, problems):
        for p in problems:
            if p.is_error:
                self.errors += 1
                if self.errors <= MAX_STORED_ERRORS:
                    self.problems.append(p)
                else:
                    self.errors_dropped += 1
            else:
                self.warnings += 1
                if self.warnings <= MAX_STORED_WARNINGS:
                    self.problems.append(p)
                else:
                    self.warnings_dropped += 1

    def summary(self):
        return {
            "rows": self.rows_total,
            "blank": self.rows_blank,
            "errors": self.rows_error,
            "skipped": self.rows_skipped,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "problems_error": self.errors,
            "problems_warning": self.warnings,
            "problems_not_stored": self.errors_dropped + self.warnings_dropped,
        }


def _check_columns(result, header, profile):
    """Record the profile's columns the header lacks and the required fields nothing maps
    to: either is fatal to the whole file (``result.fatal``)."""
    for fname, spec in header.missing:
        result.fatal = True
        result.add_problems(
            [
                Problem.make(
                    profile.header_row or 0,
                    str(spec),
                    fname,
                    "column_missing",
                    "column_missing",
                    spec,
                    raw=str(spec),
                    what=fname,
                    found=", ".join(label for label in header.labels if label),
                )
            ]
        )
    for fname in profile.required:
        if fname not in header.index and fname not in profile.columns:
            result.fatal = True
            result.add_problems([Problem.make(0, "", fname, "column_missing", "column_unmapped", what=fname)])


def _close_rows(rows):
    close = getattr(rows, "close", None)
    if close:
        close()


def analyse(
    source,
    profile,
    catalog=None,
    preview=0,
    chunk_size=2000,
    on_plan=None,
    progress=None,
    stop_on_error=False,
):
    """Read ``source`` with ``profile`` and plan it against ``catalog``.

    ``catalog``: a :class:`CatalogIndex` or an iterable of product dicts (see :mod:`.diff`).
    ``on_plan(plan)`` is called per chunk with the planned changes; with ``stop_on_error``
    it is no longer called once a row had an error (all-or-nothing: the caller rolls back).
    ``progress(rows_read)`` is called after each chunk.
    """
    if not isinstance(catalog, CatalogIndex):
        catalog = CatalogIndex(catalog or ())
    result = Analysis()
    rows = open_rows(source, profile)
    header, pending = locate_header(rows, profile)
    result.header = header
    _check_columns(result, header, profile)
    if result.fatal:
        _close_rows(rows)
        return result
    validator = RowValidator(profile, header)
    planner = DiffPlanner(profile, catalog)
    chunk = []
    writing = on_plan is not None

    def flush():
        nonlocal writing
        plan = planner.plan(chunk)
        for nrow in chunk:
            if nrow.has_error:
                result.rows_error += 1
            elif nrow.skip:
                result.rows_skipped += 1
            result.add_problems(nrow.problems)
        for outcome in plan.outcome.values():
            setattr(result, outcome, getattr(result, outcome) + 1)
        if stop_on_error and result.rows_error:
            writing = False
        if writing and plan:
            on_plan(plan)
        if progress:
            progress(result.rows_total)
        chunk.clear()

    def all_rows():
        yield from pending
        yield from rows

    for number, values in all_rows():
        nrow = validator.normalise(number, values)
        if nrow is None:
            result.rows_blank += 1
            continue
        result.rows_total += 1
        if len(result.preview) < preview:
            result.preview.append(nrow)
        chunk.append(nrow)
        if len(chunk) >= chunk_size:
            flush()
    flush()
    return result
