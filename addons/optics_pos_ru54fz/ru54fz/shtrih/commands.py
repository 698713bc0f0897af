"""Shtrih-M commands as declarative field layouts.

Each ``Command`` knows its request layout (what the host sends after the
command code) and its reply layout (what follows the error byte when the
error byte is 0).  One table serves both sides: the driver builds requests and
parses replies, the emulator parses requests and builds replies, and
docs/kkt_shtrih_protocol.md lists the same layouts (``layout_table()``).

Field types (all integers unsigned little-endian):
u8 u16 u32 u40 (5-byte kopeck sum) u48 (6 bytes), date_ymd / date_dmy (3 bytes,
year - 2000), time_hm (2), time_hms (3), dt5 (YY MM DD hh mm), ascii16 (16
bytes, NUL padded), bytes2 / bytes3 / bytes8 (fixed raw), text (rest, CP1251), tlv /
rest (rest, raw bytes), lenbytes (u8 length + that many bytes), regnum (register
number: 1 byte up to 255, else 2 bytes).
A field whose name ends in ``?`` is optional at the end of a reply.
"""

from dataclasses import dataclass

from . import codec
from .frame import command_bytes, split_command
from .models import VAT_BYTES_STANDARD

_FIXED = {
    "u8": 1,
    "u16": 2,
    "u32": 4,
    "u40": 5,
    "u48": 6,
    "date_ymd": 3,
    "date_dmy": 3,
    "time_hm": 2,
    "time_hms": 3,
    "dt5": 5,
    "ascii16": 16,
    "bytes2": 2,
    "bytes3": 3,
    "bytes8": 8,
}
_INTS = {"u8": 1, "u16": 2, "u32": 4, "u40": 5, "u48": 6}
_REST = {"text", "tlv", "rest"}


class LayoutError(ValueError):
    """A request or reply does not match its command's layout."""


def _encode_field(kind, value):
    if kind in _INTS:
        return codec.pack_uint(value, _INTS[kind])
    if kind == "date_ymd":
        return codec.pack_date_ymd(value)
    if kind == "date_dmy":
        return codec.pack_date_dmy(value)
    if kind == "time_hm":
        return codec.pack_time_hm(value)
    if kind == "time_hms":
        return codec.pack_time_hms(value)
    if kind == "dt5":
        return codec.pack_datetime5(value)
    if kind == "ascii16":
        return codec.pack_text(value, "ascii", fixed=16)
    if kind in ("bytes2", "bytes3", "bytes8"):
        raw = bytes(value)
        if len(raw) != _FIXED[kind]:
            raise codec.CodecError(f"{kind} needs {_FIXED[kind]} bytes")
        return raw
    if kind == "text":
        return codec.pack_text(value or "")
    if kind in ("tlv", "rest"):
        return bytes(value or b"")
    if kind == "lenbytes":
        raw = bytes(value)
        return codec.pack_uint(len(raw), 1) + raw
    if kind == "regnum":
        return codec.pack_uint(value, 1 if value <= 0xFF else 2)
    raise LayoutError(f"unknown field type {kind}")


def _decode_field(kind, data, offset):
    if kind in _INTS:
        return codec.unpack_uint(data, offset, _INTS[kind])
    if kind in _FIXED:
        size = _FIXED[kind]
        raw = bytes(data[offset : offset + size])
        if len(raw) != size:
            raise codec.CodecError(f"{kind}: need {size} bytes at offset {offset}")
        end = offset + size
        if kind == "date_ymd":
            return codec.unpack_date_ymd(raw), end
        if kind == "date_dmy":
            return codec.unpack_date_dmy(raw), end
        if kind in ("time_hm", "time_hms"):
            return codec.unpack_time(raw), end
        if kind == "dt5":
            return codec.unpack_datetime5(raw), end
        if kind == "ascii16":
            return codec.unpack_text(raw, "ascii"), end
        return raw, end
    if kind == "text":
        return codec.unpack_text(bytes(data[offset:])), len(data)
    if kind in ("tlv", "rest"):
        return bytes(data[offset:]), len(data)
    if kind == "lenbytes":
        size, offset = codec.unpack_uint(data, offset, 1)
        raw = bytes(data[offset : offset + size])
        if len(raw) != size:
            raise codec.CodecError(f"lenbytes: {size} announced, {len(raw)} present")
        return raw, offset + size
    if kind == "regnum":
        return codec.unpack_uint(data, offset, 2 if len(data) - offset >= 2 else 1)
    raise LayoutError(f"unknown field type {kind}")


def _encode(fields, values, what):
    out = bytearray()
    for name, kind in fields:
        key = name.rstrip("?")
        if key not in values:
            if name.endswith("?"):
                break
            if kind in _REST:
                values = {**values, key: b"" if kind != "text" else ""}
            else:
                raise LayoutError(f"{what}: field {key!r} missing")
        try:
            out += _encode_field(kind, values[key])
        except codec.CodecError as exc:
            raise LayoutError(f"{what}: field {key!r}: {exc}") from None
    return bytes(out)


def _decode(fields, data, what, strict=True):
    values = {}
    offset = 0
    for name, kind in fields:
        key = name.rstrip("?")
        if name.endswith("?") and offset >= len(data):
            break
        try:
            values[key], offset = _decode_field(kind, data, offset)
        except codec.CodecError as exc:
            raise LayoutError(f"{what}: field {key!r}: {exc}") from None
    if strict and offset != len(data):
        raise LayoutError(f"{what}: {len(data) - offset} unexpected trailing byte(s)")
    return values


@dataclass(frozen=True)
class Command:
    code: int
    name: str
    request: tuple
    reply: tuple
    printing: bool = False  # the KKT prints: slower, needs paper and a closed cover
    source: str = ""
    notes: str = ""

    @property
    def label(self):
        return f"{self.code:04X}" if self.code > 0xFF else f"{self.code:02X}"

    def build(self, **values):
        """Request payload (code bytes + data) for the frame."""
        return command_bytes(self.code) + _encode(self.request, values, f"{self.label} request")

    def parse_request(self, data):
        return _decode(self.request, data, f"{self.label} request")

    def build_reply(self, error=0, **values):
        """Reply payload: code bytes + error byte (+ data when error == 0)."""
        head = command_bytes(self.code) + bytes((error,))
        if error:
            return head
        return head + _encode(self.reply, values, f"{self.label} reply")

    def parse_reply(self, data):
        # Firmware may append fields the layout does not know: accept a longer reply.
        return _decode(self.reply, data, f"{self.label} reply", strict=False)


PWD = (("password", "u32"),)
OP = (("operator", "u8"),)
JP = "javapos_shtrih Source/Core/src/com/shtrih/fiscalprinter/command/"


def _sums(prefix, count):
    return tuple((f"{prefix}{i}", "u40") for i in range(1, count + 1))


COMMANDS = [
    Command(
        0x10,
        "short status",
        PWD,
        OP
        + (
            ("flags", "u16"),
            ("mode", "u8"),
            ("submode", "u8"),
            ("ops_lo", "u8"),
            ("battery", "u8"),
            ("power", "u8"),
            ("fm_error", "u8"),
            ("ej_error", "u8"),
            ("ops_hi", "u8"),
            ("reserved", "bytes3"),
        ),
        source=JP + "ReadShortStatus.java; 54fz.md §4.2",
        notes="flags bit1 receipt roll present, bit7 receipt paper present, bit10 cover open; "
        "mode low nibble: 2 shift open, 3 shift over 24 h, 4 shift closed, 8 document open",
    ),
    Command(
        0x11,
        "long status",
        PWD,
        OP
        + (
            ("fw_version", "bytes2"),
            ("fw_build", "u16"),
            ("fw_date", "date_dmy"),
            ("logical_number", "u8"),
            ("doc_number", "u16"),
            ("flags", "u16"),
            ("mode", "u8"),
            ("submode", "u8"),
            ("port", "u8"),
            ("fm_version", "bytes2"),
            ("fm_build", "u16"),
            ("fm_date", "date_dmy"),
            ("date", "date_dmy"),
            ("time", "time_hms"),
            ("fm_flags", "u8"),
            ("serial", "u32"),
            ("shift_number", "u16"),
            ("fm_free", "u16"),
            ("reg_count", "u8"),
            ("reg_free", "u8"),
            ("inn", "u48"),
        ),
        source=JP + "LongPrinterStatus.java",
        notes="date/time = the KKT clock",
    ),
    Command(
        0x1E,
        "write table",
        PWD + (("table", "u8"), ("row", "u16"), ("field", "u8"), ("value", "rest")),
        (),
        source=JP + "WriteTable.java",
        notes="value: the field's bytes (integers LE)",
    ),
    Command(
        0x1F,
        "read table",
        PWD + (("table", "u8"), ("row", "u16"), ("field", "u8")),
        (("value", "rest"),),
        source=JP + "ReadTable.java",
        notes="table 1 row 1 field <tax_mode_field of F7>: tax calculation mode; table/field "
        "of F7 ffd_table/ffd_field: FFD version (2 = 1.05, 4 = 1.2, fr_drv_ng #236)",
    ),
    Command(
        0x1A,
        "read cash register",
        PWD + (("register", "regnum"),),
        OP + (("value", "u48"),),
        source=JP + "ReadCashRegister.java",
        notes="register numbers: see 'Registers'",
    ),
    Command(
        0x1B,
        "read operation register",
        PWD + (("register", "u8"),),
        OP + (("value", "u16"),),
        source=JP + "ReadOperationRegister.java",
    ),
    Command(0x40, "X report", PWD, OP, printing=True, source=JP + "PrintXReport.java"),
    Command(0x41, "Z report (close shift)", PWD, OP, printing=True, source=JP + "PrintZReport.java"),
    Command(
        0x50,
        "cash in",
        PWD + (("amount", "u40"),),
        OP + (("doc_number", "u16"),),
        printing=True,
        source=JP + "PrintCashIn.java",
    ),
    Command(
        0x51,
        "cash out",
        PWD + (("amount", "u40"),),
        OP + (("doc_number", "u16"),),
        printing=True,
        source=JP + "PrintCashOut.java",
    ),
    Command(0x88, "cancel receipt", PWD, OP, source=JP + "VoidFiscalReceipt.java; 54fz.md §4.2"),
    Command(0xE0, "open shift", PWD, OP, printing=True, source=JP + "BeginFiscalDay.java"),
    Command(
        0xF7,
        "model parameters",
        (("request_type", "u8"),),
        (
            ("flags", "bytes8"),
            ("font1_width", "u8"),
            ("font2_width", "u8"),
            ("first_graphics_line", "u8"),
            ("inn_length", "u8"),
            ("rnm_length", "u8"),
            ("long_rnm_length", "u8"),
            ("long_serial_length", "u8"),
            ("tax_password", "u32"),
            ("sys_password", "u32"),
            ("bt_table", "u8"),
            ("tax_mode_field", "u8"),
            ("max_command_length", "u16"),
            ("graphics_line_width", "u8"),
            ("graphics512_width?", "u8"),
            ("graphics512_height?", "u16"),
            ("fs_table?", "u8"),
            ("ofd_table?", "u8"),
            ("embedded_table?", "u8"),
            ("ffd_table?", "u8"),
            ("ffd_field?", "u8"),
        ),
        source=JP + "ReadPrinterModelParameters.java, PrinterModelParameters.java",
        notes="no password; request_type 1 = model parameters; tax_mode_field = field of "
        "table 1 'НАЧИСЛЕНИЕ НАЛОГОВ'; ffd_table/ffd_field = where the FFD version is",
    ),
    Command(
        0xFC,
        "device type",
        (),
        (
            ("device_type", "u8"),
            ("device_subtype", "u8"),
            ("protocol_version", "u8"),
            ("protocol_subversion", "u8"),
            ("model", "u8"),
            ("language", "u8"),
            ("name", "text"),
        ),
        source=JP + "ReadDeviceMetrics.java, DeviceMetrics.java; 54fz.md §4.2",
        notes="no password; model: see 'Models and capabilities'",
    ),
    Command(
        0xFF01,
        "FN status",
        PWD,
        (
            ("phase", "u8"),
            ("doc_type", "u8"),
            ("doc_data", "u8"),
            ("shift_open", "u8"),
            ("warnings", "u8"),
            ("date", "date_ymd"),
            ("time", "time_hm"),
            ("fn_serial", "ascii16"),
            ("last_fd", "u32"),
        ),
        source=JP + "FSReadStatus.java, FSDocType.java, FSStatus.java",
        notes="doc_type (open document): 0 none, 1 registration, 2 shift open, 4 receipt, "
        "8 shift close, 0x14 correction receipt; warnings bit0 key < 3 days, bit1 "
        "< 30 days, bit2 memory 99 %, bit3 OFD wait exceeded; date/time = last FD",
    ),
    Command(
        0xFF03,
        "FN expiry",
        PWD,
        (("date", "date_ymd"), ("reg_left?", "u8"), ("reg_count?", "u8")),
        source=JP + "FSReadExpDate.java",
    ),
    Command(
        0xFF63,
        "FN free memory",
        PWD,
        (("free_docs", "u32"), ("free_kb", "u32")),
        source=JP + "FSReadMemorySize.java (maxDocCount, memSizeInKb)",
        notes="free_docs = documents the FN can still store [ADOPTED reading of maxDocCount]",
    ),
    Command(
        0xFF08,
        "cancel FN document",
        PWD,
        (),
        source=JP + "FSCancelDoc.java; 54fz.md §2.4",
        notes="cancels any document open in the FN (shift open/close begun, correction "
        "receipt); 0x88 cancels only a receipt the KKT has open",
    ),
    Command(
        0xFF0A,
        "find fiscal document",
        PWD + (("fd_number", "u32"),),
        (
            ("fd_type", "u8"),
            ("ticket", "u8"),
            ("when", "dt5"),
            ("fd_number", "u32"),
            ("fiscal_sign", "u32"),
            ("tail", "rest"),
        ),
        source=JP + "FSFindDocument.java, FSDocument.java, FSDocumentReceipt.java",
        notes="tail: FD 3/31 = operation u8 + total u40; FD 2/5 = shift number u16. "
        "An FD that does not exist: FN error 0x08 (no data)",
    ),
    Command(
        0xFF0C,
        "TLV for the current document",
        PWD + (("tlv", "tlv"),),
        (),
        source=JP + "FSWriteTLV.java",
        notes="tag u16 LE, length u16 LE, value; strings CP866",
    ),
    Command(
        0xFF30,
        "OFD message: buffer status",
        PWD,
        (("size", "u16"), ("block_size", "u8")),
        source=JP + "FSReadBufferStatus.java; SMFiscalPrinterImpl.fsReadBlockData",
        notes="size of the FN's pending OFD message (0 = none)",
    ),
    Command(
        0xFF31,
        "OFD message: read block",
        PWD + (("offset", "u16"), ("size", "u8")),
        (("data", "rest"),),
        source=JP + "FSReadBlock.java",
    ),
    Command(
        0xFF32,
        "OFD ticket: start write",
        PWD + (("size", "u16"),),
        (("block_size", "u8"),),
        source=JP + "FSStartWriteBlock.java; SMFiscalPrinterImpl.fsWriteBlockData",
    ),
    Command(
        0xFF33,
        "OFD ticket: write block",
        PWD + (("offset", "u16"), ("data", "lenbytes")),
        (),
        source=JP + "FSWriteBlock.java",
        notes="the FN checks the ticket once the last byte is written",
    ),
    Command(
        0xFF35,
        "start correction receipt",
        PWD,
        (),
        source=JP + "FSStartCorrectionReceipt.java; fr_drv_ng issues #150, #216",
        notes="FFD 1.2: then FF0C 1173 + 1174 {1178, 1179}, FF46 items, FF45 close (FD 31); "
        "FFD 1.05: then FF0C 1174, FF4A",
    ),
    Command(
        0xFF39,
        "OFD exchange status",
        PWD,
        (
            ("status", "u8"),
            ("read_status", "u8"),
            ("queue", "u16"),
            ("first_fd", "u32"),
            ("date", "date_ymd"),
            ("time", "time_hm"),
        ),
        source=JP + "FSReadCommStatus.java; 54fz.md §2.1",
        notes="status bit1 message pending, bit2 waiting for ticket; date/time = first unconfirmed FD",
    ),
    Command(
        0xFF40,
        "shift parameters",
        PWD,
        (("shift_open", "u8"), ("shift_number", "u16"), ("receipt_number", "u16")),
        source=JP + "FSReadDayParameters.java",
        notes="receipt_number = number the next receipt of the shift gets",
    ),
    Command(0xFF41, "begin open shift", PWD, (), source=JP + "FSStartDayOpen.java"),
    Command(0xFF42, "begin close shift", PWD, (), source=JP + "FSStartDayClose.java"),
    Command(
        0xFF45,
        "close receipt V2",
        PWD
        + _sums("pay", 16)
        + (("rounding", "u8"),)
        + _sums("tax", 6)
        + (("tax_system", "u8"), ("text", "text")),
        (
            ("change", "u40"),
            ("fd_number", "u32"),
            ("fiscal_sign", "u32"),
            ("date?", "date_ymd"),
            ("time?", "time_hm"),
        ),
        printing=True,
        source=JP + "FSCloseReceipt.java; 54fz.md §4.2 FF45",
        notes="pay1 cash (1031), pay2 electronic (1081), pay14 prepayment (1215), pay15 "
        "credit (1216), pay16 other (1217); tax1..6 = 0 (the KKT sums the items' VAT, "
        "tax mode 'per operation'); tax_system = 1055 bit; closes a receipt or an FFD "
        "1.2 correction receipt",
    ),
    Command(
        0xFF46,
        "item operation V2",
        PWD
        + (
            ("operation", "u8"),
            ("quantity", "u48"),
            ("price", "u40"),
            ("amount", "u40"),
            ("tax_amount", "u40"),
            ("tax", "u8"),
            ("department", "u8"),
            ("payment_method", "u8"),
            ("subject", "u8"),
            ("name", "text"),
        ),
        (),
        source=JP + "FSPrintRecItem.java; 54fz.md §4.2 FF46",
        notes="quantity in millionths; amount/tax_amount 0xFFFFFFFFFF = the KKT computes; "
        "tax = Shtrih tax code (see 'VAT codes'); name CP1251 <= 128 bytes",
    ),
    Command(
        0xFF4A,
        "correction receipt V2",
        PWD
        + (("correction_type", "u8"), ("operation", "u8"), ("total", "u40"))
        + _sums("pay", 5)
        + _sums("tax", 6)
        + (("tax_system", "u8"),),
        (("receipt_number", "u16"), ("fd_number", "u32"), ("fiscal_sign", "u32")),
        printing=True,
        source=JP + "FSPrintCorrectionReceipt2.java; PrinterTest.java",
        notes="FFD 1.05 only: after FF35 and FF0C (1174 = {1177, 1178, 1179}); pay1..5 = "
        "1031, 1081, 1215, 1216, 1217; refused for 1054 = 2/4 with 0x5E (javapos_shtrih "
        "issue #115)",
    ),
    Command(
        0xFF61,
        "check marking code",
        PWD + (("status", "u8"), ("mode", "u8"), ("km_len", "u8"), ("tlv_len", "u8"), ("data", "rest")),
        (
            ("local_status", "u8"),
            ("local_reason", "u8"),
            ("km_type", "u8"),
            ("params_len", "u8"),
            ("server", "rest"),
        ),
        source=JP + "FSCheckMC.java; 54fz.md §3.2",
        notes="status = 2003 planned status (1 piece sold, 3 piece returned); mode 0; data = the "
        "code as scanned (GS kept) + TLVs (2108/1023 for part sales); reply server = "
        "[check status u8, error u8, TLVs] when params_len > 0 (no answer: offline)",
    ),
    Command(
        0xFF69,
        "accept or reject marking code",
        PWD + (("action", "u8"),),
        (("check_result?", "u8"),),
        source=JP + "FSAcceptMC.java",
        notes="action 0 reject, 1 accept, 2 clear the checked codes; after every FF61; "
        "check_result = tag 2106",
    ),
    Command(
        0xFF67,
        "bind marking code to the item",
        PWD + (("km", "lenbytes"),),
        (("code_type", "u16"), ("dm_type", "u8"), ("check", "rest")),
        source=JP + "FSBindMC.java",
        notes="after FF46 and all FF4D tags of the item (an accepted code only)",
    ),
    Command(
        0xFF4D,
        "TLV bound to the last item",
        PWD + (("tlv", "tlv"),),
        (),
        source=JP + "FSWriteOperationTLV.java; SMFiscalPrinterImpl.getCapOperationTagsFirst",
        notes="used for 2108 (measure) and 1163 (product code); after its FF46, or before it "
        "on tags-first models (see 'Models and capabilities')",
    ),
]

BY_CODE = {cmd.code: cmd for cmd in COMMANDS}
BY_NAME = {cmd.name: cmd for cmd in COMMANDS}


def get(code):
    return BY_CODE[code]


def parse_request_payload(payload):
    """(Command or None, code, request data) for a received request payload."""
    code, data = split_command(payload)
    return BY_CODE.get(code), code, data


def parse_reply_payload(payload):
    """(code, error, data) of a reply payload."""
    code, rest = split_command(payload)
    if not rest:
        raise LayoutError(f"reply to {code:#x} has no error byte")
    return code, rest[0], rest[1:]


# --- tables beyond single commands -----------------------------------------

#: FFD 1199 VAT code -> Shtrih FF46 tax byte of every model but the Shtrih-Nano (javapos
#: FiscalPrinterImpl.getVatCodeShtrih, Feb 2026); per-model bytes: ``models.ModelCaps.vat_byte``.
VAT_TO_SHTRIH = VAT_BYTES_STANDARD
SHTRIH_TO_VAT = {v: k for k, v in VAT_TO_SHTRIH.items()}

#: FF45 payment slot (1-based) per FFD payment tag.
PAYMENT_SLOTS = {"cash": 1, "electronic": 2, "prepayment": 14, "credit": 15, "other": 16}

OPERATIONS = {1: "sale", 2: "sale_refund", 3: "expense", 4: "expense_refund"}
#: 1054 value -> operation index of the registers (javapos readXReport order:
#: 0 sale, 1 buy (expense), 2 sale refund, 3 buy refund).
REG_OP_INDEX = {1: 0, 3: 1, 2: 2, 4: 3}

# Cash registers (0x1A) after javapos TextDocumentFilter.readXReport:
# 193 + op + 4 * (payment slot - 1): shift sums per operation (0..3) and payment slot 1..12.
REG_PAYMENTS_BASE = 193
REG_CASH_IN_DRAWER = 241
REG_CASH_IN_TOTAL = 242
REG_CASH_OUT_TOTAL = 243
# Slots 13..16 (prepayment 14, credit 15, other 16) do not fit one byte; 0x1A takes a
# two-byte register number above 255 (javapos ReadCashRegister.encode).  This project
# numbers them 256 + op + 4 * (slot - 13) [project-defined; real firmware UNVERIFIED].
REG_EXTENDED_BASE = 256


def payment_register(operation_index, slot):
    """Cash register number for (operation 0..3, FF45 payment slot 1..16)."""
    if 1 <= slot <= 12:
        return REG_PAYMENTS_BASE + operation_index + 4 * (slot - 1)
    if 13 <= slot <= 16:
        return REG_EXTENDED_BASE + operation_index + 4 * (slot - 13)
    raise ValueError(f"payment slot {slot} out of 1..16")


# Operation registers (0x1B): receipt counts per operation and cash in/out counts.
OPREG_RECEIPT_COUNT_BASE = 144  # + operation index
OPREG_CASH_IN_COUNT = 153
OPREG_CASH_OUT_COUNT = 154
OPREG_VOID_COUNT = 166


def layout_table():
    """Markdown rows of every command layout (for docs/kkt_shtrih_protocol.md)."""

    def offsets(fields, start):
        rows = []
        offset = start
        for name, kind in fields:
            size = _FIXED.get(kind)
            size_text = str(size) if size else {"lenbytes": "1+n", "regnum": "1|2"}.get(kind, "rest")
            rows.append(f"{name}@{offset}:{kind}({size_text})")
            offset = offset + size if size and isinstance(offset, int) else "…"
        return ", ".join(rows) or "—"

    lines = [
        "| Code | Command | Request DATA (offset:type(size)) | Reply DATA after ERR | Printing | Source / "
        "notes |",
        "|---|---|---|---|---|---|",
    ]
    for cmd in COMMANDS:
        lines.append(
            f"| {cmd.label} | {cmd.name} | {offsets(cmd.request, 0)} | "
            f"{offsets(cmd.reply, 0)} | {'yes' if cmd.printing else ''} | "
            f"{cmd.source}{'; ' + cmd.notes if cmd.notes else ''} |"
        )
    return "\n".join(lines)
