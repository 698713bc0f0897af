"""Streaming readers: each yields ``(row_number, tuple_of_values)``, 1-based row numbers.

* xlsx: openpyxl ``read_only=True, data_only=True`` iterating ``values_only`` — rows are
  parsed from the XML stream one at a time, so memory does not grow with the file.
  Many generators write a wrong ``<dimension>``; ``reset_dimensions()`` makes openpyxl
  read every row instead of trusting it.
* xls: xlrd (the format is limited to 65,536 rows, so loading a sheet is bounded anyway).
* csv: the encoding is found by a BOM, then a streaming strict UTF-8 check, then
  Windows-1251; the separator is the profile's or sniffed from the first 64 KiB.
"""
import codecs
import csv
import io

SNIFF_BYTES = 64 * 1024


class ReadError(ValueError):
    """The file cannot be read with this profile (wrong type, sheet, encoding...)."""


def open_rows(source, profile):
    """Return an iterator of ``(row_number, values)`` for ``source`` (path or bytes)."""
    kind = profile.file_type
    if kind == "xlsx":
        return _iter_xlsx(source, profile.sheet)
    if kind == "xls":
        return _iter_xls(source, profile.sheet)
    if kind == "csv":
        return _iter_csv(source, profile.encoding, profile.delimiter)
    raise ReadError(f"unknown file type {kind!r}")


iter_rows = open_rows


def _as_stream(source):
    if isinstance(source, (bytes, bytearray, memoryview)):
        return io.BytesIO(bytes(source))
    if isinstance(source, str):
        return open(source, "rb")
    return source


def _iter_xlsx(source, sheet):
    import openpyxl
    from zipfile import BadZipFile
    stream = _as_stream(source)
    try:
        wb = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (BadZipFile, KeyError, OSError) as exc:
        raise ReadError(f"not an XLSX workbook ({exc})") from None
    try:
        ws = _pick_sheet(wb.worksheets, wb.sheetnames, sheet)
        ws.reset_dimensions()
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, values
    finally:
        wb.close()
        if stream is not source:
            stream.close()


def _iter_xls(source, sheet):
    import xlrd
    if isinstance(source, str):
        kwargs = {"filename": source}
    else:
        data = source if isinstance(source, (bytes, bytearray)) else source.read()
        kwargs = {"file_contents": bytes(data)}
    try:
        book = xlrd.open_workbook(on_demand=True, **kwargs)
    except xlrd.XLRDError as exc:
        raise ReadError(f"not an XLS workbook ({exc})") from None
    try:
        names = book.sheet_names()
        idx = _sheet_index(names, sheet)
        ws = book.sheet_by_index(idx)
        for r in range(ws.nrows):
            values = []
            for cell in ws.row(r):
                if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
                    values.append(None)
                elif cell.ctype == xlrd.XL_CELL_NUMBER:
                    v = cell.value
                    values.append(int(v) if v.is_integer() else v)
                elif cell.ctype == xlrd.XL_CELL_DATE:
                    values.append(xlrd.xldate.xldate_as_datetime(cell.value, book.datemode))
                elif cell.ctype == xlrd.XL_CELL_ERROR:
                    values.append(None)
                else:
                    values.append(cell.value)
            yield r + 1, tuple(values)
    finally:
        book.release_resources()


def _sheet_index(names, sheet):
    if sheet in (None, ""):
        return 0
    if isinstance(sheet, int) or (isinstance(sheet, str) and sheet.isdigit() and sheet not in names):
        idx = int(sheet)
        if not 0 <= idx < len(names):
            raise ReadError(f"the workbook has no sheet number {idx + 1} (it has {len(names)})")
        return idx
    if sheet not in names:
        raise ReadError(f"the workbook has no sheet {sheet!r}; sheets: {', '.join(names)}")
    return names.index(sheet)


def _pick_sheet(sheets, names, sheet):
    return sheets[_sheet_index(names, sheet)]


def detect_encoding(stream):
    """BOM, else strict UTF-8 over the whole stream (incremental), else Windows-1251."""
    start = stream.tell()
    head = stream.read(4)
    stream.seek(start)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith(codecs.BOM_UTF16_LE) or head.startswith(codecs.BOM_UTF16_BE):
        return "utf-16"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        while True:
            chunk = stream.read(1 << 20)
            if not chunk:
                decoder.decode(b"", final=True)
                break
            decoder.decode(chunk)
    except UnicodeDecodeError:
        return "cp1251"
    finally:
        stream.seek(start)
    return "utf-8"


def detect_delimiter(sample):
    """The candidate that splits the most lines into the same number of fields.

    A title line above the header, or decimal commas inside a ``;`` file, do not fool it:
    a comma count varies from line to line, the real separator's count does not.
    """
    lines = [line for line in sample.splitlines()[:50] if line.strip()]
    if len(lines) > 1 and len(sample) >= SNIFF_BYTES:
        lines = lines[:-1]  # the sample may end in the middle of a line
    best, best_score = ",", (0, 0)
    for cand in ";,\t|":
        counts = {}
        for line in lines:
            n = sum(1 for row in csv.reader([line], delimiter=cand) for _ in row) - 1
            if n > 0:
                counts[n] = counts.get(n, 0) + 1
        if not counts:
            continue
        mode = max(counts, key=lambda n: (counts[n], n))
        score = (counts[mode], mode)
        if score > best_score:
            best, best_score = cand, score
    return best


def _iter_csv(source, encoding, delimiter):
    raw = _as_stream(source)
    try:
        if encoding in (None, "", "auto"):
            encoding = detect_encoding(raw)
        elif encoding.lower().replace("_", "-") in ("utf-8", "utf8"):
            encoding = "utf-8-sig"  # tolerate a BOM even when UTF-8 is declared
        try:
            text = io.TextIOWrapper(raw, encoding=encoding, newline="", errors="strict")
        except LookupError:
            raise ReadError(f"unknown encoding {encoding!r}") from None
        if delimiter in (None, "", "auto"):
            sample = text.read(SNIFF_BYTES)
            text.seek(0)
            delimiter = detect_delimiter(sample)
        elif delimiter == "\\t":
            delimiter = "\t"
        try:
            for number, values in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                yield number, tuple(values)
        except UnicodeDecodeError as exc:
            raise ReadError(f"the file is not in {encoding}: {exc}") from None
        finally:
            text.detach()
    finally:
        if raw is not source:
            raw.close()
