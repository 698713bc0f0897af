"""Helpers that make price-list files for the tests (openpyxl, xlwt, csv)."""

import csv
import io

import openpyxl


def xlsx_bytes(rows, merges=(), sheet_title=None, extra_sheets=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    if sheet_title:
        ws.title = sheet_title
    for row in rows:
        ws.append(list(row))
    for rng in merges:
        ws.merge_cells(rng)
    for title, srows in extra_sheets:
        other = wb.create_sheet(title)
        for row in srows:
            other.append(list(row))
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xls_bytes(rows):
    import xlwt

    wb = xlwt.Workbook()
    ws = wb.add_sheet("Прайс")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if value is not None:
                ws.write(r, c, value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="utf-8", delimiter=";"):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)


# EANs with valid check digits
EAN13 = ["4006381333931", "5901234123457", "4600702011111", "4607004650642", "9780201379624"]
EAN8 = "96385074"
UPCA = "036000291452"
GTIN14 = "10036000291459"
