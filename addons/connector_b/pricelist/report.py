"""The import report as an XLSX workbook: a summary sheet and one line per problem."""

import io

SUMMARY_LABELS = (
    ("rows", "Rows read"),
    ("created", "Created"),
    ("updated", "Updated"),
    ("unchanged", "Unchanged"),
    ("errors", "Rows with errors"),
    ("skipped", "Duplicates skipped"),
    ("problems_error", "Errors"),
    ("problems_warning", "Warnings"),
)
COLUMNS = ("Row", "Column", "Field", "Severity", "Problem", "Message", "Value")


def write_report_xlsx(problems, summary=None, labels=None, title="Import report"):
    """Return the bytes of an XLSX report.  ``problems``: Problem objects or their dicts.

    ``labels`` translates fixed texts (summary labels, column titles, severities); the
    Odoo side passes the user's language, the defaults are English.
    """
    import xlsxwriter

    tr = (labels or {}).get
    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": True})
    bold = wb.add_format({"bold": True})
    err = wb.add_format({"font_color": "#9C0006", "bg_color": "#FFC7CE"})
    warn = wb.add_format({"font_color": "#9C5700", "bg_color": "#FFEB9C"})
    ws = wb.add_worksheet(tr("sheet_problems", "Problems"))
    for col, name in enumerate(COLUMNS):
        ws.write(0, col, tr(name, name), bold)
    ws.set_column(0, 0, 8)
    ws.set_column(1, 2, 22)
    ws.set_column(3, 4, 16)
    ws.set_column(5, 5, 80)
    ws.set_column(6, 6, 24)
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, len(problems)), len(COLUMNS) - 1)
    for line, p in enumerate(problems, start=1):
        d = p if isinstance(p, dict) else p.as_dict()
        fmt = err if d["severity"] == "error" else warn
        ws.write_number(line, 0, d["row"])
        ws.write_string(line, 1, d["column"] or "")
        ws.write_string(line, 2, d["field"] or "")
        ws.write_string(line, 3, tr(d["severity"], d["severity"]), fmt)
        ws.write_string(line, 4, d["code"])
        ws.write_string(line, 5, d["message"])
        ws.write_string(line, 6, d.get("value") or "")
    if summary is not None:
        ws2 = wb.add_worksheet(tr("sheet_summary", "Summary"))
        ws2.set_column(0, 0, 28)
        ws2.write(0, 0, tr("title", title), bold)
        for i, (key, label) in enumerate(SUMMARY_LABELS, start=2):
            ws2.write(i, 0, tr(key, label))
            ws2.write_number(i, 1, summary.get(key, 0))
    wb.close()
    return buf.getvalue()
