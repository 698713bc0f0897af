"""The OFD session/frame protocol (the container the fiscal drive's messages travel in).

Layout (54fz.md §2.1 item 4, after the public implementation github.com/yandex/ofd):

Session header, 30 bytes, little-endian::

    magic u32 (bytes 2A 08 41 0A) | session protocol version u16 (bytes 81 A2)
    | application protocol version u16 (bytes 00 01) | FN number 16 ASCII
    | container length u16 | flags u16 | CRC u16

Container = frame header (32 bytes) + body::

    length u16 (header + body) | CRC u16 | msgtype u8 (0xA5) | FD type u8 | version u8 (1)
    | service data 2 bytes | FN number 8 bytes | FD number 3 bytes | service data 12 bytes

The frame CRC is CRC-16/CCITT-FALSE over the frame header without its CRC field,
followed by the body.  The body is TLV: tag u16 LE, length u16 LE, value; strings CP866.

Choices where the public material is silent (documented so that the till/KKT
emulator and the central side agree):

* the session CRC is CRC-16/CCITT-FALSE over the first 28 bytes of the session header;
* the 8-byte FN number of the frame is the 16-digit FN serial packed as BCD;
* the 3-byte FD number of the frame is an unsigned 24-bit little-endian integer.

What the fiscal drive hands to the KKT for the OFD is the *container* (frame
header + body); the transport wraps it in a session header.  The OFD answers
with a container of FD type 7 (operator confirmation, "подтверждение
оператора"), which is the *ticket* carried back into the FN.
"""

import struct
import time
from dataclasses import dataclass, field

MAGIC = bytes.fromhex("2a08410a")
SESSION_VERSION = bytes.fromhex("81a2")
APP_VERSION = bytes.fromhex("0001")
SESSION_HEADER_SIZE = 30
FRAME_HEADER_SIZE = 32
MSGTYPE = 0xA5
FRAME_VERSION = 1
#: Flags the public mock OFD sets on its replies; carried, not interpreted.
DEFAULT_FLAGS = 0x0014
MAX_CONTAINER = 0xFFFF

FD_TYPE_OPERATOR_ACK = 7

# Tags used in messages and confirmations.
TAG_OFD_INN = 1017
TAG_DATETIME = 1012
TAG_FD_NUMBER = 1040
TAG_FN_NUMBER = 1041
TAG_OFD_RESPONSE_CODE = 1022
TAG_MESSAGE = 1066
TAG_MESSAGE_TO_FN = 1068
TAG_FISCAL_SIGN = 1077
TAG_OPERATOR_SIGN = 1078

#: Tags whose value is itself TLV (STLV): FD types and the nested structures we use.
STLV_TAGS = frozenset({1, 2, 3, 4, 5, 6, 7, 11, 21, 31, 41, 1059, 1068, 1084, 1174})

_SESSION = struct.Struct("<4s2s2s16sHHH")
_FRAME = struct.Struct("<HHBBB2s8s3s12s")


class ProtocolError(ValueError):
    """The bytes are not a valid OFD session/frame; ``reason`` is a stable key."""

    reason = "protocol_error"

    def __init__(self, message, offset=None):
        super().__init__(message if offset is None else f"{message} (at byte {offset})")
        self.offset = offset


class Truncated(ProtocolError):
    reason = "truncated"


class BadMagic(ProtocolError):
    reason = "bad_magic"


class BadVersion(ProtocolError):
    reason = "bad_version"


class BadLength(ProtocolError):
    reason = "bad_length"


class BadCrc(ProtocolError):
    reason = "bad_crc"


class BadMessageType(ProtocolError):
    reason = "bad_msgtype"


class BadFnNumber(ProtocolError):
    reason = "bad_fn_number"


class BadTlv(ProtocolError):
    reason = "bad_tlv"


def _crc_table():
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return tuple(table)


_CRC_TABLE = _crc_table()


def crc16_ccitt_false(data, crc=0xFFFF):
    """CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF, no reflection, no final xor).

    >>> hex(crc16_ccitt_false(b"123456789"))
    '0x29b1'
    """
    for byte in data:
        crc = ((crc << 8) & 0xFFFF) ^ _CRC_TABLE[((crc >> 8) ^ byte) & 0xFF]
    return crc


# ---------------------------------------------------------------------------------- FN numbers


def fn_to_bcd(fn_number):
    """'9999078900012345' -> 8 BCD bytes."""
    if not (
        isinstance(fn_number, str) and len(fn_number) == 16 and fn_number.isdigit() and fn_number.isascii()
    ):
        raise BadFnNumber(f"FN number must be 16 decimal digits, got {fn_number!r}")
    return bytes.fromhex(fn_number)


def bcd_to_fn(raw):
    text = raw.hex()
    if len(raw) != 8 or not text.isdigit():
        raise BadFnNumber(f"frame FN number is not 8 BCD bytes: {raw.hex()}")
    return text


# ---------------------------------------------------------------------------------------- TLV


@dataclass
class Tlv:
    tag: int
    value: bytes = b""
    #: decoded children when ``tag`` is an STLV tag
    children: list = field(default_factory=list)

    def find(self, tag):
        """First descendant with ``tag`` (depth first), or None."""
        for child in self.children:
            if child.tag == tag:
                return child
            found = child.find(tag)
            if found is not None:
                return found
        return None

    @property
    def as_int(self):
        return int.from_bytes(self.value, "little")

    @property
    def as_str(self):
        return self.value.decode("cp866")


def tlv(tag, value):
    """Encode one TLV.  ``value``: bytes, str (CP866), int (u32, or VLN via tlv_vln),
    or a list of already-encoded TLV bytes (STLV)."""
    if isinstance(value, list):
        value = b"".join(value)
    elif isinstance(value, str):
        try:
            value = value.encode("cp866")
        except UnicodeEncodeError as exc:
            raise BadTlv(f"tag {tag}: text cannot be encoded in CP866: {exc}") from None
    elif isinstance(value, bool):
        value = bytes([int(value)])
    elif isinstance(value, int):
        if not 0 <= value <= 0xFFFFFFFF:
            raise BadTlv(f"tag {tag}: integer {value} out of u32 range")
        value = struct.pack("<I", value)
    if not 0 <= tag <= 0xFFFF:
        raise BadTlv(f"tag {tag} out of range")
    if len(value) > 0xFFFF:
        raise BadTlv(f"tag {tag}: value of {len(value)} bytes exceeds 65535")
    return struct.pack("<HH", tag, len(value)) + value


def tlv_u8(tag, value):
    return tlv(tag, bytes([value]))


def tlv_vln(tag, value):
    """Variable-length unsigned number (money in kopecks), minimal bytes, at least 1."""
    if value < 0:
        raise BadTlv(f"tag {tag}: negative VLN {value}")
    length = max(1, (value.bit_length() + 7) // 8)
    return tlv(tag, value.to_bytes(length, "little"))


def decode_tlv(data, offset=0, depth=0):
    """Decode a TLV sequence into a list of ``Tlv``; STLV tags are decoded recursively.

    Raises ``BadTlv`` with the byte offset of the first malformed entry."""
    if depth > 8:
        raise BadTlv("TLV nesting deeper than 8", offset)
    items = []
    pos = 0
    size = len(data)
    while pos < size:
        if size - pos < 4:
            raise BadTlv(f"{size - pos} stray byte(s) after the last TLV", offset + pos)
        tag, length = struct.unpack_from("<HH", data, pos)
        if tag == 0:
            raise BadTlv("TLV tag 0 is not valid", offset + pos)
        start = pos + 4
        if start + length > size:
            raise BadTlv(f"tag {tag} declares {length} bytes but only {size - start} remain", offset + pos)
        value = bytes(data[start : start + length])
        item = Tlv(tag, value)
        if tag in STLV_TAGS:
            item.children = decode_tlv(value, offset + start, depth + 1)
        items.append(item)
        pos = start + length
    return items


# ------------------------------------------------------------------------------ session header


@dataclass
class SessionHeader:
    fn_number: str
    length: int
    flags: int = DEFAULT_FLAGS
    crc: int = 0

    def pack(self):
        fn = self.fn_number.encode("ascii")
        if len(fn) != 16:
            raise BadFnNumber(f"session FN number must be 16 characters, got {self.fn_number!r}")
        if not 0 <= self.length <= MAX_CONTAINER:
            raise BadLength(f"container length {self.length} out of range")
        head = _SESSION.pack(MAGIC, SESSION_VERSION, APP_VERSION, fn, self.length, self.flags, 0)
        crc = crc16_ccitt_false(head[:28])
        self.crc = crc
        return head[:28] + struct.pack("<H", crc)

    @classmethod
    def unpack(cls, data):
        if len(data) < SESSION_HEADER_SIZE:
            raise Truncated(f"session header needs {SESSION_HEADER_SIZE} bytes, got {len(data)}")
        magic, sver, aver, fn, length, flags, crc = _SESSION.unpack_from(data, 0)
        if magic != MAGIC:
            raise BadMagic(f"session magic {magic.hex()} is not {MAGIC.hex()}", 0)
        if sver != SESSION_VERSION:
            raise BadVersion(f"session protocol version {sver.hex()} is not {SESSION_VERSION.hex()}", 4)
        if aver != APP_VERSION:
            raise BadVersion(f"application protocol version {aver.hex()} is not {APP_VERSION.hex()}", 6)
        expected = crc16_ccitt_false(bytes(data[:28]))
        if crc != expected:
            raise BadCrc(f"session header CRC {crc:#06x} != computed {expected:#06x}", 28)
        try:
            fn_text = fn.decode("ascii")
        except UnicodeDecodeError:
            raise BadFnNumber(f"session FN number is not ASCII: {fn.hex()}", 8) from None
        if length < FRAME_HEADER_SIZE:
            raise BadLength(f"container length {length} is shorter than a frame header", 24)
        return cls(fn_text, length, flags, crc)


# -------------------------------------------------------------------------------- frame/container


@dataclass
class Container:
    """A frame header plus its TLV body: what the FN signs for the OFD, and the OFD's ticket."""

    fd_type: int
    fn_number: str
    fd_number: int
    body: bytes
    service1: bytes = b"\x00\x00"
    service2: bytes = b"\x00" * 12
    crc: int = 0

    def pack(self):
        if not 0 <= self.fd_number < 1 << 24:
            raise BadLength(f"FD number {self.fd_number} does not fit in 3 bytes")
        if not 0 <= self.fd_type <= 0xFF:
            raise BadMessageType(f"FD type {self.fd_type} does not fit in a byte")
        length = FRAME_HEADER_SIZE + len(self.body)
        if length > MAX_CONTAINER:
            raise BadLength(f"container of {length} bytes exceeds {MAX_CONTAINER}")
        head = _FRAME.pack(
            length,
            0,
            MSGTYPE,
            self.fd_type,
            FRAME_VERSION,
            self.service1,
            fn_to_bcd(self.fn_number),
            self.fd_number.to_bytes(3, "little"),
            self.service2,
        )
        self.crc = crc16_ccitt_false(head[4:], crc16_ccitt_false(head[:2]))
        self.crc = crc16_ccitt_false(self.body, self.crc)
        return head[:2] + struct.pack("<H", self.crc) + head[4:] + self.body

    @classmethod
    def unpack(cls, data, decode_body=True):
        data = bytes(data)
        if len(data) < FRAME_HEADER_SIZE:
            raise Truncated(f"frame header needs {FRAME_HEADER_SIZE} bytes, got {len(data)}")
        (length, crc, msgtype, fd_type, version, service1, fn_raw, fd_raw, service2) = _FRAME.unpack_from(
            data, 0
        )
        if length != len(data):
            raise BadLength(f"frame declares {length} bytes but {len(data)} were given", 0)
        if msgtype != MSGTYPE:
            raise BadMessageType(f"message type {msgtype:#04x} is not {MSGTYPE:#04x}", 4)
        if version != FRAME_VERSION:
            raise BadVersion(f"frame version {version} is not {FRAME_VERSION}", 6)
        expected = crc16_ccitt_false(data[4:], crc16_ccitt_false(data[:2]))
        if crc != expected:
            raise BadCrc(f"frame CRC {crc:#06x} != computed {expected:#06x}", 2)
        container = cls(
            fd_type,
            bcd_to_fn(fn_raw),
            int.from_bytes(fd_raw, "little"),
            data[FRAME_HEADER_SIZE:],
            service1,
            service2,
            crc,
        )
        if decode_body:
            _ = container.tlvs  # validates the body eagerly
        return container

    @property
    def tlvs(self):
        return decode_tlv(self.body, FRAME_HEADER_SIZE)


def pack_session(container_bytes, fn_number, flags=DEFAULT_FLAGS):
    """Session header + container, ready for the socket."""
    return SessionHeader(fn_number, len(container_bytes), flags).pack() + container_bytes


def unpack_session(data):
    """Split one complete session into (SessionHeader, Container); checks everything."""
    header = SessionHeader.unpack(data)
    rest = bytes(data[SESSION_HEADER_SIZE:])
    if len(rest) != header.length:
        raise BadLength(
            f"session declares a {header.length}-byte container, got {len(rest)}", SESSION_HEADER_SIZE
        )
    container = Container.unpack(rest)
    if container.fn_number != header.fn_number:
        raise BadFnNumber(
            f"frame FN {container.fn_number} differs from session FN {header.fn_number}",
            SESSION_HEADER_SIZE + 10,
        )
    return header, container


def read_session(read_exactly):
    """Read one session through ``read_exactly(n) -> bytes`` and return (header, container)."""
    head = read_exactly(SESSION_HEADER_SIZE)
    header = SessionHeader.unpack(head)
    rest = read_exactly(header.length)
    return unpack_session(head + rest)


# --------------------------------------------------------------------- documents and tickets


def build_document_message(fn_number, fd_number, fd_type=3, fiscal_sign=0, doc_time=None, extra_tlvs=()):
    """The container an FN would form for a fiscal document (used by the KKT emulator,
    the tests and the benchmark).  The real body is encrypted by the FN; the emulated one
    carries the public tags so the OFD emulator can check them."""
    stamp = int(doc_time if doc_time is not None else time.time())
    inner = [
        tlv(TAG_FN_NUMBER, fn_number),
        tlv(TAG_FD_NUMBER, fd_number),
        tlv(TAG_DATETIME, stamp),
        tlv(TAG_FISCAL_SIGN, fiscal_sign),
        *extra_tlvs,
    ]
    return Container(fd_type, fn_number, fd_number, tlv(fd_type, inner)).pack()


@dataclass
class Ticket:
    """A decoded operator confirmation (FD type 7)."""

    fn_number: str
    fd_number: int
    code: int
    received_at: int
    message: str = ""
    raw: bytes = b""

    @property
    def accepted(self):
        return self.code == 0


def build_ticket(fn_number, fd_number, code=0, message="", ofd_inn="7704358518", when=None):
    """The OFD's confirmation for (fn, fd); ``code`` != 0 is a rejection with ``message``."""
    to_fn = [tlv_u8(TAG_OFD_RESPONSE_CODE, code)]
    inner = [
        tlv(TAG_OFD_INN, ofd_inn),
        tlv(TAG_FN_NUMBER, fn_number),
        tlv(TAG_FD_NUMBER, fd_number),
        tlv(TAG_DATETIME, int(when or time.time())),
        tlv(TAG_MESSAGE_TO_FN, to_fn),
        # The operator's sign (ФПО) comes from the OFD's crypto unit; the emulator
        # derives a stable stand-in from the document identity.
        tlv(
            TAG_OPERATOR_SIGN,
            (crc16_ccitt_false(f"{fn_number}:{fd_number}".encode()).to_bytes(2, "little") * 9),
        ),
    ]
    if message:
        inner.append(tlv(TAG_MESSAGE, message[:256]))
    return Container(FD_TYPE_OPERATOR_ACK, fn_number, fd_number, tlv(FD_TYPE_OPERATOR_ACK, inner)).pack()


def parse_ticket(data):
    """Decode and check a confirmation container; raises ProtocolError if it is not one."""
    container = Container.unpack(data)
    if container.fd_type != FD_TYPE_OPERATOR_ACK:
        raise BadMessageType(f"FD type {container.fd_type} is not an operator confirmation (7)")
    items = container.tlvs
    if len(items) != 1 or items[0].tag != FD_TYPE_OPERATOR_ACK:
        raise BadTlv("confirmation body is not a single STLV of tag 7")
    root = items[0]
    code_item = root.find(TAG_OFD_RESPONSE_CODE)
    fd_item = root.find(TAG_FD_NUMBER)
    when_item = root.find(TAG_DATETIME)
    if code_item is None or fd_item is None:
        raise BadTlv("confirmation lacks the OFD response code (1022) or the FD number (1040)")
    if fd_item.as_int != container.fd_number:
        raise BadTlv(f"confirmation FD {fd_item.as_int} differs from its frame FD {container.fd_number}")
    message_item = root.find(TAG_MESSAGE)
    return Ticket(
        container.fn_number,
        container.fd_number,
        code_item.as_int,
        when_item.as_int if when_item else 0,
        message_item.as_str if message_item else "",
        bytes(data),
    )
