"""Streaming readers: each yields ``(row_number, tuple_of_values)``, 1-based row numbers.

* xlsx: two streaming engines with the same output.
  - ``lean`` (default): the sheet XML is read straight from the zip with ``lxml.iterparse``,
    one ``<row>`` at a time, each element cleared after use; only the shared-strings table
    is held (openpyxl holds it too).  About 4x faster than openpyxl, which spends most of
    its time building cell objects; and it does not pre-scan a sheet without
    ``<dimension>`` (openpyxl's read-only mode parses such a sheet twice).
  - ``openpyxl``: ``load_workbook(read_only=True, data_only=True)``, ``iter_rows(values_only=True)``
    after ``reset_dimensions()`` (many generators write a wrong ``<dimension>``).  Used when
    the lean engine does not understand the package, or when asked for.
  Date-formatted cells come out as serial numbers from the lean engine (no field of a
  price list is a date).
* xls: xlrd (the format is limited to 65,536 rows, so loading a sheet is bounded anyway).
* csv: the encoding is found by a BOM, then a streaming strict UTF-8 check, then
  Windows-1251; the separator is the profile's or sniffed from the first 64 KiB.

A price list comes from outside (a supplier's e-mail), so reading it is bounded:

* no XML part of an xlsx may carry a DOCTYPE (Excel never writes one; a DTD is how
  external entities — ``<!ENTITY x SYSTEM "file:///etc/...">`` — and entity-expansion
  bombs get in), and every part is parsed with entity resolution and network access
  off, whichever engine reads the sheet;
* a cell reference beyond Excel's own grid (column XFD = 16,384, row 1,048,576), a
  CSV row with more fields than that, or a shared-strings part larger than
  ``MAX_SHARED_STRINGS_BYTES`` is refused before anything is allocated for it.
"""

import codecs
import csv
import io

SNIFF_BYTES = 64 * 1024

#: Excel's grid (the specification's limits, also what Excel itself enforces):
#: columns A..XFD, rows 1..1,048,576.
MAX_COLUMNS = 16384
MAX_ROWS = 1048576
#: the shared strings are held in memory by both engines; a real price list of
#: 100,000 rows has a few MiB of them
MAX_SHARED_STRINGS_BYTES = 64 * 1024 * 1024

#: English texts of the read errors a user can fix or must be told about; the Odoo
#: side translates them by key (``models/problem_messages.py``).
READ_MESSAGES = {
    "xml_doctype": "the workbook part {part} declares a DOCTYPE (entity definitions); spreadsheet "
    "programs never write one, so the file was refused unread",
    "xml_invalid": "the workbook part {part} is not well-formed XML: {error}",
    "column_beyond_grid": "cell {ref} on row {row} is beyond the last column XFD ({limit} columns) "
    "of a spreadsheet",
    "row_beyond_grid": "row number {row} is beyond the last row ({limit}) of a spreadsheet",
    "row_invalid": "a row of the sheet has an invalid number {row!r}",
    "string_missing": "cell {ref} refers to shared string {index}, which the workbook does not have",
    "part_too_large": "the workbook part {part} unpacks to {size} bytes, more than the {limit} "
    "bytes a price list may hold",
    "csv_too_wide": "row {row} has {count} fields, more than the {limit} columns a price list may have",
    "csv_field_too_long": "row {row} has a field longer than {limit} characters",
}


class ReadError(ValueError):
    """The file cannot be read with this profile (wrong type, sheet, encoding...).

    ``key``/``params``: the message template of ``READ_MESSAGES`` and its values, so
    the Odoo side can show it translated."""

    def __init__(self, message, key=None, **params):
        super().__init__(message)
        self.key = key
        self.params = params

    @classmethod
    def make(cls, key, **params):
        return cls(READ_MESSAGES[key].format(**params), key, **params)


def _safe_parser(**kw):
    """lxml parser that never resolves entities, loads a DTD or touches the network."""
    from lxml import etree

    return etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, **kw
    )


def _safe_fromstring(data, part):
    from lxml import etree

    try:
        root = etree.fromstring(data, parser=_safe_parser())
    except etree.XMLSyntaxError as exc:
        raise _NotLean(f"{part}: {exc}") from None  # openpyxl may still read it
    _refuse_doctype(root.getroottree(), part)
    return root


def _refuse_doctype(tree, part):
    info = tree.docinfo
    if info.doctype or info.internalDTD is not None or info.externalDTD is not None:
        raise ReadError.make("xml_doctype", part=part)


def _check_xml_parts(archive):
    """Refuse the package when any XML part declares a DOCTYPE.  Only each part's
    prolog is read (parsing stops at the root element), so this costs next to nothing
    and protects the openpyxl engine as well as the lean one."""
    from lxml import etree

    for info in archive.infolist():
        name = info.filename
        if not name.endswith((".xml", ".rels", ".vml")):
            continue
        with archive.open(info) as src:
            events = etree.iterparse(
                src, events=("start",), resolve_entities=False, no_network=True, load_dtd=False
            )
            try:
                for _ev, el in events:
                    _refuse_doctype(el.getroottree(), name)
                    break
            except etree.XMLSyntaxError as exc:
                if "DOCTYPE" in str(exc) or "ENTITY" in str(exc):
                    raise ReadError.make("xml_doctype", part=name) from None
                # malformed parts are left to the engine that reads them (or ignores them)
                continue


def open_rows(source, profile):
    """Return an iterator of ``(row_number, values)`` for ``source`` (path or bytes)."""
    kind = profile.file_type
    if kind == "xlsx":
        if profile.xlsx_engine == "lean":
            return _iter_xlsx_lean(source, profile.sheet)
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
    import zipfile

    import openpyxl

    stream = _as_stream(source)
    try:
        _check_xml_parts(zipfile.ZipFile(stream))
        stream.seek(0)
        wb = openpyxl.load_workbook(stream, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError) as exc:
        raise ReadError(f"not an XLSX workbook ({exc})") from None
    try:
        ws = _pick_sheet(wb.worksheets, wb.sheetnames, sheet)
        ws.reset_dimensions()
        rows = ws.iter_rows(values_only=True)
        number = 0
        while True:
            try:
                values = next(rows)
            except StopIteration:
                break
            except ReadError:
                raise
            except (ValueError, IndexError, KeyError) as exc:  # e.g. a cell reference openpyxl refuses
                raise ReadError(f"the sheet cannot be read after row {number}: {exc}") from None
            number += 1
            if number > MAX_ROWS or len(values) > MAX_COLUMNS:
                raise (
                    ReadError.make("row_beyond_grid", row=number, limit=MAX_ROWS)
                    if number > MAX_ROWS
                    else ReadError.make(
                        "column_beyond_grid", ref=f"#{len(values)}", row=number, limit=MAX_COLUMNS
                    )
                )
            yield number, values
    finally:
        wb.close()
        if stream is not source:
            stream.close()


_REL_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL_NS_STRICT = "http://purl.oclc.org/ooxml/officeDocument/relationships"


class _NotLean(Exception):
    """The lean engine does not understand this package; openpyxl reads it."""


def _local(tag):
    return tag.rsplit("}", 1)[-1]


def _xlsx_package(archive, sheet):
    """(sheet path, shared strings) from the workbook part and its relationships."""
    from lxml import etree

    try:
        names = set(archive.namelist())
        wb_root = _safe_fromstring(archive.read("xl/workbook.xml"), "xl/workbook.xml")
        rels_root = _safe_fromstring(archive.read("xl/_rels/workbook.xml.rels"), "xl/_rels/workbook.xml.rels")
    except KeyError as exc:
        raise _NotLean(exc) from None
    targets = {rel.get("Id"): rel.get("Target") for rel in rels_root if _local(rel.tag) == "Relationship"}
    sheets = []
    for el in wb_root.iter():
        if _local(el.tag) == "sheet":
            rid = el.get(f"{{{_REL_NS}}}id") or el.get(f"{{{_REL_NS_STRICT}}}id")
            sheets.append((el.get("name"), targets.get(rid)))
    if not sheets:
        raise _NotLean("no sheets")
    sheet_names = [n for n, _t in sheets]
    target = sheets[_sheet_index(sheet_names, sheet)][1]
    if not target:
        raise _NotLean("sheet without target")
    path = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
    if path not in names:
        raise _NotLean(path)
    strings = []
    sst_target = next(
        (t for t in targets.values() if t and t.lstrip("/").endswith("sharedStrings.xml")), None
    )
    if sst_target:
        sst_path = sst_target.lstrip("/") if sst_target.startswith("/") else f"xl/{sst_target}"
        if sst_path in names:
            size = archive.getinfo(sst_path).file_size  # zipfile never reads past it
            if size > MAX_SHARED_STRINGS_BYTES:
                raise ReadError.make(
                    "part_too_large", part=sst_path, size=size, limit=MAX_SHARED_STRINGS_BYTES
                )
            with archive.open(sst_path) as src:
                for _ev, si in etree.iterparse(
                    src, tag="{*}si", resolve_entities=False, no_network=True, load_dtd=False
                ):
                    # plain <t>, or rich text runs <r><t>; phonetic <rPh> runs are not text
                    strings.append(
                        "".join(t.text or "" for t in si.iter("{*}t") if _local(t.getparent().tag) != "rPh")
                    )
                    si.clear()
    return path, strings


def _col_index(ref, row=0):
    """0-based column of a cell reference such as ``B7``; beyond XFD is refused before
    any memory is spent on the row (``AAAAAA`` would be a 12-million-cell row)."""
    idx = 0
    for ch in ref:
        if "A" <= ch <= "Z":
            idx = idx * 26 + ord(ch) - 64
            if idx > MAX_COLUMNS:
                raise ReadError.make("column_beyond_grid", ref=ref[:16], row=row, limit=MAX_COLUMNS)
        else:
            break
    return idx - 1


def _cell_value(cell, ctype, strings):
    if ctype == "inlineStr":
        return "".join(t.text or "" for t in cell.iter("{*}t"))
    v = None
    for child in cell:
        if _local(child.tag) == "v":
            v = child.text
            break
    if v is None:
        return None
    if ctype == "s":
        try:
            return strings[int(v)]
        except (ValueError, IndexError):
            raise ReadError.make(
                "string_missing", ref=str(cell.get("r") or "")[:16], index=str(v)[:16]
            ) from None
    if ctype in ("str", "d"):
        return v
    if ctype == "b":
        return v == "1"
    if ctype == "e":
        return None
    try:
        return int(v) if v.lstrip("-").isdigit() else float(v)
    except ValueError:
        return v


def _iter_xlsx_lean(source, sheet):
    import zipfile

    from lxml import etree

    stream = _as_stream(source)
    try:
        try:
            archive = zipfile.ZipFile(stream)
            _check_xml_parts(archive)
            path, strings = _xlsx_package(archive, sheet)
        except zipfile.BadZipFile as exc:
            raise ReadError(f"not an XLSX workbook ({exc})") from None
        except (_NotLean, etree.XMLSyntaxError):
            stream.seek(0)
            yield from _iter_xlsx(stream, sheet)
            return
        with archive.open(path) as src:
            rows = etree.iterparse(
                src, tag="{*}row", huge_tree=True, resolve_entities=False, no_network=True, load_dtd=False
            )
            for number, row in _numbered_rows(rows, path):
                values = []
                for pos, cell in enumerate(row):
                    ref = cell.get("r")
                    col = _col_index(ref, number) if ref else pos
                    if col >= MAX_COLUMNS:
                        raise ReadError.make(
                            "column_beyond_grid", ref=f"#{col + 1}", row=number, limit=MAX_COLUMNS
                        )
                    if col > len(values):
                        values.extend([None] * (col - len(values)))
                    values.append(_cell_value(cell, cell.get("t"), strings))
                row.clear()
                parent = row.getparent()
                while row.getprevious() is not None:  # drop parsed rows: memory stays flat
                    del parent[0]
                yield number, tuple(values)
    finally:
        if stream is not source:
            stream.close()


def _numbered_rows(events, part):
    """``(row number, <row> element)`` of an iterparse over ``<row>`` elements, the
    number checked against the grid; malformed XML becomes a ReadError."""
    from lxml import etree

    next_row = 1
    try:
        for _ev, row in events:
            raw = row.get("r")
            try:
                number = int(raw) if raw else next_row
            except ValueError:
                raise ReadError.make("row_invalid", row=str(raw)[:16]) from None
            if not 1 <= number <= MAX_ROWS:
                raise ReadError.make("row_beyond_grid", row=str(raw)[:16], limit=MAX_ROWS)
            next_row = number + 1
            yield number, row
    except etree.XMLSyntaxError as exc:
        raise ReadError.make("xml_invalid", part=part, error=str(exc)[:200]) from None


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
        number = 0
        try:
            for number, values in enumerate(csv.reader(text, delimiter=delimiter), start=1):
                if len(values) > MAX_COLUMNS:
                    raise ReadError.make("csv_too_wide", row=number, count=len(values), limit=MAX_COLUMNS)
                yield number, tuple(values)
        except UnicodeDecodeError as exc:
            raise ReadError(f"the file is not in {encoding}: {exc}") from None
        except csv.Error:  # a field over csv.field_size_limit(): a broken quote or a hostile file
            raise ReadError.make("csv_field_too_long", row=number + 1, limit=csv.field_size_limit()) from None
        finally:
            text.detach()
    finally:
        if raw is not source:
            raw.close()
