"""The emulated ATOL register: JSON tasks executed on the shared FN model.

The FN and its rules (shift, 24 h, 30 days without the OFD, clock, counters,
archive, persistence) are the very ``emulator.model.KKTModel`` the Shtrih
emulator runs: a task is carried out as the sequence of FN operations a real
register performs (items, document TLVs, close), through ``KKTModel.execute``,
so both emulators share one FN implementation and its fault switches (paper,
cover, slow printing, injected FN errors).  What is ATOL's own lives here: the
task layouts, their validation and the libfptr error codes.

A task is atomic, as in the ATOL driver: a receipt refused half-way is
cancelled on the register before the error is reported; a receipt whose close
was refused after the FN formed it is reported with the error and left formed.
"""

import contextlib
import datetime as dt
from decimal import Decimal, InvalidOperation

from ..shtrih import codec
from ..shtrih import commands as C
from . import tables as T

#: Shtrih/FN refusal byte of the shared model -> libfptr error code.
FN_TO_ATOL = {
    0x6B: T.NO_PAPER,
    0x71: T.COVER_OPENED,
    0x3D: T.DENIED_IN_CLOSED_SHIFT,
    0x4E: T.SHIFT_EXPIRED,
    0x16: T.FN_SHIFT_EXPIRED,
    0x15: T.FN_HAS_NOT_SEND_DOCUMENTS,
    0x17: T.FN_INVALID_DATE_TIME,
    0x06: T.FN_OVERFLOW,
    0x46: T.NO_CASH,
    0x45: T.NOT_FULLY_PAID,
    0x33: T.INVALID_PARAM,
    0x4A: T.DENIED_IN_OPENED_RECEIPT,
    0x55: T.DENIED_IN_CLOSED_RECEIPT,
    0x8E: T.INVALID_SUM,
    0x37: T.NOT_SUPPORTED,
    0x09: T.FN_INVALID_FORMAT,
    0x20: T.INVALID_MESSAGE_FROM_OFD,
    0x08: T.FN_NO_MORE_DATA,
    0x03: T.FN_FAULT,
    0x02: T.FN_INVALID_FORMAT,
}

FNS_URL = "www.nalog.gov.ru"


class TaskError(Exception):
    """A task refused with a libfptr error code."""

    def __init__(self, code, description=None):
        self.code = code
        self.description = description or T.DESCRIPTIONS.get(code, f"Ошибка {code}")
        super().__init__(f"{code}: {self.description}")


def _rub(kopecks):
    return float(Decimal(kopecks) / 100)


def _kopecks(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TaskError(T.INVALID_PARAM, f"{what}: число ожидается")
    try:
        exact = Decimal(str(value)) * 100
    except InvalidOperation:
        raise TaskError(T.INVALID_PARAM, f"{what}: неверное значение") from None
    if exact != exact.to_integral_value() or exact < 0:
        raise TaskError(T.INVALID_SUM, f"{what}: {value} не в копейках")
    return int(exact)


def _millionths(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise TaskError(T.INVALID_QUANTITY, f"{what}: {value!r}")
    exact = Decimal(str(value)) * 1_000_000
    if exact != exact.to_integral_value():
        raise TaskError(T.INVALID_QUANTITY, f"{what}: более 6 знаков")
    return int(exact)


def _text(value, what, limit, required=True):
    if value is None and not required:
        return ""
    if not isinstance(value, str) or (required and not value.strip()) or len(value) > limit:
        raise TaskError(T.INVALID_PARAM if value else T.NO_REQUIRED_PARAM, f"{what}: {value!r}")
    return value


def _local_iso(when):
    return when.astimezone().isoformat(timespec="seconds") if when.tzinfo is None else when.isoformat()


class AtolFirmware:
    """Executes one JSON task on the FN model; returns its ``result`` or raises ``TaskError``."""

    def __init__(self, model):
        self.model = model
        self.handlers = {
            "openShift": self.open_shift,
            "closeShift": self.close_shift,
            "sell": self.receipt,
            "sellReturn": self.receipt,
            "buy": self.receipt,
            "buyReturn": self.receipt,
            "sellCorrection": self.correction,
            "sellReturnCorrection": self.correction,
            "buyCorrection": self.correction,
            "buyReturnCorrection": self.correction,
            "cashIn": self.cash,
            "cashOut": self.cash,
            "reportX": self.report_x,
            "getDeviceStatus": self.device_status,
            "getDeviceInfo": self.device_info,
            "getShiftStatus": self.shift_status,
            "getFnInfo": self.fn_info,
            "getFnStatus": self.fn_status,
            "ofdExchangeStatus": self.ofd_status,
            "getFnDocument": self.fn_document,
            "getShiftTotals": self.shift_totals,
            "beginMarkingCodeValidation": self.marking_begin,
            "getMarkingCodeValidationStatus": self.marking_status,
            "acceptMarkingCode": self.marking_accept,
            "declineMarkingCode": self.marking_decline,
            "cancelMarkingCodeValidation": self.marking_cancel,
            "clearMarkingCodeValidationResult": self.marking_clear,
        }
        # marking codes: the one being checked, and those checked and accepted for the
        # next receipt (the FN keeps them until that receipt is formed)
        self.validation = None
        self.accepted = {}
        #: what the marking operator (ОИСМ, through the OFD) answers per code identity
        #: (GTIN + serial): "valid" (default), "sold", "blocked", "expired", "offline"
        self.oism = {}

    # ------------------------------------------------------------------ FN access
    def fn(self, code, **values):
        """One FN operation through the shared model; refusals become ``TaskError``."""
        cmd = C.get(code)
        payload = cmd.build(password=self.model.state["password"], **values)
        reply = self.model.execute(payload)
        _, err, data = C.parse_reply_payload(reply)
        if err:
            raise TaskError(FN_TO_ATOL.get(err, T.UNKNOWN), f"ФН/ККТ: ошибка {err:#04x}")
        return cmd.parse_reply(data)

    def cancel_open(self):
        with contextlib.suppress(TaskError):
            self.fn(0x88)

    def run(self, task):
        if not isinstance(task, dict) or not isinstance(task.get("type"), str):
            raise TaskError(T.INVALID_PARAM, "задание без поля type")
        handler = self.handlers.get(task["type"])
        if handler is None:
            raise TaskError(T.NOT_SUPPORTED, f"неизвестный тип задания {task['type']!r}")
        return handler(task)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _operator_tlvs(task):
        op = task.get("operator")
        if op is None:
            return []
        if not isinstance(op, dict):
            raise TaskError(T.INVALID_PARAM, "operator")
        out = [
            codec.tlv(1021, codec.pack_text(_text(op.get("name"), "operator.name", 64), codec.TLV_ENCODING))
        ]
        vatin = op.get("vatin") or ""
        if vatin:
            if not (isinstance(vatin, str) and vatin.isdigit() and len(vatin) in (10, 12)):
                raise TaskError(T.INVALID_PARAM, f"operator.vatin {vatin!r}")
            out.append(codec.tlv(1203, vatin.ljust(12).encode("ascii")))
        return out

    def _send_doc_tlvs(self, tlvs):
        if tlvs:
            self.fn(0xFF0C, tlv=b"".join(tlvs))

    def _fiscal_params(self, fd_number=None, total=None):
        st = self.fn(0xFF01)
        number = fd_number or st["last_fd"]
        doc = self.fn(0xFF0A, fd_number=number)
        params = self.fn(0xFF40)
        out = {
            "fiscalDocumentDateTime": _local_iso(doc["when"]),
            "fiscalDocumentNumber": number,
            "fiscalDocumentSign": str(doc["fiscal_sign"]),
            "fnNumber": st["fn_serial"],
            "registrationNumber": self.model.state["reg"]["reg_number"],
            "shiftNumber": params["shift_number"],
            "fnsUrl": FNS_URL,
        }
        if total is not None:
            out["total"] = _rub(total)
        return out

    @staticmethod
    def _payments(task, allowed=T.PAYMENT_FIELDS):
        pays = task.get("payments")
        if not isinstance(pays, list) or not pays:
            raise TaskError(T.NO_REQUIRED_PARAM, "payments")
        out = {}
        for i, p in enumerate(pays):
            if not isinstance(p, dict) or p.get("type") not in allowed:
                raise TaskError(T.INVALID_PARAM, f"payments[{i}].type")
            field = allowed[p["type"]]
            out[field] = out.get(field, 0) + _kopecks(p.get("sum"), f"payments[{i}].sum")
        return out

    def _taxation_bit(self, task):
        name = task.get("taxationType")
        if name is None:
            mask = self.model.state["reg"]["tax_systems"]
            return mask & -mask
        if name not in T.TAX_SYSTEM_BITS:
            raise TaskError(T.INVALID_TAXATION_TYPE, f"taxationType {name!r}")
        return T.TAX_SYSTEM_BITS[name]

    # ------------------------------------------------------------------ shifts
    def open_shift(self, task):
        tlvs = self._operator_tlvs(task)
        try:
            self.fn(0xFF41)
        except TaskError as exc:
            if exc.code == T.FN_INVALID_FORMAT:  # FN: the shift is open already
                raise TaskError(T.DENIED_IN_OPENED_SHIFT) from None
            raise
        try:
            self._send_doc_tlvs(tlvs)
            self.fn(0xE0)
        except TaskError:
            self.cancel_open()
            raise
        return {"fiscalParams": self._fiscal_params(), "warnings": None}

    def close_shift(self, task):
        tlvs = self._operator_tlvs(task)
        self.fn(0xFF42)
        try:
            self._send_doc_tlvs(tlvs)
            self.fn(0x41)
        except TaskError:
            self.cancel_open()
            raise
        return {"fiscalParams": self._fiscal_params(), "warnings": None}

    # ------------------------------------------------------------------ receipts
    def _item(self, index, it):
        where = f"items[{index}]"
        name = _text(it.get("name"), f"{where}.name", 128)
        price = _kopecks(it.get("price"), f"{where}.price")
        qty = _millionths(it.get("quantity"), f"{where}.quantity")
        amount = _kopecks(it.get("amount"), f"{where}.amount")
        tax = it.get("tax") if isinstance(it.get("tax"), dict) else {}
        vat = T.VAT_BY_TAX_TYPE.get(tax.get("type"))
        if vat is None:
            raise TaskError(T.INVALID_TAX_TYPE, f"{where}.tax.type {tax.get('type')!r}")
        method = T.PAYMENT_METHOD_CODES.get(it.get("paymentMethod", "fullPayment"))
        subject = T.PAYMENT_OBJECT_CODES.get(it.get("paymentObject", "commodity"))
        measure = T.MEASURE_CODES.get(it.get("measurementUnit", "piece"))
        if method is None or subject is None or measure is None:
            raise TaskError(T.INVALID_PARAM, f"{where}: paymentMethod/paymentObject/measurementUnit")
        tlvs = []
        if measure:
            tlvs.append(codec.tlv_u8(2108, measure))
        code = it.get("productCode")
        if code:
            tag = {8: 1301, 13: 1302, 14: 1303}.get(len(str(code)))
            if tag is None or not str(code).isdigit():
                raise TaskError(T.INVALID_PARAM, f"{where}.productCode {code!r}")
            tlvs.append(codec.tlv(1163, [codec.tlv(tag, str(code))]))
        imc = it.get("imcParams")
        if imc is not None:
            tlvs += self._marking_tlvs(where, imc, it.get("industryInfo"), subject)
        elif subject in (31, 33):
            raise TaskError(
                T.NO_REQUIRED_PARAM, f"{where}: paymentObject {it.get('paymentObject')} без imcParams"
            )
        values = {
            "quantity": qty,
            "price": price,
            "amount": amount,
            "tax_amount": codec.NOT_GIVEN_5,
            "tax": C.VAT_TO_SHTRIH[vat],
            "department": 1,
            "payment_method": method,
            "subject": subject,
            "name": name,
        }
        return values, tlvs

    def _marking_tlvs(self, where, imc, industry, subject):
        """Tags of a marked position: 2000 code, 2102 mode, 2106 check result, 2110 status,
        1260 the permissive-mode requisite.  The code must have been checked and accepted."""
        if not isinstance(imc, dict) or not isinstance(imc.get("imc"), str):
            raise TaskError(T.INVALID_PARAM, f"{where}.imcParams")
        if subject not in (31, 33):
            raise TaskError(T.INVALID_PARAM, f"{where}: КМ у позиции без признака маркированного товара")
        accepted = self.accepted.get(imc["imc"])
        if accepted is None:
            raise TaskError(T.MARKING_CODE_NOT_ACCEPTED, f"{where}: КМ не проверен и не принят")
        if imc.get("imcModeProcessing", 0) != 0:
            raise TaskError(T.INVALID_PARAM, f"{where}.imcModeProcessing")
        status = T.ESTIMATED_STATUS_CODES.get(imc.get("itemEstimatedStatus"))
        if status != accepted["status"]:
            raise TaskError(T.MARKING_CODE_NOT_ACCEPTED, f"{where}: статус не тот, что проверялся")
        raw = accepted["raw"]
        out = [
            codec.tlv(2000, raw.encode("ascii", errors="replace")),
            codec.tlv_u8(2102, 0),
            codec.tlv_u8(2106, accepted["bits"]),
            codec.tlv_u8(2110, status),
        ]
        for entry in industry or []:
            parts = [
                codec.tlv(1262, str(entry.get("fois", ""))),
                codec.tlv(1263, str(entry.get("date", ""))),
                codec.tlv(1264, str(entry.get("number", ""))),
            ]
            if entry.get("industryAttribute"):
                parts.append(codec.tlv(1265, str(entry["industryAttribute"])))
            out.append(codec.tlv(1260, parts))
        return out

    # ------------------------------------------------------------------ marking
    @staticmethod
    def _decode_imc(params):
        import base64
        import binascii

        try:
            raw = base64.b64decode(params.get("imc", ""), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            raise TaskError(T.INVALID_PARAM, "params.imc: не base64") from None
        return raw

    def marking_begin(self, task):
        params = task.get("params")
        if not isinstance(params, dict):
            raise TaskError(T.NO_REQUIRED_PARAM, "params")
        if self.validation is not None and not self.validation.get("closed"):
            raise TaskError(T.MARKING_CHECK_ALREADY_STARTED)
        raw = self._decode_imc(params)
        status = T.ESTIMATED_STATUS_CODES.get(params.get("itemEstimatedStatus"))
        if status is None or params.get("imcModeProcessing", 0) != 0:
            raise TaskError(T.INVALID_PARAM, "params.itemEstimatedStatus / imcModeProcessing")
        from .. import errors as E
        from .. import marking

        try:
            code = marking.parse(raw)
        except E.DocumentInvalid:
            code = None
        # the FN's own check: a code with a crypto tail it can read is checked locally
        fn_ok = code is not None
        answer = self.oism.get(code.cis if code else raw, "valid")
        offline = answer == "offline"
        correct = answer == "valid" or (status in (3, 4) and answer == "sold")
        bits = (1 if fn_ok else 0) | (2 if fn_ok else 0)
        if not offline:
            bits |= 4 | (8 if correct else 0)
        else:
            bits |= 16
        self.validation = {
            "imc": params["imc"],
            "raw": raw,
            "status": status,
            "bits": bits,
            "answer": answer,
            "closed": False,
        }
        return {}

    def marking_status(self, task):
        v = self.validation
        if v is None:
            raise TaskError(T.MARKING_CHECK_NOT_STARTED)
        flags = {name: bool(v["bits"] & (1 << bit)) for name, bit in T.CHECK_RESULT_BITS}
        online = (
            None
            if v["answer"] == "offline"
            else {
                "itemInfoCheckResult": flags,
                "markOperatorItemStatus": "itemEstimatedStatusCorrect"
                if flags["imcEstimatedStatusCorrect"]
                else "itemEstimatedStatusIncorrect",
                "markOperatorResponseResult": "correct",
            }
        )
        return {
            "ready": True,
            "sentImcRequest": online is not None,
            "onlineValidation": online,
            "offlineValidation": {"fmCheck": flags["imcCheckFlag"], "fmCheckResult": flags["imcCheckResult"]},
        }

    def marking_accept(self, task):
        v = self.validation
        if v is None or v.get("closed"):
            raise TaskError(T.MARKING_CHECK_NOT_STARTED)
        v["closed"] = True
        self.accepted[v["imc"]] = v
        return {
            "itemInfoCheckResult": {name: bool(v["bits"] & (1 << bit)) for name, bit in T.CHECK_RESULT_BITS}
        }

    def marking_decline(self, task):
        v = self.validation
        if v is None or v.get("closed"):
            raise TaskError(T.MARKING_CHECK_NOT_STARTED)
        v["closed"] = True
        return {}

    def marking_cancel(self, task):
        if self.validation is None:
            raise TaskError(T.MARKING_CHECK_NOT_STARTED)
        self.validation = None
        return {}

    def marking_clear(self, task):
        self.validation = None
        self.accepted.clear()
        return {}

    def receipt(self, task):
        operation = T.OPERATION_BY_TASK[task["type"]]
        items = task.get("items")
        if not isinstance(items, list) or not any(
            isinstance(i, dict) and i.get("type") == "position" for i in (items or [])
        ):
            raise TaskError(T.NO_REQUIRED_PARAM, "items: нет ни одной позиции")
        prepared = [
            self._item(i, it)
            for i, it in enumerate(items)
            if isinstance(it, dict) and it.get("type") == "position"
        ]
        pays = self._payments(task)
        tax_bit = self._taxation_bit(task)
        doc_tlvs = self._operator_tlvs(task)
        client = task.get("clientInfo") or {}
        if client.get("emailOrPhone"):
            doc_tlvs.append(
                codec.tlv(
                    1008,
                    codec.pack_text(
                        _text(client["emailOrPhone"], "clientInfo.emailOrPhone", 64), codec.TLV_ENCODING
                    ),
                )
            )
        extra = task.get("additionalAttribute")
        if extra:
            doc_tlvs.append(
                codec.tlv(1192, codec.pack_text(_text(extra, "additionalAttribute", 16), codec.TLV_ENCODING))
            )
        total_declared = task.get("total")
        total = sum(v["amount"] for v, _ in prepared)
        if total_declared is not None and _kopecks(total_declared, "total") != total:
            raise TaskError(T.INVALID_SUM, "total не равен сумме позиций")
        before = self.fn(0xFF01)["last_fd"]
        started = False
        try:
            for values, tlvs in prepared:
                started = True
                self.fn(0xFF46, operation=operation, **values)
                if tlvs:
                    self.fn(0xFF4D, tlv=b"".join(tlvs))
            self._send_doc_tlvs(doc_tlvs)
            close = {f"pay{i}": 0 for i in range(1, 17)}
            for field, slot in C.PAYMENT_SLOTS.items():
                close[f"pay{slot}"] = pays.get(field, 0)
            close.update({f"tax{i}": 0 for i in range(1, 7)})
            close.update(rounding=0, tax_system=tax_bit, text="")
            rep = self.fn(0xFF45, **close)
        except TaskError:
            if started and self.fn(0xFF01)["last_fd"] == before:
                self.cancel_open()
            raise
        finally:
            if started:
                self.accepted.clear()  # the FN forgets the checked codes with the receipt
                self.validation = None
        params = self._fiscal_params(rep["fd_number"], total)
        params["fiscalReceiptNumber"] = self.model.state["archive"][str(rep["fd_number"])].get(
            "receipt_number", 0
        )
        return {"fiscalParams": params, "warnings": None}

    def correction(self, task):
        operation = T.OPERATION_BY_TASK[task["type"]]
        ctype = T.CORRECTION_TYPE_CODES.get(task.get("correctionType", "self"))
        if ctype is None:
            raise TaskError(T.INVALID_PARAM, f"correctionType {task.get('correctionType')!r}")
        pays = self._payments(task)
        total = _kopecks(task.get("total", sum(pays.values()) / 100), "total")
        tax_bit = self._taxation_bit(task)
        basis = []
        base_date = task.get("correctionBaseDate")
        if base_date:
            try:
                day = dt.datetime.strptime(base_date, "%Y.%m.%d")
            except (TypeError, ValueError):
                raise TaskError(T.INVALID_PARAM, f"correctionBaseDate {base_date!r}") from None
            stamp = int(day.replace(tzinfo=dt.timezone.utc).timestamp())
            basis.append(codec.tlv_u32(1178, stamp))
        if task.get("correctionBaseNumber"):
            basis.append(
                codec.tlv(
                    1179,
                    codec.pack_text(
                        _text(task["correctionBaseNumber"], "correctionBaseNumber", 32), codec.TLV_ENCODING
                    ),
                )
            )
        tlvs = ([codec.tlv(1174, basis)] if basis else []) + self._operator_tlvs(task)
        slots = {"cash": 1, "electronic": 2, "prepayment": 3, "credit": 4, "other": 5}
        values = {
            "correction_type": ctype,
            "operation": operation,
            "total": total,
            "tax_system": tax_bit,
            **{f"pay{i}": 0 for i in range(1, 6)},
            **{f"tax{i}": 0 for i in range(1, 7)},
        }
        for field, amount in pays.items():
            values[f"pay{slots[field]}"] = amount
        before = self.fn(0xFF01)["last_fd"]
        self.fn(0xFF35)
        try:
            self._send_doc_tlvs(tlvs)
            rep = self.fn(0xFF4A, **values)
        except TaskError:
            if self.fn(0xFF01)["last_fd"] == before:
                self.cancel_open()
            raise
        params = self._fiscal_params(rep["fd_number"], total)
        params["fiscalReceiptNumber"] = rep["receipt_number"]
        return {"fiscalParams": params, "warnings": None}

    # ------------------------------------------------------------------ cash and reports
    def cash(self, task):
        amount = _kopecks(task.get("cashSum"), "cashSum")
        if amount <= 0:
            raise TaskError(T.INVALID_SUM, "cashSum")
        self.fn(0x50 if task["type"] == "cashIn" else 0x51, amount=amount)
        drawer = self.fn(0x1A, register=C.REG_CASH_IN_DRAWER)["value"]
        return {"counters": {"cashSum": _rub(drawer)}}

    def report_x(self, task):
        self.fn(0x40)
        return {}

    def shift_totals(self, task):
        def reg(number):
            return self.fn(0x1A, register=number)["value"]

        def opreg(number):
            return self.fn(0x1B, register=number)["value"]

        receipts = {}
        for op, task_name in T.RECEIPT_TASKS.items():
            index = C.REG_OP_INDEX[op]
            payments = {
                T.PAYMENT_TYPES[f]: _rub(reg(C.payment_register(index, slot)))
                for f, slot in C.PAYMENT_SLOTS.items()
            }
            receipts[task_name] = {
                "count": opreg(C.OPREG_RECEIPT_COUNT_BASE + index),
                "sum": round(sum(payments.values()), 2),
                "payments": payments,
            }
        params = self.fn(0xFF40)
        return {
            "shiftTotals": {
                "shiftNumber": params["shift_number"],
                "receipts": receipts,
                "income": {"count": opreg(C.OPREG_CASH_IN_COUNT), "sum": _rub(reg(C.REG_CASH_IN_TOTAL))},
                "outcome": {"count": opreg(C.OPREG_CASH_OUT_COUNT), "sum": _rub(reg(C.REG_CASH_OUT_TOTAL))},
                "canceled": {"count": opreg(C.OPREG_VOID_COUNT)},
                "cashDrawer": {"sum": _rub(reg(C.REG_CASH_IN_DRAWER))},
            }
        }

    # ------------------------------------------------------------------ status
    def device_status(self, task):
        short = self.fn(0x10)
        long = self.fn(0x11)
        mode = short["mode"] & 0x0F
        flags = short["flags"]
        now = dt.datetime.combine(long["date"], long["time"])
        return {
            "deviceStatus": {
                "currentDateTime": _local_iso(now),
                "shift": {2: "opened", 3: "expired"}.get(mode, "opened" if mode == 8 else "closed"),
                "paperPresent": bool(flags & (1 << 7)) and bool(flags & (1 << 1)),
                "coverOpened": bool(flags & (1 << 10)),
                "blocked": False,
                "fiscal": True,
                "fnFiscal": True,
                "fnPresent": True,
                "documentOpened": mode == 8,
            }
        }

    def device_info(self, task):
        long = self.fn(0x11)
        return {
            "deviceInfo": {
                "modelName": "АТОЛ 30Ф (эмулятор)",
                "serial": f"{long['serial']:014d}",
                "firmwareVersion": f"5.8.{long['fw_build']}",
                "ffdVersion": "1.2",
            }
        }

    def shift_status(self, task):
        params = self.fn(0xFF40)
        mode = self.fn(0x10)["mode"] & 0x0F
        opened = self.model.state["shift"].get("opened_at")
        expires = None
        if params["shift_open"] and opened:
            expires = _local_iso(dt.datetime.fromisoformat(opened) + dt.timedelta(hours=24))
        state = "closed" if not params["shift_open"] else ("expired" if mode == 3 else "opened")
        return {
            "shiftStatus": {
                "number": params["shift_number"],
                "state": state,
                "expiredTime": expires,
                "openedTime": _local_iso(dt.datetime.fromisoformat(opened))
                if params["shift_open"] and opened
                else None,
                "documentsCount": params["receipt_number"] - 1,
            }
        }

    def fn_info(self, task):
        st = self.fn(0xFF01)
        expiry = self.fn(0xFF03)
        free = self.fn(0xFF63)["free_docs"]
        used = (st["last_fd"] * 100) // max(1, st["last_fd"] + free)
        return {
            "fnInfo": {
                "serial": st["fn_serial"],
                "ffdVersion": "1.2",
                "execution": "fn-2",
                "validityDate": _local_iso(dt.datetime.combine(expiry["date"], dt.time())),
                "numberOfRegistrations": expiry.get("reg_count") or 1,
                "registrationsRemaining": expiry.get("reg_left") or 0,
                "freeDocuments": free,
                "memoryUsedPercent": used,
                "warnings": {
                    "memoryOverflow": used >= 99,
                    "needReplacement": False,
                    "resourceExhausted": free == 0,
                    "ofdTimeout": bool(st["warnings"] & (1 << 3)),
                    "criticalError": False,
                },
            }
        }

    def fn_status(self, task):
        st = self.fn(0xFF01)
        kinds = {0: "none", 2: "openShift", 4: "receipt", 8: "closeShift", 0x14: "receiptCorrection"}
        return {
            "fnStatus": {
                "fnSerial": st["fn_serial"],
                "fiscalDocumentNumber": st["last_fd"],
                "fiscalDocumentDateTime": _local_iso(dt.datetime.combine(st["date"], st["time"])),
                "shiftOpened": bool(st["shift_open"]),
                "documentOpened": kinds.get(st["doc_type"], "other"),
            }
        }

    def ofd_status(self, task):
        rep = self.fn(0xFF39)
        queue = rep["queue"]
        return {
            "status": {
                "notSentCount": queue,
                "notSentFirstDocNumber": rep["first_fd"] if queue else 0,
                "notSentFirstDocDateTime": _local_iso(dt.datetime.combine(rep["date"], rep["time"]))
                if queue
                else None,
                "ofdMessageRead": bool(rep["status"] & (1 << 2)),
            }
        }

    def fn_document(self, task):
        number = task.get("fiscalDocumentNumber")
        if isinstance(number, bool) or not isinstance(number, int) or number <= 0:
            raise TaskError(T.INVALID_PARAM, "fiscalDocumentNumber")
        rep = self.fn(0xFF0A, fd_number=number)
        doc = {
            "fiscalDocumentType": T.DOCUMENT_TYPES.get(rep["fd_type"], str(rep["fd_type"])),
            "fiscalDocumentNumber": rep["fd_number"],
            "fiscalDocumentSign": str(rep["fiscal_sign"]),
            "fiscalDocumentDateTime": _local_iso(rep["when"]),
            "ofdTicketReceived": bool(rep["ticket"]),
        }
        tail = rep["tail"]
        if rep["fd_type"] in (3, 31) and len(tail) >= 6:
            doc["1054"] = tail[0]
            doc["1020"] = _rub(int.from_bytes(tail[1:6], "little"))
        elif rep["fd_type"] in (2, 5) and len(tail) >= 2:
            doc["1038"] = int.from_bytes(tail[:2], "little")
        return {"documentTLV": doc}
