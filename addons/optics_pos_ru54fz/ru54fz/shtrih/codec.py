"""Field codecs of the Shtrih-M protocol.

All numbers are unsigned little-endian.  Money is an ``int`` number of kopecks
carried in 5 bytes; FF46 quantities are 6 bytes in millionths (our quantities
are thousandths, so they are scaled by 1000 at the edge).  Printed text is
CP1251, FN TLV strings are CP866 (54fz.md §4.2).
"""

import datetime as _dt

PRINT_ENCODING = "cp1251"
TLV_ENCODING = "cp866"

#: Value of a 5-byte sum meaning "not given, the KKT computes it" (FF46 sum / tax sum).
NOT_GIVEN_5 = 0xFF_FFFF_FFFF


class CodecError(ValueError):
    """Bytes or values that do not fit the field layout."""


def pack_uint(value, size):
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"{value!r} is not an integer")
    if value < 0 or value >= 1 << (8 * size):
        raise CodecError(f"{value} does not fit in {size} byte(s)")
    return value.to_bytes(size, "little")


def unpack_uint(data, offset, size):
    end = offset + size
    if end > len(data):
        raise CodecError(f"need {size} byte(s) at offset {offset}, have {len(data) - offset}")
    return int.from_bytes(data[offset:end], "little"), end


def pack_text(text, encoding=PRINT_ENCODING, max_len=None, fixed=None):
    try:
        raw = text.encode(encoding)
    except UnicodeEncodeError as exc:
        raise CodecError(f"text {text!r} cannot be encoded in {encoding}: {exc.reason}") from None
    if max_len is not None and len(raw) > max_len:
        raise CodecError(f"text is {len(raw)} bytes, at most {max_len} allowed")
    if fixed is not None:
        if len(raw) > fixed:
            raise CodecError(f"text is {len(raw)} bytes, field is {fixed}")
        raw = raw.ljust(fixed, b"\x00")
    return raw


def unpack_text(raw, encoding=PRINT_ENCODING):
    return raw.split(b"\x00", 1)[0].decode(encoding, errors="replace").rstrip()


# --- dates and times -------------------------------------------------------


def pack_date_ymd(d):
    return bytes((d.year - 2000, d.month, d.day))


def pack_date_dmy(d):
    return bytes((d.day, d.month, d.year - 2000))


def pack_time_hm(t):
    return bytes((t.hour, t.minute))


def pack_time_hms(t):
    return bytes((t.hour, t.minute, t.second))


def _date(y, m, d):
    try:
        return _dt.date(2000 + y, m, d)
    except ValueError:
        raise CodecError(f"invalid date bytes {y:02d}-{m:02d}-{d:02d}") from None


def unpack_date_ymd(raw):
    return _date(raw[0], raw[1], raw[2])


def unpack_date_dmy(raw):
    return _date(raw[2], raw[1], raw[0])


def unpack_time(raw):
    try:
        return _dt.time(*raw)
    except ValueError:
        raise CodecError(f"invalid time bytes {raw.hex()}") from None


def pack_datetime5(when):
    """FN date-time: YY MM DD hh mm (FF0A, FF39 use date YMD + time HM)."""
    return pack_date_ymd(when) + pack_time_hm(when)


def unpack_datetime5(raw):
    d = unpack_date_ymd(raw[0:3])
    t = unpack_time(raw[3:5])
    return _dt.datetime.combine(d, t)


# --- TLV (FN document tags) --------------------------------------------------


def tlv(tag, value):
    """One TLV: tag u16 LE, length u16 LE, value.

    ``value`` may be bytes (raw), str (CP866), int (unsigned, minimal
    little-endian length, at least 1 byte — FFD VLN/integer tags), or a list
    of already encoded TLVs (an STLV)."""
    if isinstance(value, (list, tuple)):
        body = b"".join(value)
    elif isinstance(value, str):
        body = pack_text(value, TLV_ENCODING)
    elif isinstance(value, bool):
        body = bytes((1 if value else 0,))
    elif isinstance(value, int):
        if value < 0:
            raise CodecError(f"tag {tag}: negative value")
        body = value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")
    else:
        body = bytes(value)
    if len(body) > 0xFFFF:
        raise CodecError(f"tag {tag}: value of {len(body)} bytes is too long")
    return pack_uint(tag, 2) + pack_uint(len(body), 2) + body


def tlv_u32(tag, value):
    return pack_uint(tag, 2) + pack_uint(4, 2) + pack_uint(value, 4)


def tlv_u8(tag, value):
    return pack_uint(tag, 2) + pack_uint(1, 2) + pack_uint(value, 1)


def parse_tlvs(data):
    """Split a TLV sequence into [(tag, raw_value)]; raises CodecError on truncation."""
    out = []
    offset = 0
    while offset < len(data):
        tag, offset = unpack_uint(data, offset, 2)
        length, offset = unpack_uint(data, offset, 2)
        if offset + length > len(data):
            raise CodecError(f"tag {tag}: length {length} runs past the end")
        out.append((tag, bytes(data[offset : offset + length])))
        offset += length
    return out
