"""The emulated KKT and its fiscal drive (FN): state, rules and commands.

State that a real FN keeps across power cycles (registration, shift, the
archive with fiscal signs and OFD confirmations, counters) is persisted to a
JSON file when one is given; faults are run-time only.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import os
import threading
import time
from collections import Counter, OrderedDict

from .. import ffd
from ..ofd import protocol as ofdp
from ..shtrih import codec
from ..shtrih import commands as C
from ..shtrih import models as M
from .marking_fn import FnMarking

BLOCK_SIZE = 128
OFD_LIMIT = dt.timedelta(days=30)
SHIFT_LIMIT = dt.timedelta(hours=24)
#: FN "current document" codes (FF01 doc_type)
DOC_CODES = {"shift_open": 0x02, "receipt": 0x04, "shift_close": 0x08, "correction": 0x14}


#: Device profiles: which real KKT the emulator behaves like.  ``strict`` profiles refuse,
#: with the device's error codes, what that model refuses (docs/kkt_shtrih_protocol.md §5.1);
#: ``generic`` is the fiscal drive alone with a lenient KKT in front of it, for a second
#: protocol front-end that drives the FN model through ``execute`` (the ATOL emulator).
#: ``tax_mode_field`` / ``ffd_table`` / ``ffd_field`` are where this emulated firmware keeps
#: those settings (F7 tells the host; real firmware has its own numbers).
PROFILES = {
    "generic": {
        "model": 250,
        "strict": False,
        "ffd_version": M.FFD_12,
        "tax_mode": M.TAX_PER_ITEM,
        "tax_mode_field": 17,
        "ffd_table": 17,
        "ffd_field": 17,
    },
    "shtrih-m-ptk": {
        "model": 239,
        "strict": True,
        "ffd_version": M.FFD_12,
        "tax_mode": M.TAX_PER_ITEM,
        "tax_mode_field": 17,
        "ffd_table": 17,
        "ffd_field": 17,
    },
    "shtrih-nano": {
        "model": 152,
        "strict": True,
        "ffd_version": M.FFD_12,
        "tax_mode": M.TAX_ON_TOTAL,
        "tax_mode_field": 15,
        "ffd_table": 10,
        "ffd_field": 29,
    },
    "cashcore": {
        "model": 45,
        "strict": True,
        "ffd_version": M.FFD_12,
        "tax_mode": M.TAX_PER_ITEM,
        "tax_mode_field": 11,
        "ffd_table": 10,
        "ffd_field": 29,
    },
}
#: The profiles of real models (the driver tests run against each of them).
DEVICE_PROFILES = ("shtrih-m-ptk", "shtrih-nano", "cashcore")

#: KKT error "wrong operation" (javapos_shtrih issue #115: FF4A for a refund correction
#: -> 94 "ККТ: Неверная операция").
WRONG_OPERATION = 0x5E
#: KKT error "command not supported in this implementation" (fr_drv_ng issue #5: operation
#: TLVs sent on the wrong side of the operation -> 55).
NOT_SUPPORTED = 0x37


#: Commands that only build the open document: it lives in memory until the
#: document is formed or cancelled (an emulator restart drops an unfinished receipt).
VOLATILE = frozenset({0xFF0C, 0xFF35, 0xFF41, 0xFF42, 0xFF46, 0xFF4D, 0xFF32, 0xFF33})
#: Commands that take no password (FC, F7: vendor driver ReadDeviceMetrics / ReadPrinterModelParameters).
NO_PASSWORD = frozenset({0xFC, 0xF7})


class Refused(Exception):
    """The command is refused with a Shtrih error byte."""

    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _iso(when):
    return when.isoformat(timespec="seconds")


def _parse(text):
    return dt.datetime.fromisoformat(text)


_PAYMENT_TAGS = {1: 1031, 2: 1081, 14: 1215, 15: 1216, 16: 1217}


def _payment_tlvs(pays, change):
    out = []
    for slot, tag in _PAYMENT_TAGS.items():
        amount = pays.get(slot, 0) - (change if slot == 1 else 0)
        out.append(ofdp.tlv_vln(tag, max(0, amount)))
    return out


def _fvln(tag, value, point):
    body = bytes((point,)) + value.to_bytes(max(1, (value.bit_length() + 7) // 8), "little")
    return ofdp.tlv(tag, body)


def _item_tlv(item):
    """Tag 1059 (item) as the FN would put it in the document."""
    children = [
        ofdp.tlv(1030, item["name"][:128]),
        ofdp.tlv_vln(1079, item["price"]),
        _fvln(1023, item["qty"] // 1000, 3),
        ofdp.tlv_vln(1043, item["amount"]),
        ofdp.tlv_u8(1199, item["vat"]),
        ofdp.tlv_u8(1214, item["pm"]),
        ofdp.tlv_u8(1212, item["subject"]),
    ]
    children += _raw_tlvs(item.get("tlvs", []))
    return ofdp.tlv(1059, children)


def _raw_tlvs(pairs):
    return [ofdp.tlv(tag, bytes.fromhex(value)) for tag, value in pairs]


def _tables(profile):
    """The table fields this emulated firmware has: 'table,row,field' -> [value, width]."""
    p = PROFILES[profile]
    return {
        f"1,1,{p['tax_mode_field']}": [p["tax_mode"], 1],
        f"{p['ffd_table']},1,{p['ffd_field']}": [p["ffd_version"], 1],
    }


def fresh_state(
    fn_serial="9999078900012345",
    inn="7701234567",
    reg_number="0000000001012345",
    kkt_serial=12345678,
    tax_systems=0x03,
    password=30,
    now=None,
    fn_capacity=250000,
    profile="generic",
):
    if profile not in PROFILES:
        raise ValueError(f"unknown device profile {profile!r} (known: {', '.join(PROFILES)})")
    now = (now or dt.datetime.now()).replace(microsecond=0)
    return {
        "version": 1,
        "profile": profile,
        "tables": _tables(profile),
        "reg": {
            "fn_serial": fn_serial,
            "inn": inn,
            "reg_number": reg_number,
            "kkt_serial": kkt_serial,
            "tax_systems": tax_systems,
            "registered_at": _iso(now),
            "fn_capacity": fn_capacity,
            "fn_valid_until": (now + dt.timedelta(days=15 * 31)).date().isoformat(),
            "key": hashlib.sha256(f"fn-key:{fn_serial}".encode()).hexdigest(),
        },
        "password": password,
        "clock_offset": 0.0,
        "last_fd": 1,
        "kkt_doc_number": 1,
        "shift": {"open": False, "number": 0, "opened_at": None, "receipts": 0},
        "archive": {"1": {"type": 1, "time": _iso(now), "fp": 1, "ticket": True, "msg": ""}},
        "doc": None,
        "registers": {},
        "opregs": {},
        "ofd_write": None,
    }


class Faults:
    def __init__(self):
        self.reset()

    def reset(self):
        self.paper_out = False
        self.cover_open = False
        self.print_delay = 0.0
        self.garble = {"count": 0, "mode": "lrc"}
        self.power_loss = None  # {"when": "before"|"after", "command": "FF45"|None, "count": n}
        self.injected = []  # [{"code": n, "command": "FF46"|None, "count": n}]
        self.nak_frames = 0  # answer NAK to the next n command frames (line noise)
        self.drop_frames = 0  # ignore the next n command frames (lost on the line)

    def to_dict(self):
        return {
            "paper_out": self.paper_out,
            "cover_open": self.cover_open,
            "print_delay": self.print_delay,
            "garble": dict(self.garble),
            "power_loss": self.power_loss,
            "injected": list(self.injected),
            "nak_frames": self.nak_frames,
            "drop_frames": self.drop_frames,
        }

    def take_power_loss(self, label, when):
        pl = self.power_loss
        if not pl or pl.get("when") != when or pl.get("command") not in (None, label):
            return False
        pl["count"] = pl.get("count", 1) - 1
        if pl["count"] <= 0:
            self.power_loss = None
        return True

    def take_injected(self, label, after=False):
        for entry in self.injected:
            if entry.get("command") in (None, label) and bool(entry.get("after")) == after:
                entry["count"] = entry.get("count", 1) - 1
                if entry["count"] <= 0:
                    self.injected.remove(entry)
                return entry["code"]
        return 0


class KKTModel:
    def __init__(self, state_file=None, **fresh):
        self.lock = threading.RLock()
        self.state_file = state_file
        self.faults = Faults()
        self.stats = Counter()
        self._archive_pending = []
        self._dirty = False
        if state_file and os.path.exists(state_file):
            self._load()
        else:
            self.state = fresh_state(**fresh)
            if state_file and os.path.exists(self._archive_path):
                os.remove(self._archive_path)
            self._archive_pending = [{"fd": k, **v} for k, v in self.state["archive"].items()]
            self.save()
        # unconfirmed FD numbers in FD order: the oldest is the first (O(1) per document)
        self._op_tlvs = []  # tags-first models: item TLVs waiting for their FF46
        self._pending = OrderedDict(
            (int(k), None)
            for k, doc in sorted(self.state["archive"].items(), key=lambda kv: int(kv[0]))
            if not doc["ticket"]
        )
        self._handlers = {
            0x10: self._short_status,
            0x11: self._long_status,
            0x1A: self._cash_register,
            0x1B: self._op_register,
            0x40: self._x_report,
            0x41: self._z_report,
            0x50: self._cash_in,
            0x51: self._cash_out,
            0x88: self._cancel,
            0xE0: self._open_shift,
            0xFF01: self._fn_status,
            0xFF03: self._fn_expiry,
            0xFF63: self._fn_memory,
            0xFF0A: self._find,
            0xFF08: self._fn_cancel,
            0xFC: self._device_type,
            0xF7: self._model_parameters,
            0x1F: self._read_table,
            0x1E: self._write_table,
            0xFF0C: self._tlv,
            0xFF30: self._buffer_status,
            0xFF31: self._read_block,
            0xFF32: self._start_write,
            0xFF33: self._write_block,
            0xFF35: self._start_correction,
            0xFF39: self._ofd_status,
            0xFF40: self._shift_params,
            0xFF41: self._begin_open,
            0xFF42: self._begin_close,
            0xFF45: self._close_receipt,
            0xFF46: self._item,
            0xFF4A: self._correction,
            0xFF4D: self._op_tlv,
        }
        # marking codes FF61 / FF69 / FF67 (emulator/marking_fn.py)
        self.marking = FnMarking(self)
        self._handlers.update(self.marking.handlers())

    # ------------------------------------------------------------------ basics
    @property
    def profile(self):
        return PROFILES[self.state["profile"]]

    @property
    def caps(self):
        return M.caps_for(self.profile["model"])

    @property
    def strict(self):
        return self.profile["strict"]

    def _table(self, table, row, fld):
        return self.state["tables"].get(f"{table},{row},{fld}")

    @property
    def tax_mode(self):
        return self._table(1, 1, self.profile["tax_mode_field"])[0]

    @property
    def ffd_version(self):
        p = self.profile
        return self._table(p["ffd_table"], 1, p["ffd_field"])[0]

    def now(self):
        return (dt.datetime.now() + dt.timedelta(seconds=self.state["clock_offset"])).replace(microsecond=0)

    # The FN archive grows with every document: it is an append-only JSON-lines
    # file next to a small snapshot of everything else, so a commit costs the
    # same with 10 or 100,000 documents.
    @property
    def _archive_path(self):
        return f"{self.state_file}.archive.jsonl"

    def _load(self):
        with open(self.state_file, encoding="utf-8") as fh:
            self.state = json.load(fh)
        self.state["doc"] = None
        self.state["ofd_write"] = None
        self.state.setdefault("profile", "generic")
        self.state.setdefault("tables", _tables(self.state["profile"]))
        archive = {}
        if os.path.exists(self._archive_path):
            with open(self._archive_path, encoding="utf-8") as fh:
                for line in fh:
                    try:
                        rec = json.loads(line)
                    except ValueError:
                        break  # a line cut by a crash: everything before it is intact
                    if "fd" in rec:
                        fd = str(rec.pop("fd"))
                        archive[fd] = rec
                    elif "ticket" in rec and str(rec["ticket"]) in archive:
                        archive[str(rec["ticket"])].update(ticket=True, ticket_at=rec.get("at"))
        self.state["archive"] = archive
        if archive:
            # a document appended just before a crash exists in the FN even if the
            # snapshot was not rewritten yet
            self.state["last_fd"] = max(self.state["last_fd"], max(int(k) for k in archive))

    def save(self):
        if not self.state_file:
            self._archive_pending.clear()
            return
        if self._archive_pending:
            with open(self._archive_path, "a", encoding="utf-8") as fh:
                for rec in self._archive_pending:
                    fh.write(json.dumps(rec, separators=(",", ":")) + "\n")
            self._archive_pending.clear()
        snapshot = {k: v for k, v in self.state.items() if k != "archive"}
        tmp = f"{self.state_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(snapshot, fh, separators=(",", ":"))
        os.replace(tmp, self.state_file)

    @property
    def shift(self):
        return self.state["shift"]

    def _shift_expired(self, now=None):
        sh = self.shift
        return sh["open"] and (now or self.now()) - _parse(sh["opened_at"]) > SHIFT_LIMIT

    def _unconfirmed(self):
        return list(self._pending)

    def _oldest_unconfirmed(self):
        if not self._pending:
            return None, None
        fd = next(iter(self._pending))
        return fd, _parse(self.state["archive"][str(fd)]["time"])

    def _confirm(self, fd, doc):
        doc["ticket"] = True
        doc["ticket_at"] = _iso(self.now())
        self._pending.pop(int(fd), None)
        self._archive_pending.append({"ticket": int(fd), "at": doc["ticket_at"]})

    def _add(self, table, number, amount):
        regs = self.state[table]
        regs[str(number)] = regs.get(str(number), 0) + amount

    def _reg(self, number):
        return self.state["registers"].get(str(number), 0)

    # ------------------------------------------------------------------ execution
    def execute(self, payload):
        """Request payload -> reply payload (the state is saved when it changed)."""
        try:
            cmd, code, data = C.parse_request_payload(payload)
        except ValueError:  # a lone 0xFF: no complete command code
            return b"\xff\x00\x7e"
        label = f"{code:04X}" if code > 0xFF else f"{code:02X}"
        with self.lock:
            self.stats[label] += 1
            if cmd is None or code not in self._handlers:
                return C.command_bytes(code) + bytes((0x37,))
            try:
                req = cmd.parse_request(data)
            except C.LayoutError:
                return cmd.build_reply(0x33)
            if code not in NO_PASSWORD and req.get("password") != self.state["password"]:
                return cmd.build_reply(0x4F)
            injected = self.faults.take_injected(label)
            if injected:
                return cmd.build_reply(injected)
            self._dirty = False
            try:
                values = self._handlers[code](req, cmd) or {}
            except Refused as exc:
                if code == 0xFF46:
                    self._op_tlvs = []  # tags waiting for a refused operation go with it [ADOPTED]
                if self._dirty:
                    self.save()
                return cmd.build_reply(exc.code)
            except Exception:  # an emulator bug must look like a device fault, not hang
                import traceback

                traceback.print_exc()
                return cmd.build_reply(0x03)
            reply = cmd.build_reply(0, **values)
            if self._dirty and code not in VOLATILE:
                self.save()
            late = self.faults.take_injected(label, after=True)
            if late:  # executed and committed, yet reported as an error
                reply = cmd.build_reply(late)
        if cmd.printing and self.faults.print_delay:
            time.sleep(self.faults.print_delay)
        return reply

    def _changed(self):
        self._dirty = True

    # ------------------------------------------------------------------ checks
    def _need_printer(self):
        if self.faults.cover_open:
            raise Refused(0x71)
        if self.faults.paper_out:
            raise Refused(0x6B)

    def _need_shift(self, kkt=True):
        if not self.shift["open"]:
            raise Refused(0x3D)
        if self._shift_expired():
            raise Refused(0x4E if kkt else 0x16)

    def _need_no_receipt(self):
        doc = self.state["doc"]
        if doc and doc["kind"] in ("receipt", "correction"):
            raise Refused(0x4A)

    def _need_no_document(self):
        """Beginning a document while one is open: the KKT refuses while its receipt is
        open (0x4A), the FN while it holds any other document (FN 0x02)."""
        if self.state["doc"]:
            raise Refused(0x4A if self._kkt_receipt_open() else 0x02)

    def _need_fn_can_sign(self, now):
        _, oldest = self._oldest_unconfirmed()
        if oldest is not None and now - oldest >= OFD_LIMIT:
            raise Refused(0x15)
        last = self.state["archive"][str(self.state["last_fd"])]["time"]
        if now < _parse(last) - dt.timedelta(seconds=60):
            raise Refused(0x17)

    def _new_fd(self, fd_type, now, extra, ofd_tlvs=()):
        st = self.state
        if st["last_fd"] >= st["reg"].get("fn_capacity", 250000):
            raise Refused(0x06)  # archive full: nothing is formed
        fd = st["last_fd"] + 1
        ident = json.dumps([st["reg"]["fn_serial"], fd, fd_type, _iso(now), extra], sort_keys=True)
        digest = hmac.new(bytes.fromhex(st["reg"]["key"]), ident.encode(), hashlib.sha256).digest()
        fp = int.from_bytes(digest[:4], "big") or 1
        msg = ofdp.build_document_message(
            st["reg"]["fn_serial"], fd, fd_type, fp, int(now.timestamp()), list(ofd_tlvs)
        )
        record = {
            "type": fd_type,
            "time": _iso(now),
            "fp": fp,
            "ticket": False,
            "msg": base64.b64encode(msg).decode(),
            **extra,
        }
        st["archive"][str(fd)] = record
        self._pending[fd] = None
        self._archive_pending.append({"fd": fd, **record})
        st["last_fd"] = fd
        st["kkt_doc_number"] = (st["kkt_doc_number"] + 1) & 0xFFFF
        self._changed()
        return fd, fp

    # ------------------------------------------------------------------ status
    def _flags(self):
        flags = 0
        if not self.faults.paper_out:
            flags |= (1 << 1) | (1 << 7)
        if self.faults.cover_open:
            flags |= 1 << 10
        return flags

    def _mode(self):
        if self._kkt_receipt_open():
            return 8
        if self.shift["open"]:
            return 3 if self._shift_expired() else 2
        return 4

    def _short_status(self, req, cmd):
        doc = self.state["doc"] or {}
        ops = len(doc.get("items", []))
        return {
            "operator": 30,
            "flags": self._flags(),
            "mode": self._mode(),
            "submode": 0,
            "ops_lo": ops & 0xFF,
            "battery": 0,
            "power": 0,
            "fm_error": 0,
            "ej_error": 0,
            "ops_hi": ops >> 8,
            "reserved": b"\0\0\0",
        }

    def _long_status(self, req, cmd):
        now = self.now()
        reg = self.state["reg"]
        return {
            "operator": 30,
            "fw_version": b"A4",
            "fw_build": 26000,
            "fw_date": dt.date(2025, 12, 1),
            "logical_number": 1,
            "doc_number": self.state["kkt_doc_number"],
            "flags": self._flags(),
            "mode": self._mode(),
            "submode": 0,
            "port": 0,
            "fm_version": b"FN",
            "fm_build": 1,
            "fm_date": dt.date(2025, 12, 1),
            "date": now.date(),
            "time": now.time(),
            "fm_flags": 0,
            "serial": reg["kkt_serial"],
            "shift_number": self.shift["number"],
            "fm_free": 0,
            "reg_count": 1,
            "reg_free": 11,
            "inn": int(reg["inn"]),
        }

    def _cash_register(self, req, cmd):
        return {"operator": 30, "value": self._reg(req["register"])}

    def _op_register(self, req, cmd):
        return {"operator": 30, "value": self.state["opregs"].get(str(req["register"]), 0)}

    def _fn_status(self, req, cmd):
        st = self.state
        doc = st["doc"]
        last = _parse(st["archive"][str(st["last_fd"])]["time"])
        fd_old, oldest = self._oldest_unconfirmed()
        now = self.now()
        warnings = 0
        if oldest is not None and now - oldest >= OFD_LIMIT - dt.timedelta(days=3):
            warnings |= 1 << 3
        return {
            "phase": 0x03,
            "doc_type": DOC_CODES.get(doc["kind"], 0) if doc else 0,
            "doc_data": 1 if doc and (doc.get("items") or doc.get("tlvs")) else 0,
            "shift_open": 1 if self.shift["open"] else 0,
            "warnings": warnings,
            "date": last.date(),
            "time": last.time(),
            "fn_serial": st["reg"]["fn_serial"],
            "last_fd": st["last_fd"],
        }

    def _fn_expiry(self, req, cmd):
        return {
            "date": dt.date.fromisoformat(self.state["reg"]["fn_valid_until"]),
            "reg_left": 11,
            "reg_count": 1,
        }

    def _fn_memory(self, req, cmd):
        capacity = self.state["reg"].get("fn_capacity", 250000)
        return {
            "free_docs": max(0, capacity - self.state["last_fd"]),
            "free_kb": max(0, 4096 - len(self._pending) // 4),
        }

    def _find(self, req, cmd):
        doc = self.state["archive"].get(str(req["fd_number"]))
        if doc is None:
            raise Refused(0x08)
        if doc["type"] in (3, 31):
            tail = bytes((doc.get("operation", 0),)) + codec.pack_uint(doc.get("total", 0), 5)
        elif doc["type"] in (2, 5):
            tail = codec.pack_uint(doc.get("shift", 0), 2)
        else:
            tail = b""
        return {
            "fd_type": doc["type"],
            "ticket": 1 if doc["ticket"] else 0,
            "when": _parse(doc["time"]),
            "fd_number": req["fd_number"],
            "fiscal_sign": doc["fp"],
            "tail": tail,
        }

    def _shift_params(self, req, cmd):
        sh = self.shift
        return {
            "shift_open": 1 if sh["open"] else 0,
            "shift_number": sh["number"],
            "receipt_number": sh["receipts"] + 1,
        }

    # ------------------------------------------------------------------ shifts
    def _begin_open(self, req, cmd):
        if self.shift["open"]:
            raise Refused(0x02)
        self._need_no_document()
        self.state["doc"] = {"kind": "shift_open", "tlvs": []}
        self._changed()

    def _open_shift(self, req, cmd):
        if self.shift["open"]:
            raise Refused(0x02)
        self._need_no_receipt()
        if self.state["doc"] and self.state["doc"]["kind"] != "shift_open":
            raise Refused(0x02)
        now = self.now()
        self._need_fn_can_sign(now)
        self._need_printer()
        doc = self.state["doc"] or {}
        number = self.shift["number"] + 1
        self._new_fd(2, now, {"shift": number, "tlvs": doc.get("tlvs", [])}, [ofdp.tlv(1038, number)])
        self.state["shift"] = {"open": True, "number": number, "opened_at": _iso(now), "receipts": 0}
        self._zero_shift_registers()
        self.state["doc"] = None
        return {"operator": 30}

    def _zero_shift_registers(self):
        drawer = self._reg(C.REG_CASH_IN_DRAWER)
        self.state["registers"] = {str(C.REG_CASH_IN_DRAWER): drawer} if drawer else {}
        self.state["opregs"] = {}

    def _begin_close(self, req, cmd):
        if not self.shift["open"]:
            raise Refused(0x3D)
        self._need_no_document()
        self.state["doc"] = {"kind": "shift_close", "tlvs": []}
        self._changed()

    def _z_report(self, req, cmd):
        if not self.shift["open"]:
            raise Refused(0x3D)
        self._need_no_receipt()
        if self.state["doc"] and self.state["doc"]["kind"] != "shift_close":
            raise Refused(0x02)
        now = self.now()
        last = self.state["archive"][str(self.state["last_fd"])]["time"]
        if now < _parse(last) - dt.timedelta(seconds=60):
            raise Refused(0x17)
        self._need_printer()
        doc = self.state["doc"] or {}
        number = self.shift["number"]
        self._new_fd(
            5,
            now,
            {"shift": number, "tlvs": doc.get("tlvs", []), "receipts": self.shift["receipts"]},
            [ofdp.tlv(1038, number)],
        )
        self.state["shift"] = {"open": False, "number": number, "opened_at": None, "receipts": 0}
        self._zero_shift_registers()
        self.state["doc"] = None
        return {"operator": 30}

    def _x_report(self, req, cmd):
        self._need_no_receipt()
        self._need_printer()
        self._add("opregs", 158, 1)
        self._changed()
        return {"operator": 30}

    # ------------------------------------------------------------------ cash
    def _cash(self, req, sign):
        self._need_no_receipt()
        self._need_shift()
        amount = req["amount"]
        if amount <= 0:
            raise Refused(0x33)
        if sign < 0 and amount > self._reg(C.REG_CASH_IN_DRAWER):
            raise Refused(0x46)
        self._need_printer()
        self._add("registers", C.REG_CASH_IN_DRAWER, sign * amount)
        self._add("registers", C.REG_CASH_IN_TOTAL if sign > 0 else C.REG_CASH_OUT_TOTAL, amount)
        self._add("opregs", C.OPREG_CASH_IN_COUNT if sign > 0 else C.OPREG_CASH_OUT_COUNT, 1)
        self.state["kkt_doc_number"] = (self.state["kkt_doc_number"] + 1) & 0xFFFF
        self._changed()
        return {"operator": 30, "doc_number": self.state["kkt_doc_number"]}

    def _cash_in(self, req, cmd):
        return self._cash(req, +1)

    def _cash_out(self, req, cmd):
        return self._cash(req, -1)

    # ------------------------------------------------------------------ receipts
    def _tlv(self, req, cmd):
        doc = self.state["doc"]
        if not doc:
            raise Refused(0x02)
        try:
            items = codec.parse_tlvs(req["tlv"])
        except codec.CodecError:
            raise Refused(0x09) from None
        if not items:
            raise Refused(0x09)
        doc.setdefault("tlvs", []).extend([tag, value.hex()] for tag, value in items)
        self._changed()

    def _op_tlv(self, req, cmd):
        """FF4D: TLVs of an item.  Tags-first models (cash core, Shtrih-Mobile) bind them to
        the *next* operation; the others to the last one."""
        doc = self.state["doc"]
        try:
            items = codec.parse_tlvs(req["tlv"])
        except codec.CodecError:
            raise Refused(0x09) from None
        pairs = [[t, v.hex()] for t, v in items]
        if self.strict and self.caps.tags_first:
            if doc and doc["kind"] not in ("receipt", "correction"):
                raise Refused(0x02)
            self._op_tlvs.extend(pairs)
            return
        if not doc or doc["kind"] not in ("receipt", "correction") or not doc["items"]:
            # before any operation: this model binds tags to the operation already made
            raise Refused(NOT_SUPPORTED if self.strict else 0x02)
        doc["items"][-1].setdefault("tlvs", []).extend(pairs)
        self._changed()

    def _vat_of_tax_byte(self, tax):
        if self.strict:
            return {v: k for k, v in self.caps.vat_bytes.items()}.get(tax)
        return C.SHTRIH_TO_VAT.get(tax)

    def _item(self, req, cmd):
        doc = self.state["doc"]
        if doc and doc["kind"] not in ("receipt", "correction"):
            raise Refused(0x02)
        if doc is None:
            self._need_shift()
            self._need_fn_can_sign(self.now())
        elif self._shift_expired():
            raise Refused(0x4E)
        if doc and doc["kind"] == "correction" and self.strict and self.ffd_version < M.FFD_12:
            raise Refused(WRONG_OPERATION)  # FFD 1.05 corrections carry totals only (FF4A)
        op = req["operation"]
        if op not in C.OPERATIONS or (doc and doc.get("operation") not in (None, op)):
            raise Refused(0x33)
        qty, price = req["quantity"], req["price"]
        vat = self._vat_of_tax_byte(req["tax"])
        if qty <= 0 or vat is None or not 1 <= req["payment_method"] <= 7 or not 1 <= req["subject"] <= 33:
            raise Refused(0x33)
        name_raw = req["name"].encode(codec.PRINT_ENCODING, errors="replace")
        if not req["name"].strip() or len(name_raw) > 128:
            raise Refused(0x33)
        amount = req["amount"]
        exact = price * qty
        computed = exact // 1_000_000 + (1 if (exact % 1_000_000) * 2 >= 1_000_000 else 0)
        if amount == codec.NOT_GIVEN_5:
            amount = computed
        elif amount > computed:
            raise Refused(0x33)
        tax_amount = req["tax_amount"]
        if tax_amount == codec.NOT_GIVEN_5:
            tax_amount = ffd.item_vat(amount, vat)
        if doc is None:
            doc = self.state["doc"] = {"kind": "receipt", "operation": op, "items": [], "tlvs": []}
        doc["operation"] = op
        item = {
            "name": req["name"],
            "qty": qty,
            "price": price,
            "amount": amount,
            "vat": vat,
            "tax_amount": tax_amount,
            "pm": req["payment_method"],
            "subject": req["subject"],
        }
        if self._op_tlvs:
            item["tlvs"], self._op_tlvs = self._op_tlvs, []
        doc["items"].append(item)
        self._changed()

    def _start_correction(self, req, cmd):
        self._need_no_document()
        self._need_shift()
        self.state["doc"] = {"kind": "correction", "tlvs": [], "items": [], "operation": None}
        self._changed()

    def _payments_effect(self, op, slots_amounts, change):
        """Registers after a settlement; refuses a cash refund beyond the drawer."""
        op_index = C.REG_OP_INDEX[op]
        cash = slots_amounts.get(1, 0) - change
        drawer_delta = cash if op in (1, 4) else -cash
        if self._reg(C.REG_CASH_IN_DRAWER) + drawer_delta < 0:
            raise Refused(0x46)
        return op_index, cash, drawer_delta

    def _apply_payments(self, op_index, slots_amounts, change, drawer_delta):
        for slot, amount in slots_amounts.items():
            if slot == 1:
                amount -= change
            if amount:
                self._add("registers", C.payment_register(op_index, slot), amount)
        if drawer_delta:
            self._add("registers", C.REG_CASH_IN_DRAWER, drawer_delta)
        self._add("opregs", C.OPREG_RECEIPT_COUNT_BASE + op_index, 1)

    def _check_tax_system(self, value):
        if value == 0 or value & (value - 1) or not value & self.state["reg"]["tax_systems"]:
            raise Refused(0x33)

    def _vat_totals(self, items):
        """The receipt's VAT sums per 1199 code as the KKT forms them: the items' 1200 sums
        in 'per operation' mode, the VAT of each rate's total in 'on the total' mode."""
        totals = {}
        if self.strict and self.tax_mode == M.TAX_ON_TOTAL:
            groups = {}
            for item in items:
                groups[item["vat"]] = groups.get(item["vat"], 0) + item["amount"]
            return {code: ffd.item_vat(amount, code) for code, amount in groups.items()}
        for item in items:
            totals[item["vat"]] = totals.get(item["vat"], 0) + item.get("tax_amount", 0)
        return totals

    @staticmethod
    def _correction_basis(doc):
        """1173 and 1174 {1178, 1179} of a correction receipt: the FN refuses the close
        without them (FFD 1.2 FD 31) [ADOPTED code 0x09]; 1178 is a date (00:00)."""
        tags = {int(tag): bytes.fromhex(value) for tag, value in doc["tlvs"]}
        if 1173 not in tags or 1174 not in tags or len(tags[1173]) != 1 or tags[1173][0] not in (0, 1):
            raise Refused(0x09)
        try:
            basis = {tag: value for tag, value in codec.parse_tlvs(tags[1174])}
        except codec.CodecError:
            raise Refused(0x09) from None
        stamp = basis.get(1178)
        if stamp is None or len(stamp) != 4 or int.from_bytes(stamp, "little") % 86400:
            raise Refused(0x09)
        if tags[1173][0] == 1 and not basis.get(1179):
            raise Refused(0x09)
        return tags[1173][0]

    def _close_receipt(self, req, cmd):
        doc = self.state["doc"]
        if not doc or doc["kind"] not in ("receipt", "correction") or not doc["items"]:
            raise Refused(0x55)
        if self._op_tlvs:
            raise Refused(NOT_SUPPORTED)  # item tags sent for an operation that never came
        now = self.now()
        if self._shift_expired(now):
            raise Refused(0x16)
        correction = doc["kind"] == "correction"
        if not correction:
            self.marking.check_close(doc)
        correction_type = self._correction_basis(doc) if correction else None
        total = sum(item["amount"] for item in doc["items"])
        if total == 0:
            raise Refused(0x8E)
        pays = {i: req[f"pay{i}"] for i in range(1, 17) if req[f"pay{i}"]}
        paid = sum(pays.values())
        if paid < total:
            raise Refused(0x45)
        change = paid - total
        if change > pays.get(1, 0) or req["rounding"] > 99:
            raise Refused(0x33)
        self._check_tax_system(req["tax_system"])
        self._need_fn_can_sign(now)
        op = doc["operation"]
        op_index, cash, drawer_delta = self._payments_effect(op, pays, change)
        self._need_printer()
        receipt_number = self.shift["receipts"] + 1
        vat_totals = self._vat_totals(doc["items"])
        extra = {
            "operation": op,
            "total": total,
            "shift": self.shift["number"],
            "receipt_number": receipt_number,
            "tax_system": req["tax_system"],
            "payments": {str(k): v for k, v in pays.items()},
            "change": change,
            "items": doc["items"],
            "tlvs": doc["tlvs"],
            "vat_totals": {str(k): v for k, v in vat_totals.items()},
        }
        if correction:
            extra["correction_type"] = correction_type
        fd, fp = self._new_fd(
            31 if correction else 3,
            now,
            extra,
            [
                ofdp.tlv_u8(1054, op),
                ofdp.tlv_vln(1020, total),
                ofdp.tlv(1042, receipt_number),
                ofdp.tlv(1038, self.shift["number"]),
                ofdp.tlv_u8(1055, req["tax_system"]),
                *_payment_tlvs(pays, change),
                *(_item_tlv(i) for i in doc["items"]),
                *_raw_tlvs(doc["tlvs"]),
            ],
        )
        self._apply_payments(op_index, pays, change, drawer_delta)
        self.shift["receipts"] = receipt_number
        self.state["doc"] = None
        self.marking.reset()
        return {"change": change, "fd_number": fd, "fiscal_sign": fp, "date": now.date(), "time": now.time()}

    def _correction(self, req, cmd):
        """FF4A: a totals-only correction receipt (FFD 1.05/1.1).  A real KKT refuses it for a
        refund (1054 = 2/4) with 'wrong operation'; on an FFD 1.2 drive FD 31 carries its
        items (1059), which FF4A cannot send [ADOPTED: refused as not supported]."""
        if self.strict and req["operation"] in (2, 4):
            raise Refused(WRONG_OPERATION)
        if self.strict and self.ffd_version >= M.FFD_12:
            raise Refused(NOT_SUPPORTED)
        doc = self.state["doc"]
        if doc is None:
            self._start_correction(req, cmd)
            doc = self.state["doc"]
        if doc["kind"] != "correction" or doc["items"]:
            raise Refused(0x02)
        now = self.now()
        if self._shift_expired(now):
            raise Refused(0x16)
        op, total = req["operation"], req["total"]
        if op not in C.OPERATIONS or req["correction_type"] not in (0, 1) or total <= 0:
            raise Refused(0x33)
        slots = {1: 1, 2: 2, 3: 14, 4: 15, 5: 16}
        pays = {slots[i]: req[f"pay{i}"] for i in range(1, 6) if req[f"pay{i}"]}
        if sum(pays.values()) != total:
            raise Refused(0x45)
        self._check_tax_system(req["tax_system"])
        self._need_fn_can_sign(now)
        op_index, cash, drawer_delta = self._payments_effect(op, pays, 0)
        self._need_printer()
        receipt_number = self.shift["receipts"] + 1
        extra = {
            "operation": op,
            "total": total,
            "shift": self.shift["number"],
            "receipt_number": receipt_number,
            "correction_type": req["correction_type"],
            "tax_system": req["tax_system"],
            "payments": {str(k): v for k, v in pays.items()},
            "tlvs": doc["tlvs"],
        }
        fd, fp = self._new_fd(
            31,
            now,
            extra,
            [
                ofdp.tlv_u8(1054, op),
                ofdp.tlv_vln(1020, total),
                ofdp.tlv_u8(1173, req["correction_type"]),
                ofdp.tlv_u8(1055, req["tax_system"]),
                *_payment_tlvs(pays, 0),
                *_raw_tlvs(doc["tlvs"]),
            ],
        )
        self._apply_payments(op_index, pays, 0, drawer_delta)
        self.shift["receipts"] = receipt_number
        self.state["doc"] = None
        return {"receipt_number": receipt_number, "fd_number": fd, "fiscal_sign": fp}

    def _kkt_receipt_open(self):
        """The KKT itself has a receipt open (mode 8): a receipt, or a correction receipt
        that has items."""
        doc = self.state["doc"]
        return bool(doc) and (
            doc["kind"] == "receipt" or (doc["kind"] == "correction" and bool(doc.get("items")))
        )

    def _drop_document(self):
        doc = self.state["doc"]
        self.state["doc"] = None
        self._op_tlvs = []
        self.marking.reset()
        if doc["kind"] in ("receipt", "correction"):
            self._add("opregs", C.OPREG_VOID_COUNT, 1)
        self._changed()

    def _cancel(self, req, cmd):
        """0x88 cancels the receipt the KKT has open.  A real KKT has no receipt open while
        the FN holds a begun shift report or an empty correction receipt: 'receipt closed'
        (0x55), the FN document stays open until FF08 cancels it."""
        doc = self.state["doc"]
        if not doc:
            self._op_tlvs = []
            raise Refused(0x55)
        if self.strict and not self._kkt_receipt_open():
            raise Refused(0x55)
        self._drop_document()
        return {"operator": 30}

    def _fn_cancel(self, req, cmd):
        """FF08: cancel whatever document the FN has open; nothing open -> FN 0x02 [ADOPTED]."""
        if not self.state["doc"]:
            self._op_tlvs = []
            raise Refused(0x02)
        self._drop_document()

    # ------------------------------------------------------------------ identity and tables
    def _device_type(self, req, cmd):
        caps = self.caps
        return {
            "device_type": 0,
            "device_subtype": 0,
            "protocol_version": 1,
            "protocol_subversion": 0,
            "model": caps.model,
            "language": 0,
            "name": caps.name,
        }

    def _model_parameters(self, req, cmd):
        if req["request_type"] != 1:
            raise Refused(0x33)
        p = self.profile
        flags = (1 << 43) | (1 << 47) | (1 << 48)  # FN, FFD 1.1+, correction receipts
        if self.caps.family == "cashcore":
            flags |= 1 << 23
        return {
            "flags": flags.to_bytes(8, "little"),
            "font1_width": 48,
            "font2_width": 36,
            "first_graphics_line": 1,
            "inn_length": 12,
            "rnm_length": 16,
            "long_rnm_length": 20,
            "long_serial_length": 20,
            "tax_password": 0,
            "sys_password": 30,
            "bt_table": 0,
            "tax_mode_field": p["tax_mode_field"],
            "max_command_length": 255,
            "graphics_line_width": 64,
            "graphics512_width": 64,
            "graphics512_height": 0,
            "fs_table": 18,
            "ofd_table": 19,
            "embedded_table": 0,
            "ffd_table": p["ffd_table"],
            "ffd_field": p["ffd_field"],
        }

    def _read_table(self, req, cmd):
        cell = self._table(req["table"], req["row"], req["field"])
        if cell is None:
            raise Refused(0x33)
        return {"value": cell[0].to_bytes(cell[1], "little")}

    def _write_table(self, req, cmd):
        """Only the tax calculation mode is writable here (the FFD version changes with a
        re-registration, not a table write) [ADOPTED]."""
        p = self.profile
        if (req["table"], req["row"], req["field"]) != (1, 1, p["tax_mode_field"]):
            raise Refused(0x33)
        cell = self._table(1, 1, p["tax_mode_field"])
        value = req["value"]
        if len(value) != cell[1] or value[0] not in (M.TAX_PER_ITEM, M.TAX_ON_TOTAL):
            raise Refused(0x33)
        self._need_no_receipt()
        cell[0] = value[0]
        self._changed()

    # ------------------------------------------------------------------ OFD exchange
    def _pending_message(self):
        fd, _ = self._oldest_unconfirmed()
        if fd is None:
            return None, b""
        return fd, base64.b64decode(self.state["archive"][str(fd)]["msg"])

    def _ofd_status(self, req, cmd):
        pending = self._pending
        fd, oldest = self._oldest_unconfirmed()
        when = oldest or dt.datetime(2000, 1, 1)
        status = 0
        if pending:
            status |= (1 << 1) | (1 << 2)
        return {
            "status": status,
            "read_status": 0,
            "queue": min(len(pending), 0xFFFF),
            "first_fd": fd or 0,
            "date": when.date(),
            "time": when.time(),
        }

    def _buffer_status(self, req, cmd):
        _, msg = self._pending_message()
        return {"size": len(msg), "block_size": BLOCK_SIZE if msg else 0}

    def _read_block(self, req, cmd):
        fd, msg = self._pending_message()
        if fd is None:
            raise Refused(0x08)
        offset, size = req["offset"], req["size"]
        if size == 0 or size > BLOCK_SIZE or offset >= len(msg):
            raise Refused(0x09)
        return {"data": msg[offset : offset + size]}

    def _start_write(self, req, cmd):
        if req["size"] == 0:
            raise Refused(0x09)
        self.state["ofd_write"] = {"size": req["size"], "data": ""}
        return {"block_size": BLOCK_SIZE}

    def _write_block(self, req, cmd):
        buf = self.state["ofd_write"]
        if buf is None:
            raise Refused(0x02)
        data = bytes.fromhex(buf["data"])
        chunk = req["data"]
        if req["offset"] != len(data) or len(data) + len(chunk) > buf["size"] or not chunk:
            self.state["ofd_write"] = None
            raise Refused(0x09)
        data += chunk
        if len(data) < buf["size"]:
            buf["data"] = data.hex()
            return None
        self.state["ofd_write"] = None
        try:
            ticket = ofdp.parse_ticket(data)
        except ofdp.ProtocolError:
            raise Refused(0x20) from None
        doc = self.state["archive"].get(str(ticket.fd_number))
        if ticket.fn_number != self.state["reg"]["fn_serial"] or doc is None or not ticket.accepted:
            raise Refused(0x20)
        if not doc["ticket"]:
            self._confirm(ticket.fd_number, doc)
            self.save()
        return None

    # ------------------------------------------------------------------ control helpers
    def summary(self):
        with self.lock:
            st = self.state
            fd, oldest = self._oldest_unconfirmed()
            return {
                "profile": st["profile"],
                "model": self.caps.model,
                "tax_mode": self.tax_mode,
                "ffd_version": self.ffd_version,
                "fn_serial": st["reg"]["fn_serial"],
                "last_fd": st["last_fd"],
                "shift": dict(st["shift"]),
                "doc": st["doc"],
                "now": _iso(self.now()),
                "clock_offset": st["clock_offset"],
                "unconfirmed": len(self._pending),
                "first_unconfirmed": fd,
                "oldest_unconfirmed_at": _iso(oldest) if oldest else None,
                "cash_in_drawer": self._reg(C.REG_CASH_IN_DRAWER),
                "faults": self.faults.to_dict(),
                "stats": dict(self.stats),
            }

    def document(self, fd):
        with self.lock:
            return self.state["archive"].get(str(fd))

    def reset(self):
        """A brand-new FN with the same registration (test isolation without a restart)."""
        with self.lock:
            reg = self.state["reg"]
            self.state = fresh_state(
                fn_serial=reg["fn_serial"],
                inn=reg["inn"],
                reg_number=reg["reg_number"],
                kkt_serial=reg["kkt_serial"],
                tax_systems=reg["tax_systems"],
                password=self.state["password"],
                fn_capacity=reg.get("fn_capacity", 250000),
                profile=self.state["profile"],
            )
            self._op_tlvs = []
            self.marking.reset()
            self.marking.oism.clear()
            self.faults.reset()
            self.stats.clear()
            self._pending = OrderedDict()
            if self.state_file and os.path.exists(self._archive_path):
                os.remove(self._archive_path)
            self._archive_pending = [{"fd": k, **v} for k, v in self.state["archive"].items()]
            self.save()

    def set_clock(self, offset=None, advance=None):
        with self.lock:
            if offset is not None:
                self.state["clock_offset"] = float(offset)
            if advance is not None:
                self.state["clock_offset"] += float(advance)
            self.save()
            return self.state["clock_offset"]

    def confirm_all(self):
        with self.lock:
            count = 0
            for fd in list(self._pending):
                self._confirm(fd, self.state["archive"][str(fd)])
                count += 1
            self.save()
            return count
