"""Translatable texts of the price-list problems (``pricelist.problems.MESSAGES``).

The plain library formats English messages; the Odoo side stores and shows them in the
user's language: same keys, same ``str.format`` parameters, translated templates.
"""

from odoo.tools.translate import LazyTranslate

_lt = LazyTranslate(__name__)

TEMPLATES = {
    "whitespace": _lt("stray whitespace removed: {raw!r} -> {clean!r}"),
    "not_a_number": _lt("{what} is not a number: {raw!r}"),
    "number_as_text": _lt("{what} is stored as text ({raw!r}); read as {value}"),
    "required": _lt("required value {what} is empty"),
    "ean_format": _lt("EAN must be 8, 12, 13 or 14 digits, got {raw!r}"),
    "ean_checksum": _lt("EAN {ean} has a wrong check digit"),
    "negative": _lt("{what} is negative: {value}"),
    "currency_unknown": _lt("unknown currency {raw!r} (known: {known})"),
    "vat_unknown": _lt("unknown VAT {raw!r} (expected one of {known} % or 'без НДС')"),
    "vat_missing": _lt("prices include VAT but the row has no VAT rate to take it out"),
    "stock_unknown": _lt("stock is neither a number nor a known word: {raw!r}"),
    "stock_negative": _lt("negative stock {value} read as 0"),
    "range_format": _lt("{what} range is not 'from..to': {raw!r}"),
    "range_inverted": _lt("{what} range is inverted: from {low} to {high}"),
    "duplicate": _lt("same as row {row}; skipped"),
    "duplicate_conflict": _lt("{what} {raw!r} already on row {row} with other values"),
    "ean_in_file": _lt("EAN {ean} is also on row {row} with article {article!r}"),
    "ambiguous_match": _lt("{what} {raw!r} matches several products (ids {ids})"),
    "ean_other_product": _lt("EAN {ean} already belongs to product {name!r} (article {article!r})"),
    "ean_other_article": _lt(
        "same EAN {ean}, different article: the catalog has {article!r}, the file {file_article!r}"
    ),
    "column_missing": _lt("column {raw!r} for {what} is not in the header (found: {found})"),
    "column_unmapped": _lt("the profile maps no column to the required field {what}"),
}


def problem_message(env, problem, field_labels=None):
    """The problem's message in the language of ``env``."""
    template = TEMPLATES.get(problem.key)
    if template is None:
        return problem.message
    params = dict(problem.params)
    if "what" in params:
        if field_labels is None:
            field_labels = dict(
                env["connector_b.import.profile.column"]._fields["field"]._description_selection(env)
            )
        params["what"] = field_labels.get(params["what"], params["what"])
    try:
        return env._(template).format(**params)
    except (KeyError, IndexError, ValueError):  # a broken translation must not hide the problem
        return problem.message


#: ``pricelist.readers.READ_MESSAGES``: why a file was refused unread
READ_TEMPLATES = {
    "xml_doctype": _lt(
        "the workbook part {part} declares a DOCTYPE (entity definitions); spreadsheet "
        "programs never write one, so the file was refused unread"
    ),
    "xml_invalid": _lt("the workbook part {part} is not well-formed XML: {error}"),
    "column_beyond_grid": _lt(
        "cell {ref} on row {row} is beyond the last column XFD ({limit} columns) of a spreadsheet"
    ),
    "row_beyond_grid": _lt("row number {row} is beyond the last row ({limit}) of a spreadsheet"),
    "row_invalid": _lt("a row of the sheet has an invalid number {row!r}"),
    "string_missing": _lt("cell {ref} refers to shared string {index}, which the workbook does not have"),
    "part_too_large": _lt(
        "the workbook part {part} unpacks to {size} bytes, more than the {limit} bytes a price list may hold"
    ),
    "csv_too_wide": _lt("row {row} has {count} fields, more than the {limit} columns a price list may have"),
    "csv_field_too_long": _lt("row {row} has a field longer than {limit} characters"),
}


def read_error_message(env, exc):
    """A ``ReadError`` (or another reading failure) in the language of ``env``."""
    template = READ_TEMPLATES.get(getattr(exc, "key", None))
    if template is None:
        return str(exc)
    try:
        return env._(template).format(**exc.params)
    except (KeyError, IndexError, ValueError):
        return str(exc)
