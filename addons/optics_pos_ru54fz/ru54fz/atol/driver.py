"""``AtolDriver``: an ATOL register through the ATOL driver's web server.

Every operation is one *request* of JSON tasks: ``POST /api/v2/requests``
with a fresh request uuid, then ``GET /api/v2/requests/<uuid>`` until every
task is final.  The uuid makes the exchange safe over a flaky link:

* a POST whose answer is lost is posted again with the same uuid; ``409``
  means the web server had it, so the driver just polls (never two requests);
* a GET whose answer is lost is simply asked again;
* when the web server stays unreachable, or the register's link broke while a
  task ran (libfptr codes 1-4), the outcome is unknown: ``TransportError``
  carrying the request uuid.  The uuid stays *in flight*: before anything
  else the driver asks the web server how that request ended (cancelling it
  if it is still queued), so a queued sale can never run after the till
  decided it did not happen.  The till then settles by reading the FN
  archive by document number (``find_document``: task ``getFnDocument``).

Money goes out as rubles with two decimals, quantities with three; the web
server executes requests one at a time in arrival order.  Layouts and
sources: docs/kkt_atol_webserver.md.
"""

import contextlib
import datetime as dt
import http.client
import json
import os
import threading
import time
import uuid as uuidlib
from decimal import Decimal
from urllib.parse import urlsplit

from .. import errors as E
from .. import till_policy
from ..device import FiscalDevice, FiscalResult, FNStatus, FoundDocument
from . import tables as T

DEFAULT_TIMEOUTS = {
    "http": 5.0,  # one HTTP exchange with the web server
    "task": 30.0,  # a request's tasks to become final (printing included)
    "poll": 0.005,  # pause between polls (after 1 s doubling up to 0.1 s)
}

_REFUSALS = {
    T.NO_PAPER: E.PaperOut,
    T.COVER_OPENED: E.CoverOpen,
    T.BUSY: E.DeviceBusy,
    T.SHIFT_EXPIRED: E.ShiftExpired,
    T.FN_SHIFT_EXPIRED: E.ShiftExpired,
    T.DENIED_IN_CLOSED_SHIFT: E.ShiftClosed,
    T.FN_OVERFLOW: E.FiscalDriveFull,
    T.FN_EXPIRED: E.FiscalDriveFull,
    T.FN_HAS_NOT_SEND_DOCUMENTS: E.OfdBacklogBlocked,
    T.FN_INVALID_DATE_TIME: E.ClockMismatch,
    T.NO_CASH: E.InsufficientCash,
    T.INVALID_MESSAGE_FROM_OFD: E.OfdTicketRejected,
}
#: what the register reports for an FD number the FN does not hold
_NO_DOCUMENT = {T.FN_NO_MORE_DATA}


def _money(kopecks):
    return float(Decimal(int(kopecks)) / 100)


def _kopecks(value):
    return int((Decimal(str(value)) * 100).to_integral_value())


def _local(value):
    """ISO text of the web server (with an offset) -> naive local ISO text."""
    if not value:
        return ""
    try:
        when = dt.datetime.fromisoformat(str(value))
    except ValueError:
        return str(value)
    if when.tzinfo is not None:
        when = when.astimezone().replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


class AtolDriver(FiscalDevice):
    #: the register sends its documents to the OFD on its own channel; the till learns
    #: the confirmations from ``fn_status`` (TillService._sync_ofd_from_device)
    delivers_to_ofd_itself = True

    def __init__(self, address, timeouts=None, inflight_file=None):
        parts = urlsplit(address if "//" in address else f"http://{address}")
        if parts.scheme not in ("http", "") or not parts.hostname:
            raise E.RequestInvalid(f"ATOL web server address must be http://host:port, got {address!r}")
        self.host = parts.hostname
        self.port = parts.port or till_policy.DEFAULT_PORTS["http"]
        self.timeouts = {**DEFAULT_TIMEOUTS, **(timeouts or {})}
        self.inflight_file = inflight_file
        self.lock = threading.RLock()
        self._conn = None
        self._inflight = self._read_inflight()
        self.requests_sent = 0

    # ================================================================ HTTP
    def close(self):
        with self.lock:
            self._drop()

    def _drop(self):
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _http(self, method, path, body=None):
        """(status, parsed JSON or None); raises TransportError when no answer came."""
        raw = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = {"Content-Type": "application/json; charset=utf-8"} if raw is not None else {}
        for attempt in range(2):
            if self._conn is None:
                self._conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeouts["http"])
            try:
                self._conn.request(method, path, body=raw, headers=headers)
                resp = self._conn.getresponse()
                data = resp.read()
            except (OSError, http.client.HTTPException) as exc:
                self._drop()
                # a kept-alive connection the server closed in between: one fresh try
                if (
                    attempt == 0
                    and isinstance(
                        exc, (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError)
                    )
                    and method == "GET"
                ):
                    continue
                raise E.TransportError(
                    f"no answer from the ATOL web server ({method} {path}): {exc}", stage="http"
                ) from None
            if resp.getheader("Connection", "").lower() == "close":
                self._drop()
            try:
                parsed = json.loads(data) if data else None
            except ValueError:
                raise E.TransportError(
                    f"the ATOL web server answered {method} {path} with non-JSON", stage="http"
                ) from None
            return resp.status, parsed
        raise E.TransportError("no answer from the ATOL web server", stage="http")

    # ================================================================ requests
    def _read_inflight(self):
        if self.inflight_file and os.path.exists(self.inflight_file):
            with open(self.inflight_file, encoding="utf-8") as fh:
                return fh.read().strip() or None
        return None

    def _set_inflight(self, request_uuid):
        self._inflight = request_uuid
        if self.inflight_file:
            tmp = self.inflight_file + ".tmp"
            with open(tmp, "w", encoding="utf-8") as fh:
                fh.write(request_uuid or "")
            os.replace(tmp, self.inflight_file)

    def _post(self, request_uuid, tasks):
        body = {"uuid": request_uuid, "request": tasks}
        last = None
        for _ in range(3):
            try:
                status, reply = self._http("POST", "/api/v2/requests", body)
            except E.TransportError as exc:
                last = exc  # maybe it arrived: the same uuid again is safe
                continue
            if status in (200, 201):
                return
            if status == 409:
                return  # our earlier POST did arrive
            text = ((reply or {}).get("error") or {}).get("description") or f"HTTP {status}"
            raise E.RequestInvalid(f"the ATOL web server refused the request: {text}", http_status=status)
        raise E.TransportError(
            f"the ATOL web server does not answer: {last.message}", stage="post", request_uuid=request_uuid
        )

    def _poll(self, request_uuid, deadline):
        """Final results of a request, or None when it is unknown to the web server."""
        pause = self.timeouts["poll"]
        started = time.monotonic()
        failures = 0
        while True:
            try:
                status, reply = self._http("GET", f"/api/v2/requests/{request_uuid}")
                failures = 0
            except E.TransportError as exc:
                failures += 1
                if failures > 3 or time.monotonic() > deadline:
                    exc.details["request_uuid"] = request_uuid
                    raise
                time.sleep(pause)
                continue
            if status == 404:
                return None
            if status != 200 or not isinstance(reply, dict) or not isinstance(reply.get("results"), list):
                raise E.TransportError(
                    f"unexpected answer to GET request {request_uuid}: HTTP {status}",
                    stage="poll",
                    request_uuid=request_uuid,
                )
            results = reply["results"]
            if results and all(r.get("status") in T.FINAL_STATUSES for r in results):
                return results
            if time.monotonic() > deadline:
                raise E.TransportError(
                    f"the ATOL register did not finish request {request_uuid} in time; it may still run",
                    stage="poll",
                    request_uuid=request_uuid,
                )
            time.sleep(pause)
            if time.monotonic() - started > 1.0:  # a long task (printing): poll less often
                pause = min(pause * 2, 0.1)

    def _settle_inflight(self):
        """Resolve a request whose outcome was lost before sending another one."""
        request_uuid = self._inflight
        if not request_uuid:
            return None
        status, _ = self._http("DELETE", f"/api/v2/requests/{request_uuid}")
        results = None
        if status != 200:  # started or finished: wait for its end
            results = self._poll(request_uuid, time.monotonic() + self.timeouts["task"])
        self._set_inflight(None)
        return results

    def run(self, tasks, timeout=None):
        """Run tasks as one request; returns their ``result`` objects.  A refused task
        raises its typed error with ``results`` (all tasks) in ``details``."""
        with self.lock:
            self._settle_inflight()
            request_uuid = str(uuidlib.uuid4())
            self._set_inflight(request_uuid)
            self.requests_sent += 1
            self._post(request_uuid, tasks)
            results = self._poll(request_uuid, time.monotonic() + (timeout or self.timeouts["task"]))
            if results is None:
                self._set_inflight(None)
                raise E.TransportError(
                    f"the ATOL web server lost request {request_uuid}",
                    stage="poll",
                    request_uuid=request_uuid,
                )
            failed = next((r for r in results if r.get("status") == "error"), None)
            if failed is not None and failed.get("errorCode") in T.LINK_CODES:
                # the register's link broke while the task ran: done or not is unknown
                self._set_inflight(None)
                raise E.TransportError(
                    f"the ATOL web server lost the link to the register during the request "
                    f"({failed.get('errorDescription')}); the operation may or may not have been done",
                    stage="device",
                    request_uuid=request_uuid,
                    device_code=failed.get("errorCode"),
                )
            self._set_inflight(None)
        if failed is not None:
            exc = self._refusal(failed, tasks, results)
            exc.results = results
            raise exc
        return [r.get("result") or {} for r in results]

    @staticmethod
    def _refusal(failed, tasks, results):
        code = failed.get("errorCode")
        index = results.index(failed)
        kind = tasks[index].get("type") if index < len(tasks) else "?"
        message = f"the ATOL register refused {kind}: {failed.get('errorDescription') or code}"
        cls = _REFUSALS.get(code, E.DeviceError)
        return cls(message, device_code=code, task=kind)

    # ================================================================ status
    def status(self):
        st, info, shift = self.run(
            [{"type": "getDeviceStatus"}, {"type": "getDeviceInfo"}, {"type": "getShiftStatus"}]
        )
        dev = st.get("deviceStatus", {})
        info = info.get("deviceInfo", {})
        shift = shift.get("shiftStatus", {})
        state = dev.get("shift") or shift.get("state")
        return {
            "mode_text": f"shift {state}",
            "shift": state,
            "paper_present": bool(dev.get("paperPresent")),
            "cover_open": bool(dev.get("coverOpened")),
            "kkt_time": _local(dev.get("currentDateTime")),
            "serial": str(info.get("serial", "")),
            "model": info.get("modelName", ""),
            "firmware": info.get("firmwareVersion", ""),
            "shift_number": shift.get("number"),
        }

    def fn_brief(self):
        """FN serial, last FD number, shift and open document in one request."""
        (fn,) = self.run([{"type": "getFnStatus"}])
        fn = fn.get("fnStatus", {})
        return FNStatus(
            fn_serial=str(fn.get("fnSerial", "")),
            last_fd_number=int(fn.get("fiscalDocumentNumber", 0)),
            shift_open=bool(fn.get("shiftOpened")),
            shift_number=0,
            shift_opened_at=None,
            open_document=0 if fn.get("documentOpened", "none") == "none" else 1,
            unconfirmed_count=0,
            oldest_unconfirmed_at=None,
        )

    def fn_status(self):
        fn, info, shift, ofd = self.run(
            [
                {"type": "getFnStatus"},
                {"type": "getFnInfo"},
                {"type": "getShiftStatus"},
                {"type": "ofdExchangeStatus"},
            ]
        )
        fn, info = fn.get("fnStatus", {}), info.get("fnInfo", {})
        shift, ofd = shift.get("shiftStatus", {}), ofd.get("status", {})
        queue = int(ofd.get("notSentCount") or 0)
        valid = _local(info.get("validityDate"))
        return FNStatus(
            fn_serial=str(info.get("serial") or fn.get("fnSerial", "")),
            last_fd_number=int(fn.get("fiscalDocumentNumber", 0)),
            shift_open=shift.get("state") in ("opened", "expired"),
            shift_number=int(shift.get("number") or 0),
            shift_opened_at=_local(shift.get("openedTime")) or None,
            open_document=0 if fn.get("documentOpened", "none") == "none" else 1,
            unconfirmed_count=queue,
            oldest_unconfirmed_at=_local(ofd.get("notSentFirstDocDateTime")) if queue else None,
            first_unconfirmed_fd=int(ofd.get("notSentFirstDocNumber") or 0) if queue else None,
            fn_valid_until=valid[:10] if valid else None,
            fn_memory_used_pct=int(info.get("memoryUsedPercent") or 0),
        )

    # ================================================================ documents
    def find_document(self, fd_number):
        try:
            (doc,) = self.run([{"type": "getFnDocument", "fiscalDocumentNumber": int(fd_number)}])
        except E.DeviceError as exc:
            if exc.device_code in _NO_DOCUMENT:
                return None
            raise
        tlv = doc.get("documentTLV", {})
        fd_type = T.FD_TYPE_CODES.get(tlv.get("fiscalDocumentType"), 0)
        return FoundDocument(
            fd_number=int(tlv.get("fiscalDocumentNumber", fd_number)),
            fd_type=fd_type,
            fiscal_sign=int(tlv.get("fiscalDocumentSign") or 0),
            doc_time=_local(tlv.get("fiscalDocumentDateTime")),
            total=_kopecks(tlv.get("1020", 0)),
            operation=int(tlv.get("1054", 0)),
            ofd_confirmed=bool(tlv.get("ofdTicketReceived")),
        )

    @staticmethod
    def _operator(cashier, cashier_inn=""):
        op = {"name": cashier}
        if cashier_inn:
            op["vatin"] = cashier_inn
        return op

    def _result(self, params, fd_type):
        return FiscalResult(
            fd_number=int(params["fiscalDocumentNumber"]),
            fiscal_sign=int(params["fiscalDocumentSign"]),
            fn_serial=str(params.get("fnNumber", "")),
            shift_number=int(params.get("shiftNumber") or 0),
            doc_time=_local(params.get("fiscalDocumentDateTime")),
            receipt_number=int(params.get("fiscalReceiptNumber") or 0),
            fd_type=fd_type,
        )

    def _fiscal(self, task, fd_type, document=None):
        """One fiscal document: ``[getFnStatus, task]`` in one request, so that a refusal after
        the FN formed the document (a printer failure after the fiscal sign) is seen and the
        document returned as fiscalised, never reported refused."""
        try:
            before, out = self.run([{"type": "getFnStatus"}, task])
        except E.DeviceError as exc:
            formed = self._formed_despite(exc, fd_type, document)
            if formed is None:
                raise
            return formed
        except E.TransportError as exc:
            exc.details.setdefault("stage", "close")
            raise
        result = self._result(out["fiscalParams"], fd_type)
        if not result.fn_serial:
            result.fn_serial = str(before.get("fnStatus", {}).get("fnSerial", ""))
        return result

    def _formed_despite(self, exc, fd_type, document):
        """After a refused fiscal task: did the FN form the document anyway?  Returns its
        FiscalResult, or None when the FN holds nothing new."""
        first = (getattr(exc, "results", None) or [{}])[0]
        if first.get("status") != "ready":
            return None  # the status read itself failed: nothing ran
        before = int((first.get("result") or {}).get("fnStatus", {}).get("fiscalDocumentNumber", 0))
        try:
            (fn,) = self.run([{"type": "getFnStatus"}])
        except E.FiscalError:
            raise E.TransportError(
                f"the register refused ({exc.message}) and its state cannot be read",
                stage="close",
                expected_fd=before + 1,
            ) from exc
        fn = fn.get("fnStatus", {})
        if int(fn.get("fiscalDocumentNumber", 0)) <= before:
            return None
        found = self.find_document(before + 1)
        if found is None or found.fd_type != fd_type:
            return None
        if document is not None and (found.total != document.total or found.operation != document.operation):
            return None
        return FiscalResult(
            fd_number=found.fd_number,
            fiscal_sign=found.fiscal_sign,
            fn_serial=str(fn.get("fnSerial", "")),
            shift_number=0,
            doc_time=found.doc_time,
            fd_type=found.fd_type,
            extra={"device_error": exc.to_dict()},
        )

    def open_shift(self, cashier, cashier_inn=""):
        return self._fiscal({"type": "openShift", "operator": self._operator(cashier, cashier_inn)}, 2)

    def close_shift(self, cashier, cashier_inn=""):
        counters = self.shift_counters()
        result = self._fiscal({"type": "closeShift", "operator": self._operator(cashier, cashier_inn)}, 5)
        result.extra = {**counters, **result.extra}
        return result

    def cancel_open_document(self):
        """JSON tasks are atomic: the driver cancels a receipt it could not finish and a
        register that lost power forgets the unfinished one, so nothing stays open."""
        return False

    def fiscalise(self, document):
        if hasattr(document, "correction_type"):
            task = self._correction_task(document)
            fd_type = 31
        else:
            task = self._receipt_task(document)
            fd_type = 3
        marked = [(i, it) for i, it in enumerate(document.items) if getattr(it, "marking_code", "")]
        with self.lock:
            if marked:
                try:
                    for index, item in marked:
                        task["items"][index].update(self._check_marking(index, item, int(document.operation)))
                except E.FiscalError:
                    self._clear_marking()
                    raise
            result = self._fiscal(task, fd_type, document)
        from .. import ffd

        result.qr = ffd.qr_text(result, document.total, document.operation)
        return result

    # ---------------------------------------------------------------- marking (ФФД 1.2)
    def _check_marking(self, index, item, operation):
        """beginMarkingCodeValidation -> getMarkingCodeValidationStatus until ready ->
        acceptMarkingCode (or declineMarkingCode and refuse).  Returns the position's
        ``imcParams`` and ``industryInfo``."""
        import base64

        from ..marking import PERMISSIVE_DATE, PERMISSIVE_FOIV, PERMISSIVE_NUMBER, MarkingRefused

        status = T.ITEM_ESTIMATED_STATUS[3 if operation in (2, 4) else 1]
        imc = base64.b64encode(item.marking_code.encode("utf-8")).decode("ascii")
        params = {"imcType": "auto", "imc": imc, "itemEstimatedStatus": status, "imcModeProcessing": 0}
        try:
            self.run([{"type": "beginMarkingCodeValidation", "params": params}])
        except E.DeviceError as exc:
            if exc.device_code != T.MARKING_CHECK_ALREADY_STARTED:
                raise
            # a check left over by an interrupted receipt: drop it and start ours
            self.run([{"type": "cancelMarkingCodeValidation"}])
            self.run([{"type": "beginMarkingCodeValidation", "params": params}])
        deadline = time.monotonic() + self.timeouts["task"]
        while True:
            (state,) = self.run([{"type": "getMarkingCodeValidationStatus"}])
            if state.get("ready"):
                break
            if time.monotonic() > deadline:
                self.run([{"type": "cancelMarkingCodeValidation"}])
                raise E.TransportError(
                    "the register did not finish the marking code check in time", stage="marking"
                )
            time.sleep(self.timeouts["poll"])
        online = state.get("onlineValidation") or {}
        if online.get("markOperatorItemStatus") == "itemEstimatedStatusIncorrect":
            self.run([{"type": "declineMarkingCode"}])
            raise MarkingRefused(
                f"item {index + 1} ({item.name}): the marking operator refused the code "
                f"(status incorrect for this operation)",
                device_code="oism_incorrect",
                item=index,
            )
        (accepted,) = self.run([{"type": "acceptMarkingCode"}])
        imc_params = {**params, "itemInfoCheckResult": accepted.get("itemInfoCheckResult", {})}
        out = {"imcParams": imc_params}
        check = getattr(item, "marking_check", None)
        if check is not None and check.source != "none":
            out["industryInfo"] = [
                {
                    "fois": PERMISSIVE_FOIV,
                    "date": PERMISSIVE_DATE,
                    "number": PERMISSIVE_NUMBER,
                    "industryAttribute": check.industry_value(),
                }
            ]
        return out

    def _clear_marking(self):
        with contextlib.suppress(E.FiscalError):
            self.run([{"type": "clearMarkingCodeValidationResult"}])

    # ---------------------------------------------------------------- task builders
    @staticmethod
    def _item(item):
        if item.vat not in T.TAX_TYPES:
            raise E.DocumentInvalid(f"VAT code {item.vat!r} has no ATOL tax type", field="vat")
        out = {
            "type": "position",
            "name": item.name,
            "price": _money(item.price),
            "quantity": float(Decimal(int(item.quantity)) / 1000),
            "amount": _money(item.amount),
            "tax": {"type": T.TAX_TYPES[item.vat]},
            "paymentMethod": T.PAYMENT_METHODS[item.payment_method],
            "paymentObject": T.PAYMENT_OBJECTS[item.subject],
            "measurementUnit": T.MEASUREMENT_UNITS[getattr(item, "measure", 0) or 0],
        }
        if getattr(item, "product_code", "") and not getattr(item, "marking_code", ""):
            out["productCode"] = item.product_code
        return out

    @staticmethod
    def _payments(pays):
        out = []
        for field, name in T.PAYMENT_TYPES.items():
            amount = int(getattr(pays, field, 0) or 0)
            if amount:
                out.append({"type": name, "sum": _money(amount)})
        return out

    def _receipt_task(self, document):
        if not document.items:
            raise E.DocumentInvalid("the receipt has no items", field="items")
        task = {
            "type": T.RECEIPT_TASKS[int(document.operation)],
            "taxationType": T.TAXATION_TYPES[int(document.tax_system)],
            "operator": self._operator(document.cashier, document.cashier_inn),
            "items": [self._item(i) for i in document.items],
            "payments": self._payments(document.payments),
            "total": _money(document.total),
        }
        if document.buyer_contact:
            task["clientInfo"] = {"emailOrPhone": document.buyer_contact}
        if document.additional:
            task["additionalAttribute"] = document.additional
        return task

    def _correction_task(self, document):
        task = {
            "type": T.CORRECTION_TASKS[int(document.operation)],
            "correctionType": T.CORRECTION_TYPES[int(document.correction_type)],
            "taxationType": T.TAXATION_TYPES[int(document.tax_system)],
            "operator": self._operator(document.cashier, document.cashier_inn),
            "items": [self._item(i) for i in document.items],
            "payments": self._payments(document.payments),
            "total": _money(document.total),
        }
        if document.basis_date:
            try:
                day = dt.date.fromisoformat(document.basis_date)
            except ValueError:
                raise E.DocumentInvalid(
                    f"basis date {document.basis_date!r} is not an ISO date", field="basis_date"
                ) from None
            task["correctionBaseDate"] = day.strftime("%Y.%m.%d")
        if document.basis_number:
            task["correctionBaseNumber"] = document.basis_number
        return task

    # ================================================================ cash and reports
    def _cash(self, kind, amount):
        if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
            raise E.RequestInvalid(f"cash amount must be a positive number of kopecks, got {amount!r}")
        (out,) = self.run([{"type": kind, "cashSum": _money(amount)}])
        return {
            "amount": amount,
            "doc_number": None,
            "cash_in_drawer": _kopecks(out.get("counters", {}).get("cashSum", 0)),
        }

    def cash_in(self, amount):
        return self._cash("cashIn", amount)

    def cash_out(self, amount):
        return self._cash("cashOut", amount)

    def x_report(self):
        counters = self.shift_counters()
        self.run([{"type": "reportX"}])
        return counters

    def shift_counters(self):
        totals, shift = self.run([{"type": "getShiftTotals"}, {"type": "getShiftStatus"}])
        totals, shift = totals.get("shiftTotals", {}), shift.get("shiftStatus", {})
        receipts = {}
        names = {"sell": "sale", "sellReturn": "sale_refund", "buy": "expense", "buyReturn": "expense_refund"}
        for task_name, name in names.items():
            src = totals.get("receipts", {}).get(task_name, {})
            pays = src.get("payments", {})
            row = {"count": int(src.get("count", 0))}
            for field, atol_name in T.PAYMENT_TYPES.items():
                row[field] = _kopecks(pays.get(atol_name, 0))
            row["total"] = sum(row[f] for f in T.PAYMENT_TYPES)
            receipts[name] = row
        return {
            "shift_number": int(totals.get("shiftNumber") or shift.get("number") or 0),
            "shift_open": shift.get("state") in ("opened", "expired"),
            "receipts": receipts,
            "cash_in": {
                "count": int(totals.get("income", {}).get("count", 0)),
                "total": _kopecks(totals.get("income", {}).get("sum", 0)),
            },
            "cash_out": {
                "count": int(totals.get("outcome", {}).get("count", 0)),
                "total": _kopecks(totals.get("outcome", {}).get("sum", 0)),
            },
            "voided": {"count": int(totals.get("canceled", {}).get("count", 0))},
            "cash_in_drawer": _kopecks(totals.get("cashDrawer", {}).get("sum", 0)),
        }

    # ================================================================ OFD
    def read_ofd_message(self):
        """ATOL registers send their documents to the OFD themselves (the driver's own
        channel, configured in the web server): there is no message for the till to carry."""
        return None

    def write_ofd_ticket(self, ticket):
        raise E.DeviceError(
            "ATOL registers receive OFD tickets on their own channel; the till does not carry them",
            device_code=T.NOT_SUPPORTED,
        )
