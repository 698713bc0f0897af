"""``ShtrihDriver``: the Shtrih-M classic protocol behind ``FiscalDevice``.

Link discipline (54fz.md §4.2): ENQ -> NAK (idle) / ACK (a reply is pending:
read it, ACK it and drop it as stale); send the frame, expect ACK (NAK ->
resend, silence -> ENQ to learn whether it arrived); wait for the reply frame
within the command's timeout, ACK it; a garbled reply is NAKed and fetched
again with ENQ.  Retries are bounded.  A command whose reply never comes
raises ``TransportError`` and is *never* resent: for a close-receipt the
caller (the till service) settles by reading the FN with ``find_document``.
"""

import contextlib
import datetime as dt
import threading
import time

from .. import errors as E
from .. import ffd
from ..device import FiscalDevice, FiscalResult, FNStatus, FoundDocument
from . import codec
from . import commands as C
from . import models as M
from .errors import NO_DATA, PRINTER_CODES, error_for
from .frame import ACK, ENQ, NAK, Decoder, Event, encode

DEFAULT_TIMEOUTS = {
    "enq": 1.0,  # answer to ENQ
    "ack": 1.0,  # ACK of a sent frame
    "byte": 0.3,  # silence inside a frame / after garbage
    "command": 5.0,  # reply to a non-printing command
    "print": 20.0,  # reply to a printing command
}

MODE_TEXT = {2: "shift open", 3: "shift open, over 24 h", 4: "shift closed", 8: "document open"}
_PAY_SLOTS = (("cash", 1), ("electronic", 2), ("prepayment", 14), ("credit", 15), ("other", 16))
FN_DOC_RECEIPT = 0x04  # FF01 doc_type of an open receipt (JP FSDocType)


def _iso(date, time_=None):
    if time_ is None:
        return date.isoformat(timespec="seconds")
    return dt.datetime.combine(date, time_).isoformat(timespec="seconds")


class ShtrihDriver(FiscalDevice):
    def __init__(self, transport, password=30, timeouts=None, retries=3):
        self.transport = transport
        self.password = int(password)
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.retries = max(1, int(retries))
        self.lock = threading.RLock()
        self._decoder = Decoder()
        self._events = []
        self._shift_open_cache = {}  # (fn serial, shift number) -> ISO time
        self._garbage_mark = 0
        self.stale_replies = 0  # replies drained by the ENQ handshake
        self._caps = None  # DeviceCaps, read once per driver (``capabilities``)

    # ================================================================ link
    def close(self):
        with self.lock:
            self._drop()

    def _drop(self):
        self.transport.close()
        self._decoder.reset()
        self._events.clear()

    def _next_event(self, deadline):
        """Next event before ``deadline``; Event('timeout') when none;
        Event('bad') for a frame cut short or garbage followed by silence."""
        while not self._events:
            left = deadline - time.monotonic()
            if left <= 0:
                return Event("timeout")
            partial = self._decoder.in_frame
            garbage = self._decoder.garbage
            wait = min(left, self.timeouts["byte"]) if partial else left
            data = self.transport.read(512, wait)
            if data:
                self._events.extend(self._decoder.feed(data))
                if not self._events and self._decoder.garbage > garbage and not self._decoder.in_frame:
                    # garbage only: give it one byte-timeout to turn into a frame
                    more = self.transport.read(
                        512, min(self.timeouts["byte"], max(0.0, deadline - time.monotonic()))
                    )
                    if more:
                        self._events.extend(self._decoder.feed(more))
                    elif not self._decoder.in_frame:
                        return Event("bad", reason="garbage")
            elif partial:
                self._decoder.reset()
                return Event("bad", reason="frame cut short")
        return self._events.pop(0)

    def _write(self, data):
        self.transport.write(data)

    def _sync(self):
        """ENQ handshake: returns when the device is idle (NAK)."""
        for _ in range(self.retries + 2):
            self._write(bytes((ENQ,)))
            deadline = time.monotonic() + self.timeouts["enq"]
            while True:
                ev = self._next_event(deadline)
                if ev.kind == "nak":
                    return
                if ev.kind == "ack":
                    # a reply is pending from an earlier command: take it and drop it
                    self._drain_stale()
                    break
                if ev.kind == "frame":
                    self._write(bytes((ACK,)))
                    self.stale_replies += 1
                    break
                if ev.kind in ("timeout", "bad"):
                    break
                # a stray ENQ from the device side: ignore
        raise E.TransportError("the KKT does not answer ENQ", stage="handshake")

    def _drain_stale(self):
        deadline = time.monotonic() + self.timeouts["print"]
        while True:
            ev = self._next_event(deadline)
            if ev.kind == "frame":
                self._write(bytes((ACK,)))
                self.stale_replies += 1
                return
            if ev.kind in ("timeout", "bad"):
                self._write(bytes((NAK,)))
                return

    def _send_frame(self, frame):
        for _ in range(self.retries):
            self._garbage_mark = self._decoder.garbage
            self._write(frame)
            deadline = time.monotonic() + self.timeouts["ack"]
            ev = self._next_event(deadline)
            while ev.kind in ("frame", "bad", "enq"):
                ev = self._next_event(deadline)
            if ev.kind == "ack":
                return
            if ev.kind == "nak":
                continue
            # no acknowledgement: ask whether the frame arrived before resending it
            self._write(bytes((ENQ,)))
            ev = self._next_event(time.monotonic() + self.timeouts["enq"])
            if ev.kind == "ack":
                return  # received and being executed: the reply follows
            if ev.kind == "nak":
                continue
            raise E.TransportError("the KKT did not acknowledge the command", stage="send")
        raise E.TransportError("the KKT rejected the command frame repeatedly", stage="send")

    def _await_reply(self, cmd, timeout):
        deadline = time.monotonic() + timeout
        bad = 0
        noisy = self._decoder.garbage > self._garbage_mark  # stray bytes instead of the reply
        while True:
            wait = min(deadline, time.monotonic() + self.timeouts["enq"]) if noisy else deadline
            ev = self._next_event(wait)
            if ev.kind == "frame":
                self._write(bytes((ACK,)))
                return ev.payload
            if ev.kind == "bad" or (ev.kind == "timeout" and noisy and time.monotonic() < deadline):
                bad += 1
                if bad > self.retries:
                    raise E.TransportError(
                        f"garbled replies to {cmd.label}: giving up", stage="reply", command=cmd.label
                    )
                # NAK the garbled reply and ask for it again (the device resends, it does
                # not execute the command a second time)
                self._decoder.reset()
                self._events.clear()
                self._write(bytes((NAK, ENQ)))
                deadline = max(deadline, time.monotonic() + self.timeouts["enq"] + self.timeouts["byte"])
                noisy = False
                self._garbage_mark = self._decoder.garbage
                continue
            if ev.kind == "timeout":
                raise E.TransportError(
                    f"no reply from the KKT to {cmd.label} ({cmd.name}); the command may or may "
                    f"not have been executed",
                    stage="reply",
                    command=cmd.label,
                )
            noisy = True  # ACK/NAK/ENQ bytes: the reply should follow at once

    def _transact(self, cmd, payload, timeout):
        frame = encode(payload)
        try:
            if not self.transport.is_open:
                self.transport.open()
            try:
                self._sync()
            except E.TransportError:
                # nothing of this command was sent yet: one fresh connection is safe
                self._drop()
                self.transport.open()
                self._sync()
            self._send_frame(frame)
            reply = self._await_reply(cmd, timeout)
        except E.TransportError:
            self._drop()
            raise
        return reply

    def _exchange(self, code, timeout=None, **values):
        """Run one command; returns the parsed reply or raises a typed error."""
        cmd = C.get(code)
        try:
            payload = cmd.build(password=self.password, **values)
        except (C.LayoutError, ValueError) as exc:
            raise E.DocumentInvalid(f"cannot encode {cmd.label} ({cmd.name}): {exc}") from None
        if timeout is None:
            timeout = self.timeouts["print" if cmd.printing else "command"]
        with self.lock:
            reply = self._transact(cmd, payload, timeout)
            try:
                rcode, err, data = C.parse_reply_payload(reply)
            except (C.LayoutError, ValueError) as exc:
                raise E.TransportError(f"malformed reply to {cmd.label}: {exc}") from None
            if rcode != cmd.code:
                self._drop()
                raise E.TransportError(
                    f"reply to command {rcode:#x} while waiting for {cmd.label}",
                    stage="reply",
                    command=cmd.label,
                )
            if err:
                raise self._refusal(err, cmd)
            try:
                return cmd.parse_reply(data)
            except C.LayoutError as exc:
                raise E.TransportError(f"malformed reply to {cmd.label}: {exc}") from None

    def _refusal(self, err, cmd):
        cover = paper = None
        if err in PRINTER_CODES:
            with contextlib.suppress(E.FiscalError):
                flags = self._exchange(0x10)["flags"]
                cover = bool(flags & (1 << 10))
                paper = bool(flags & (1 << 7)) and bool(flags & (1 << 1))
        return error_for(err, cmd.label, cover_open=cover, paper_present=paper)

    # ================================================================ capabilities
    def capabilities(self):
        """What this KKT is and how it must be driven (``models.DeviceCaps``), read at the
        first use: the model (FC), where it keeps its settings (F7), its FFD version and its
        tax calculation mode (0x1F).  A KKT computing VAT on the receipt total is switched to
        'per operation' (0x1E), so the FD's VAT sums are the items' 1200 sums the till
        computed and printed."""
        with self.lock:
            if self._caps is None:
                self._caps = self._read_capabilities()
            return self._caps

    def _read_capabilities(self):
        try:
            metrics = self._exchange(0xFC)
            model = M.caps_for(metrics["model"], metrics["name"].strip())
        except E.DeviceError:  # firmware without FC: a desktop model
            model = M.caps_for(0)
        try:
            params = self._exchange(0xF7, request_type=1)
        except E.DeviceError:
            return M.DeviceCaps(model=model)
        ffd_version = M.FFD_12
        if params.get("ffd_table") and params.get("ffd_field"):
            ffd_version = self._read_table_int(params["ffd_table"], params["ffd_field"], M.FFD_12)
        tax_field = params["tax_mode_field"]
        tax_mode = self._read_table_int(1, tax_field, None) if tax_field else None
        if tax_mode is not None and tax_mode != M.TAX_PER_ITEM:
            self._exchange(0x1E, table=1, row=1, field=tax_field, value=bytes((M.TAX_PER_ITEM,)))
            tax_mode = self._read_table_int(1, tax_field, None)
        return M.DeviceCaps(model=model, ffd_version=ffd_version, tax_mode=tax_mode, tax_mode_field=tax_field)

    def _read_table_int(self, table, fld, default):
        try:
            value = self._exchange(0x1F, table=table, row=1, field=fld)["value"]
        except E.DeviceError:
            return default
        return int.from_bytes(value, "little") if value else default

    # ================================================================ status
    def status(self):
        with self.lock:
            caps = self.capabilities()
            short = self._exchange(0x10)
            long = self._exchange(0x11)
        mode = short["mode"] & 0x0F
        flags = short["flags"]
        return {
            "mode": mode,
            "mode_text": MODE_TEXT.get(mode, f"mode {mode}"),
            "submode": short["submode"],
            "flags": flags,
            "paper_present": bool(flags & (1 << 7)) and bool(flags & (1 << 1)),
            "cover_open": bool(flags & (1 << 10)),
            "kkt_time": _iso(long["date"], long["time"]),
            "serial": str(long["serial"]),
            "inn": str(long["inn"]),
            "shift_number": long["shift_number"],
            "doc_number": long["doc_number"],
            "firmware": f"{long['fw_build']}",
            **caps.to_dict(),
        }

    def _fn(self):
        return self._exchange(0xFF01)

    def fn_brief(self):
        """FN serial, last FD number, open document and shift state from FF01 alone:
        what the till's sale path records before a document (one exchange instead of
        the four of ``fn_status``).  Other fields are left empty."""
        with self.lock:
            fn = self._fn()
        return FNStatus(
            fn_serial=fn["fn_serial"],
            last_fd_number=fn["last_fd"],
            shift_open=bool(fn["shift_open"]),
            shift_number=0,
            shift_opened_at=None,
            open_document=fn["doc_type"],
            unconfirmed_count=0,
            oldest_unconfirmed_at=None,
        )

    def fn_status(self):
        with self.lock:
            fn = self._fn()
            ofd = self._exchange(0xFF39)
            params = self._exchange(0xFF40)
            try:
                expiry = self._exchange(0xFF03)["date"].isoformat()
            except E.DeviceError:
                expiry = None
            try:
                free = self._exchange(0xFF63)["free_docs"]
                used_pct = (fn["last_fd"] * 100) // max(1, fn["last_fd"] + free)
            except E.DeviceError:  # firmware without FF63
                used_pct = 0
            opened_at = None
            if fn["shift_open"]:
                opened_at = self._shift_opened_at(fn["fn_serial"], params["shift_number"], fn["last_fd"])
        queue = ofd["queue"]
        return FNStatus(
            fn_serial=fn["fn_serial"],
            last_fd_number=fn["last_fd"],
            shift_open=bool(fn["shift_open"]),
            shift_number=params["shift_number"],
            shift_opened_at=opened_at,
            open_document=fn["doc_type"],
            unconfirmed_count=queue,
            oldest_unconfirmed_at=_iso(ofd["date"], ofd["time"]) if queue else None,
            first_unconfirmed_fd=ofd["first_fd"] if queue else None,
            fn_valid_until=expiry,
            fn_memory_used_pct=used_pct,
        )

    def _shift_opened_at(self, fn_serial, shift_number, last_fd, max_scan=5000):
        key = (fn_serial, shift_number)
        if key in self._shift_open_cache:
            return self._shift_open_cache[key]
        fd = last_fd
        while fd > 0 and last_fd - fd < max_scan:
            doc = self.find_document(fd)
            if doc and doc.fd_type == 2:
                self._shift_open_cache[key] = doc.doc_time
                return doc.doc_time
            fd -= 1
        return None

    # ================================================================ documents
    def find_document(self, fd_number):
        try:
            rep = self._exchange(0xFF0A, fd_number=int(fd_number))
        except E.DeviceError as exc:
            if exc.device_code == NO_DATA:
                return None
            raise
        total = operation = 0
        tail = rep["tail"]
        if rep["fd_type"] in (3, 31) and len(tail) >= 6:
            operation = tail[0]
            total = int.from_bytes(tail[1:6], "little")
        return FoundDocument(
            fd_number=rep["fd_number"],
            fd_type=rep["fd_type"],
            fiscal_sign=rep["fiscal_sign"],
            doc_time=_iso(rep["when"]),
            total=total,
            operation=operation,
            ofd_confirmed=bool(rep["ticket"]),
        )

    def _document_result(self, fd_type):
        """FiscalResult of the FN's last document (after E0 / 0x41, which return no FD data)."""
        fn = self._fn()
        try:
            rep = self._exchange(0xFF0A, fd_number=fn["last_fd"])
        except E.DeviceError as exc:
            if exc.device_code != NO_DATA:
                raise
            rep = None
        if rep is None or rep["fd_type"] != fd_type:
            raise E.DeviceError(f"the fiscal drive's last document is not of type {fd_type}")
        shift = int.from_bytes(rep["tail"][:2], "little") if len(rep["tail"]) >= 2 else 0
        return FiscalResult(
            fd_number=rep["fd_number"],
            fiscal_sign=rep["fiscal_sign"],
            fn_serial=fn["fn_serial"],
            shift_number=shift,
            doc_time=_iso(rep["when"]),
            fd_type=fd_type,
        )

    def _send_tlvs(self, tlvs, code=0xFF0C):
        for item in tlvs:
            self._exchange(code, tlv=item)

    @staticmethod
    def _cashier_tlvs(cashier, cashier_inn):
        out = []
        if cashier:
            out.append(_text_tlv(1021, cashier, 64))
        if cashier_inn:
            out.append(_text_tlv(1203, cashier_inn.ljust(12), 12))
        return out

    def _cancel_open(self, doc_type):
        """Cancel the document FF01 reports open (``doc_type``): a receipt with 0x88, any
        other FN document (a begun shift report, a correction receipt) with FF08 - 0x88 does
        not reach those (54fz.md §2.4; javapos_shtrih issue #115: fsCancelDocument).
        Returns True when something was cancelled."""
        if not doc_type:
            return False
        if doc_type == FN_DOC_RECEIPT:
            try:
                self._exchange(0x88)
                return True
            except E.DeviceError as exc:
                if exc.device_code != 0x55:  # the KKT has no receipt: try the FN
                    raise
        self._exchange(0xFF08)
        return True

    def _cancel_quietly(self, original):
        """Cancel what this call opened; keep the original error for the caller."""
        try:
            self._cancel_open(self._fn()["doc_type"])
        except E.FiscalError as exc:
            original.details["cancel_failed"] = exc.message

    def _shift_document(self, begin, finish, fd_type, tlvs):
        """FF41/FF42 + TLVs + E0/0x41.  A refusal after which the FN nevertheless holds the
        new FD (printing failed after the fiscal sign) is a success, as for receipts."""
        before = self._fn()["last_fd"]
        self._exchange(begin)
        try:
            self._send_tlvs(tlvs)
            self._exchange(finish)
        except E.DeviceError as exc:
            try:
                formed = self._fn()["last_fd"] > before
            except E.FiscalError:
                formed = False
            if not formed:
                self._cancel_quietly(exc)
                raise
            result = self._document_result(fd_type)
            result.extra["device_error"] = exc.to_dict()
            return result
        except E.TransportError as exc:
            exc.details.update(expected_fd=before + 1, stage="close")
            raise
        return self._document_result(fd_type)

    def open_shift(self, cashier, cashier_inn=""):
        tlvs = self._cashier_tlvs(cashier, cashier_inn)
        with self.lock:
            result = self._shift_document(0xFF41, 0xE0, 2, tlvs)
        self._shift_open_cache[(result.fn_serial, result.shift_number)] = result.doc_time
        return result

    def close_shift(self, cashier, cashier_inn=""):
        tlvs = self._cashier_tlvs(cashier, cashier_inn)
        with self.lock:
            counters = self.shift_counters()
            result = self._shift_document(0xFF42, 0x41, 5, tlvs)
        result.extra = {**counters, **result.extra}
        return result

    def cancel_open_document(self):
        with self.lock:
            return self._cancel_open(self._fn()["doc_type"])

    # ---------------------------------------------------------------- receipts
    def fiscalise(self, document):
        """A receipt, refund or correction receipt.  On an FFD 1.2 KKT a correction receipt
        is built like a receipt (fr_drv_ng issues #150, #216): FF35 opens it, 1173 and 1174
        {1178, 1179} go with FF0C, the items with FF46 (their VAT, 1214, 1212), FF45 closes it
        (FD 31).  Only an FFD 1.05 KKT gets the totals-only FF4A."""
        caps = self.capabilities()
        correction = hasattr(document, "correction_type")
        if correction and not caps.ffd12:
            return self._fiscalise_correction_105(document)
        items = _prepare_items(document, caps.model)
        doc_tlvs = self._prepare_document_tlvs(document, correction)
        close_values = _prepare_close_values(document)
        tags_first = caps.model.tags_first

        with self.lock:
            fn = self._before_document()
            params = self._exchange(0xFF40)
            opened = False
            try:
                if correction:
                    opened = True
                    self._exchange(0xFF35)
                    self._send_tlvs(doc_tlvs)
                marks = self._check_marking(document)
                for index, (values, item_tlvs) in enumerate(items):
                    opened = True  # even a lost reply to the first item may have opened it
                    if tags_first:  # cash core / Shtrih-Mobile bind FF4D to the next FF46
                        self._send_tlvs(item_tlvs, code=0xFF4D)
                    self._exchange(0xFF46, operation=int(document.operation), **values)
                    if not tags_first:
                        self._send_tlvs(item_tlvs, code=0xFF4D)
                    if index in marks:  # after the item and all its tags
                        self._exchange(0xFF67, km=marks[index])
                if not correction:
                    self._send_tlvs(doc_tlvs)
            except E.FiscalError as exc:
                if opened:
                    self._cancel_quietly(exc)
                if any(getattr(i, "marking_code", "") for i in document.items):
                    self._clear_marking_quietly()
                raise
            expected_fd = fn["last_fd"] + 1
            try:
                rep = self._exchange(0xFF45, **close_values)
            except E.DeviceError as exc:
                formed = self._formed_despite(exc, expected_fd, fn)
                if formed is None:
                    raise
                formed.receipt_number = params["receipt_number"]
                formed.shift_number = params["shift_number"]
                formed.qr = _qr(formed, document)
                return formed
            except E.TransportError as exc:
                # the reply is lost: fiscalised or not is for the caller to settle
                exc.details.update(expected_fd=expected_fd, fn_serial=fn["fn_serial"], stage="close")
                raise
        when = rep.get("date"), rep.get("time")
        doc_time = _iso(*when) if when[0] else None
        result = FiscalResult(
            fd_number=rep["fd_number"],
            fiscal_sign=rep["fiscal_sign"],
            fn_serial=fn["fn_serial"],
            shift_number=params["shift_number"],
            doc_time=doc_time,
            receipt_number=params["receipt_number"],
            fd_type=document.fd_type,
            extra={"change": rep["change"]},
        )
        if doc_time is None:
            found = self.find_document(rep["fd_number"])
            result.doc_time = found.doc_time if found else ""
        result.qr = _qr(result, document)
        return result

    def _prepare_document_tlvs(self, document, correction):
        """The receipt's own tags (not the items'): correction basis, cashier, buyer, 1192."""
        doc_tlvs = _correction_tlvs(document) if correction else []
        doc_tlvs += self._cashier_tlvs(document.cashier, document.cashier_inn)
        if document.buyer_contact:
            doc_tlvs.append(_text_tlv(1008, document.buyer_contact, 64))
        if document.additional:
            doc_tlvs.append(_text_tlv(1192, document.additional, 16))
        return doc_tlvs

    def _check_marking(self, document):
        """FF61 (check) and FF69 (accept) for every marked item, before the receipt opens;
        returns {item index: the code's bytes} for FF67.  A code the marking operator
        reports wrong for this operation is rejected (FF69 0) and the receipt refused."""
        from ..marking import MarkingRefused

        status = 3 if int(document.operation) in (2, 4) else 1
        marks = {}
        if any(getattr(i, "marking_code", "") for i in document.items):
            # a check left unanswered by an interrupted attempt would refuse our FF61
            self._exchange(0xFF69, action=2)
        for index, item in enumerate(document.items):
            raw = getattr(item, "marking_code", "")
            if not raw:
                continue
            km = raw.encode("ascii", errors="strict") if raw.isascii() else None
            if km is None or len(km) > 255:
                raise E.DocumentInvalid(
                    f"item {index + 1}: the marking code is not a DataMatrix text",
                    field=f"items[{index}].marking_code",
                )
            rep = self._exchange(0xFF61, status=status, mode=0, km_len=len(km), tlv_len=0, data=km)
            server = rep["server"]
            if (
                rep["params_len"] >= 2
                and len(server) >= 1
                and server[0] & (1 << 2)
                and not server[0] & (1 << 3)
            ):
                self._exchange(0xFF69, action=0)
                raise MarkingRefused(
                    f"item {index + 1} ({item.name}): the marking operator refused "
                    f"the code (status incorrect for this operation)",
                    device_code="oism_incorrect",
                    item=index,
                )
            self._exchange(0xFF69, action=1)
            marks[index] = km
        return marks

    def _clear_marking_quietly(self):
        with contextlib.suppress(E.FiscalError):
            self._exchange(0xFF69, action=2)

    def _formed_despite(self, exc, expected_fd, fn):
        """After a refused close: did the FN form the document anyway (a printer failure
        reported after the fiscal sign)?  Returns its FiscalResult, or cancels the open
        receipt and returns None.  Never lets a fiscalised document look refused."""
        try:
            after = self._fn()
        except E.FiscalError:
            raise E.TransportError(
                f"the KKT refused the close ({exc.message}) and its state cannot be read",
                stage="close",
                expected_fd=expected_fd,
                fn_serial=fn["fn_serial"],
            ) from exc
        if after["last_fd"] >= expected_fd:
            found = self.find_document(expected_fd)
            if found is not None:
                return FiscalResult(
                    fd_number=found.fd_number,
                    fiscal_sign=found.fiscal_sign,
                    fn_serial=fn["fn_serial"],
                    shift_number=0,
                    doc_time=found.doc_time,
                    fd_type=found.fd_type,
                    extra={"device_error": exc.to_dict()},
                )
        self._cancel_quietly(exc)
        return None

    def _before_document(self):
        fn = self._fn()
        if fn["doc_type"]:
            raise error_for(0x4A, "FF01")
        if not fn["shift_open"]:
            raise error_for(0x3D, "FF01")
        return fn

    def _fiscalise_correction_105(self, document):
        """FFD 1.05: FF35, FF0C (1174 = {1178, 1179}, cashier), FF4A with the totals
        [JP PrinterTest.printCorrectionReceipt2].  FFD 1.05 knows corrections of a sale or an
        expense only: a KKT refuses a refund correction with 'wrong operation' (0x5E,
        javapos_shtrih issue #115)."""
        if document.operation not in (1, 3):
            raise E.DocumentInvalid(
                "this KKT runs FFD 1.05, which has no refund correction receipts (tag 1054 = 2/4); "
                "register a refund instead or re-register the KKT for FFD 1.2",
                field="operation",
            )
        pays = document.payments
        values = {
            "correction_type": int(document.correction_type),
            "operation": int(document.operation),
            "total": int(document.total),
            "tax_system": int(document.tax_system),
        }
        for i, (name, _) in enumerate(_PAY_SLOTS, start=1):
            values[f"pay{i}"] = int(getattr(pays, name, 0) or 0)
        values.update({f"tax{i}": 0 for i in range(1, 7)})
        tlvs = _correction_tlvs(document)[1:]  # 1173 travels in FF4A itself
        tlvs += self._cashier_tlvs(document.cashier, document.cashier_inn)
        if document.additional:
            tlvs.append(_text_tlv(1192, document.additional, 16))
        with self.lock:
            fn = self._before_document()
            self._exchange(0xFF35)
            try:
                self._send_tlvs(tlvs)
            except E.FiscalError as exc:
                self._cancel_quietly(exc)
                raise
            try:
                rep = self._exchange(0xFF4A, **values)
            except E.DeviceError as exc:
                formed = self._formed_despite(exc, fn["last_fd"] + 1, fn)
                if formed is None:
                    raise
                params = self._exchange(0xFF40)
                formed.shift_number = params["shift_number"]
                formed.receipt_number = params["receipt_number"] - 1
                return formed
            except E.TransportError as exc:
                exc.details.update(expected_fd=fn["last_fd"] + 1, fn_serial=fn["fn_serial"], stage="close")
                raise
            params = self._exchange(0xFF40)
            found = self.find_document(rep["fd_number"])
        return FiscalResult(
            fd_number=rep["fd_number"],
            fiscal_sign=rep["fiscal_sign"],
            fn_serial=fn["fn_serial"],
            shift_number=params["shift_number"],
            doc_time=found.doc_time if found else "",
            receipt_number=rep["receipt_number"],
            fd_type=31,
        )

    # ---------------------------------------------------------------- cash and reports
    def _cash(self, code, amount):
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise E.RequestInvalid(f"cash amount must be a positive number of kopecks, got {amount!r}")
        with self.lock:
            rep = self._exchange(code, amount=amount)
            drawer = self._exchange(0x1A, register=C.REG_CASH_IN_DRAWER)["value"]
        return {"amount": amount, "doc_number": rep["doc_number"], "cash_in_drawer": drawer}

    def cash_in(self, amount):
        return self._cash(0x50, amount)

    def cash_out(self, amount):
        return self._cash(0x51, amount)

    def x_report(self):
        with self.lock:
            counters = self.shift_counters()
            self._exchange(0x40)
        return counters

    def shift_counters(self):
        with self.lock:
            params = self._exchange(0xFF40)

            def reg(number):
                return self._exchange(0x1A, register=number)["value"]

            def opreg(number):
                return self._exchange(0x1B, register=number)["value"]

            receipts = {}
            for op, name in C.OPERATIONS.items():
                index = C.REG_OP_INDEX[op]
                row = {"count": opreg(C.OPREG_RECEIPT_COUNT_BASE + index)}
                for pay, slot in _PAY_SLOTS:
                    row[pay] = reg(C.payment_register(index, slot))
                row["total"] = sum(row[pay] for pay, _ in _PAY_SLOTS)
                receipts[name] = row
            return {
                "shift_number": params["shift_number"],
                "shift_open": bool(params["shift_open"]),
                "receipts": receipts,
                "cash_in": {"count": opreg(C.OPREG_CASH_IN_COUNT), "total": reg(C.REG_CASH_IN_TOTAL)},
                "cash_out": {"count": opreg(C.OPREG_CASH_OUT_COUNT), "total": reg(C.REG_CASH_OUT_TOTAL)},
                "voided": {"count": opreg(C.OPREG_VOID_COUNT)},
                "cash_in_drawer": reg(C.REG_CASH_IN_DRAWER),
            }

    # ---------------------------------------------------------------- OFD through the host
    def read_ofd_message(self):
        with self.lock:
            status = self._exchange(0xFF39)
            if not status["queue"]:
                return None
            buf = self._exchange(0xFF30)
            size, block = buf["size"], buf["block_size"]
            if not size or not block:
                return None
            data = bytearray()
            while len(data) < size:
                chunk = self._exchange(0xFF31, offset=len(data), size=min(block, size - len(data)))["data"]
                if not chunk:
                    raise E.TransportError("the KKT returned an empty OFD message block")
                data += chunk
        return status["first_fd"], bytes(data[:size])

    def write_ofd_ticket(self, ticket):
        ticket = bytes(ticket)
        if not ticket or len(ticket) > 0xFFFF:
            raise E.RequestInvalid(f"OFD ticket of {len(ticket)} bytes")
        with self.lock:
            block = self._exchange(0xFF32, size=len(ticket))["block_size"]
            block = min(block or 128, 240)
            for offset in range(0, len(ticket), block):
                self._exchange(0xFF33, offset=offset, data=ticket[offset : offset + block])


# ==================================================================== helpers
def _text_tlv(tag, text, max_len):
    try:
        raw = codec.pack_text(str(text), codec.TLV_ENCODING, max_len=max_len)
    except codec.CodecError as exc:
        raise E.DocumentInvalid(f"tag {tag}: {exc}", field=str(tag)) from None
    return codec.tlv(tag, raw)


def _prepare_close_values(document):
    """FF45's fields: the payments by slot, no tax sums, the tax system."""
    pays = document.payments
    close_values = {f"pay{i}": 0 for i in range(1, 17)}
    for name, slot in _PAY_SLOTS:
        close_values[f"pay{slot}"] = int(getattr(pays, name, 0) or 0)
    # the KKT sums the items' VAT (1200, sent with each FF46): tax mode 'per operation',
    # set by ``capabilities``; FF45 has no slots for 5/7/22 % anyway
    close_values.update({f"tax{i}": 0 for i in range(1, 7)})
    close_values.update(rounding=0, tax_system=int(document.tax_system), text="")
    return close_values


def _prepare_items(document, model):
    """FF46 values and the FF4D TLVs of each item; the VAT byte is the model's."""
    if not document.items:
        raise E.DocumentInvalid("the receipt has no items", field="items")
    out = []
    for index, item in enumerate(document.items):
        tax = model.vat_byte(item.vat)
        if tax is None:
            raise E.DocumentInvalid(
                f"item {index + 1}: VAT code {item.vat!r} has no Shtrih tax code", field=f"items[{index}].vat"
            )
        try:
            name = codec.pack_text(item.name, codec.PRINT_ENCODING, max_len=128)
        except codec.CodecError as exc:
            raise E.DocumentInvalid(f"item {index + 1}: name: {exc}", field=f"items[{index}].name") from None
        if item.quantity <= 0 or item.price < 0 or item.amount < 0:
            raise E.DocumentInvalid(
                f"item {index + 1}: quantity, price and sum must be positive", field=f"items[{index}]"
            )
        out.append(
            (
                {
                    "quantity": item.quantity * 1000,
                    "price": item.price,
                    "amount": item.amount,
                    "tax_amount": item.vat_amount if item.vat_amount else codec.NOT_GIVEN_5,
                    "tax": tax,
                    "department": 1,
                    "payment_method": item.payment_method,
                    "subject": item.subject,
                    "name": name.decode(codec.PRINT_ENCODING),
                },
                _item_tlvs(item, index),
            )
        )
    return out


def _marking_tlvs(item, index):
    """FF4D tags of a marked item besides its code (the code itself goes with FF67 after
    them, 54fz.md §3.2): the permissive-mode requisite 1260 {1262, 1263, 1264, 1265} when
    the till's check answered (ru54fz/marking.py)."""
    if item.subject in ffd.MARKED_SUBJECTS and not getattr(item, "marking_code", ""):
        raise E.DocumentInvalid(
            f"item {index + 1}: 1212 = {item.subject} needs its marking code",
            field=f"items[{index}].marking_code",
        )
    check = getattr(item, "marking_check", None)
    if not getattr(item, "marking_code", "") or check is None or not check.industry_value():
        return []
    from ..marking import PERMISSIVE_DATE, PERMISSIVE_FOIV, PERMISSIVE_NUMBER

    return [
        codec.tlv(
            1260,
            [
                codec.tlv(1262, PERMISSIVE_FOIV),
                codec.tlv(1263, PERMISSIVE_DATE),
                codec.tlv(1264, PERMISSIVE_NUMBER),
                _text_tlv(1265, check.industry_value(), 256),
            ],
        )
    ]


def _correction_tlvs(document):
    """1173 and 1174 {1178 the corrected settlement's date at 00:00 as unixtime, 1179 the
    tax authority's order number} of a correction receipt (54fz.md §1.3)."""
    try:
        day = dt.date.fromisoformat(document.basis_date)
    except (TypeError, ValueError):
        raise E.DocumentInvalid(
            f"basis date {document.basis_date!r} is not an ISO date", field="basis_date"
        ) from None
    # FN times are local times written as unixtime: the date's 00:00 is its UTC midnight stamp
    stamp = int(dt.datetime(day.year, day.month, day.day, tzinfo=dt.timezone.utc).timestamp())
    basis = [codec.tlv_u32(1178, stamp)]
    if document.basis_number:
        basis.append(_text_tlv(1179, document.basis_number, 32))
    return [codec.tlv_u8(1173, int(document.correction_type)), codec.tlv(1174, basis)]


#: 1163 (product code) sub-tag by barcode length: EAN-8 1301, EAN-13 1302, ITF-14 1303.
_PRODUCT_CODE_TAGS = {8: 1301, 13: 1302, 14: 1303}


def _item_tlvs(item, index=0):
    """TLVs bound to the item through FF4D: 2108 when not 'pieces' (0), 1163 when known."""
    out = _marking_tlvs(item, index)
    measure = getattr(item, "measure", 0) or 0
    if measure:
        out.append(codec.tlv_u8(2108, measure))
    code = getattr(item, "product_code", "") or ""
    if code and not getattr(item, "marking_code", ""):  # never 1163 next to a marking code
        tag = _PRODUCT_CODE_TAGS.get(len(code))
        if tag is None or not code.isdigit():
            raise E.DocumentInvalid(
                f"product code {code!r} is not an EAN-8, EAN-13 or ITF-14", field="product_code"
            )
        out.append(codec.tlv(1163, [codec.tlv(tag, code)]))
    return out


def _qr(result, document):
    try:
        return ffd.qr_text(result, document.total, document.operation)
    except Exception:
        return ""
