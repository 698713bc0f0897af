"""Shtrih-M classic frames and the byte-level handshake tokens.

    STX(0x02) | LEN | CMD (1 byte, or 0xFF xx) | DATA | LRC
    LEN = len(CMD + DATA), 1..255; LRC = XOR of LEN and every following byte

Control bytes outside frames: ENQ (0x05) asks the device for its state, ACK
(0x06) / NAK (0x15) acknowledge a frame (or, as the answer to ENQ: ACK =
"a reply is prepared/being prepared", NAK = "idle, send a command").

``Decoder`` turns an arbitrary byte stream into events.  It never raises on
input and keeps at most one frame (258 bytes) buffered.  A frame with a bad
checksum is reported and skipped whole (line noise flips bits inside a frame
far more often than in its length byte), so bytes inside it are never taken
for ENQ/ACK/NAK; after silence the reader calls ``reset()`` to drop a frame
that will never complete (the byte timeout of the protocol).
"""

from dataclasses import dataclass

STX = 0x02
ENQ = 0x05
ACK = 0x06
NAK = 0x15
MAX_PAYLOAD = 255


class FrameError(ValueError):
    """A payload that cannot be framed."""


def lrc(data):
    value = 0
    for byte in data:
        value ^= byte
    return value


def encode(payload):
    """Frame ``payload`` (command code bytes + data)."""
    payload = bytes(payload)
    if not 1 <= len(payload) <= MAX_PAYLOAD:
        raise FrameError(f"payload of {len(payload)} bytes: must be 1..{MAX_PAYLOAD}")
    body = bytes((len(payload),)) + payload
    return bytes((STX,)) + body + bytes((lrc(body),))


def split_command(payload):
    """(command code, rest) where the code is 0xFFxx for the two-byte FN family."""
    if not payload:
        raise FrameError("empty payload")
    if payload[0] == 0xFF:
        if len(payload) < 2:
            raise FrameError("truncated two-byte command code")
        return 0xFF00 | payload[1], bytes(payload[2:])
    return payload[0], bytes(payload[1:])


def command_bytes(code):
    if code > 0xFF:
        if code >> 8 != 0xFF:
            raise FrameError(f"command code {code:#x} is not a 1-byte or FFxx code")
        return bytes((0xFF, code & 0xFF))
    return bytes((code,))


@dataclass(frozen=True)
class Event:
    kind: str  # "frame" | "enq" | "ack" | "nak" | "bad"
    payload: bytes = b""
    reason: str = ""


_CONTROL = {ENQ: "enq", ACK: "ack", NAK: "nak"}


class Decoder:
    """Incremental decoder; ``feed()`` returns the complete events so far."""

    def __init__(self):
        self._buf = bytearray()
        self.garbage = 0  # bytes dropped outside any frame

    @property
    def in_frame(self):
        """True while a frame has started but is not complete."""
        return bool(self._buf) and self._buf[0] == STX

    def reset(self):
        """Forget a partial frame (the byte timeout expired)."""
        self._buf.clear()

    def feed(self, data):
        events = []
        self._buf.extend(data)
        buf = self._buf
        while buf:
            first = buf[0]
            if first != STX:
                kind = _CONTROL.get(first)
                if kind:
                    events.append(Event(kind))
                else:
                    self.garbage += 1
                del buf[0]
                continue
            if len(buf) < 2:
                break
            length = buf[1]
            if length == 0:
                events.append(Event("bad", bytes(buf[:2]), "empty frame"))
                del buf[0]
                continue
            if len(buf) < length + 3:
                break
            body = bytes(buf[1 : length + 2])
            if lrc(body) != buf[length + 2]:
                events.append(Event("bad", bytes(buf[: length + 3]), "bad LRC"))
                del buf[: length + 3]
                continue
            events.append(Event("frame", body[1:]))
            del buf[: length + 3]
        return events
