"""Marking codes (Честный ЗНАК) at the till: the scanned code, the permissive-mode
check (ПП РФ № 1944 of 21.11.2023) and the gate in front of the KKT.

* ``parse(raw)``: a DataMatrix code as a 2D scanner types it into the POS (GS1
  element string, the GS character 0x1D between variable-length fields) ->
  ``MarkingCode`` (GTIN, serial, crypto tail, the identity ``cis``); clear errors
  for anything else.
* Checkers, pluggable: ``OnlineChecker`` (the ЧЗ API, ``POST .../codes/check``)
  and ``LocalModuleChecker`` (the store's ЛМ ЧЗ, ``GET /api/v1/cis/check``).  Both
  answer ``CheckResult``; one that cannot be reached raises ``CheckerUnavailable``.
* ``PermissiveCheck``: asks the checkers in order (online first, then the local
  module); a code is sold only when found, valid, in circulation, not sold, not
  blocked and not expired.  When *no* checker answers, the legal offline rule
  applies: the sale goes on without a check result and the item says so (2106
  bit 4, no 1265) — docs/marking.md, with sources.
* ``MarkingGate``: a ``FiscalDevice`` in front of the real driver.  Before a
  receipt with marked items it checks every code (refusing the whole receipt
  with ``MarkingRefused`` and nothing sent to the KKT), hands the driver the
  check results (``item.marking_check``) for tags 1260-1265 and 2106, and keeps
  them in the fiscal result (``extra["marking"]``), so the journal stores them
  with the sale.
"""

import base64
import datetime as dt
import http.client
import json
import time
from dataclasses import asdict, dataclass, field
from urllib.parse import quote, urlsplit

from . import errors as E

GS = "\x1d"
#: GS1 application identifiers of fixed length (the rest run to the next GS or the end)
_FIXED_AI = {"01": 14, "11": 6, "17": 6, "8005": 6, "3103": 6, "91": 4}
_VARIABLE_AI = {"21": 20, "10": 20, "92": 88, "93": 4, "240": 30, "91": 4}
#: the permissive-mode industry requisite (1260): ФОИВ id, date and number of ПП № 1944
PERMISSIVE_FOIV = "030"
PERMISSIVE_DATE = "21.11.2023"
PERMISSIVE_NUMBER = "1944"

#: check outcomes; only these two let the item be sold
SELLABLE = frozenset({"valid", "offline"})
REFUSAL_TEXT = {
    "sold": "this code has been sold already",
    "expired": "the product's shelf life is over",
    "blocked": "the product is blocked by the authorities",
    "not_found": "the code is unknown to Честный ЗНАК",
    "invalid": "the code failed the check (not valid or not in circulation)",
}


class MarkingRefused(E.DeviceError):
    """The marking code check refused the item: the receipt was not sent to the KKT."""

    code = "marking_refused"
    http_status = 409


class CheckerUnavailable(Exception):
    """The checker gave no usable answer (timeout, connection refused, server error)."""


# ------------------------------------------------------------------ the code
@dataclass
class MarkingCode:
    raw: str  # as scanned, GS separators kept (tag 2000)
    gtin: str  # AI 01
    serial: str  # AI 21
    fields: dict = field(default_factory=dict)

    @property
    def cis(self):
        """Identity of the unit (GTIN + serial): two scans of one unit have the same cis."""
        return f"01{self.gtin}21{self.serial}"

    def base64(self):
        return base64.b64encode(self.raw.encode("utf-8")).decode("ascii")


def _gtin_ok(gtin):
    digits = [int(c) for c in gtin]
    total = sum(d * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits[:-1])))
    return (10 - total % 10) % 10 == digits[-1]


def parse(raw):
    """A scanned DataMatrix -> ``MarkingCode``; ``DocumentInvalid`` saying what is wrong."""
    if not isinstance(raw, str) or not raw.strip():
        raise E.DocumentInvalid("no marking code was scanned", field="marking_code")
    text = raw.strip("\r\n")
    for prefix in ("]d2", "]C1", GS):  # symbology identifier / leading FNC1
        if text.startswith(prefix):
            text = text[len(prefix) :]
    if len(text) > 256:
        raise E.DocumentInvalid("the marking code is longer than 256 characters", field="marking_code")
    if any(ord(c) < 0x20 and c != GS for c in text):
        raise E.DocumentInvalid(
            "the marking code holds control characters other than GS", field="marking_code"
        )
    out = {}
    pos = 0
    while pos < len(text):
        ai = next(
            (
                a
                for a in ("8005", "3103", "240", "01", "11", "17", "21", "10", "91", "92", "93")
                if text.startswith(a, pos)
            ),
            None,
        )
        if ai is None:
            raise E.DocumentInvalid(
                f"the marking code has an unknown field at position {pos + 1}: a DataMatrix of a marked "
                f"product starts with 01 (GTIN) and 21 (serial); was it scanned with a 1D scanner or "
                f"without its GS separators?",
                field="marking_code",
            )
        pos += len(ai)
        if ai in _FIXED_AI and ai != "91":
            value = text[pos : pos + _FIXED_AI[ai]]
            pos += _FIXED_AI[ai]
            if len(value) != _FIXED_AI[ai]:
                raise E.DocumentInvalid(f"marking code field {ai} is cut short", field="marking_code")
        else:
            end = text.find(GS, pos)
            end = len(text) if end < 0 else end
            value = text[pos:end]
            pos = end + 1 if end < len(text) else end
            if not value or len(value) > _VARIABLE_AI.get(ai, 90):
                raise E.DocumentInvalid(f"marking code field {ai} has a bad length", field="marking_code")
        out[ai] = value
    gtin, serial = out.get("01"), out.get("21")
    if not gtin or not gtin.isdigit() or not _gtin_ok(gtin):
        raise E.DocumentInvalid(
            "the marking code's GTIN (01) is missing or its check digit is wrong", field="marking_code"
        )
    if not serial:
        raise E.DocumentInvalid("the marking code has no serial number (21)", field="marking_code")
    if "93" not in out and not ("91" in out and "92" in out):
        raise E.DocumentInvalid(
            "the marking code has no crypto tail (91/92 or 93): scan the DataMatrix "
            "itself, not a printed number",
            field="marking_code",
        )
    return MarkingCode(raw=text, gtin=gtin, serial=serial, fields=out)


# ------------------------------------------------------------------ check results
@dataclass
class CheckResult:
    status: str  # valid | sold | expired | blocked | not_found | invalid | offline
    source: str  # online | local | none
    request_id: str = ""  # the check's id (ЧЗ reqId), for 1265
    request_time: int = 0  # ms since the epoch (ЧЗ reqTimestamp), for 1265
    detail: str = ""
    checked_at: str = ""

    @property
    def allowed(self):
        return self.status in SELLABLE

    def industry_value(self):
        """Tag 1265 of the permissive-mode requisite; empty when there was no check."""
        if not self.request_id:
            return ""
        return f"UUID={self.request_id}&Time={self.request_time}"

    def to_dict(self):
        return {**asdict(self), "allowed": self.allowed, "industry_value": self.industry_value()}


def decide(entry, now=None):
    """Status of one code from a ЧЗ answer entry (``codes[]`` of the check API)."""
    now = now or dt.datetime.now(dt.timezone.utc)
    if not isinstance(entry, dict) or not entry.get("found", False):
        return "not_found"
    if entry.get("isBlocked"):
        return "blocked"
    if entry.get("sold"):
        return "sold"
    expire = entry.get("expireDate")
    if expire:
        try:
            when = dt.datetime.fromisoformat(str(expire).replace("Z", "+00:00"))
        except ValueError:
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            if when <= now:
                return "expired"
    if not (
        entry.get("valid")
        and entry.get("verified")
        and entry.get("utilised")
        and entry.get("realizable", True)
    ):
        return "invalid"
    return "valid"


class _HttpChecker:
    source = "?"

    def __init__(self, url, timeout=1.5, token=None, basic_auth=None):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise E.RequestInvalid(f"marking checker URL must be http(s)://host[:port], got {url!r}")
        self.parts = parts
        self.timeout = float(timeout)
        self.token = token
        self.basic_auth = basic_auth

    def _call(self, method, path, body=None):
        cls = http.client.HTTPSConnection if self.parts.scheme == "https" else http.client.HTTPConnection
        conn = cls(self.parts.hostname, self.parts.port, timeout=self.timeout)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["X-API-KEY"] = self.token
        if self.basic_auth:
            headers["Authorization"] = "Basic " + base64.b64encode(self.basic_auth.encode()).decode()
        try:
            conn.request(method, self.parts.path.rstrip("/") + path, body=data, headers=headers)
            resp = conn.getresponse()
            raw = resp.read()
        except (OSError, http.client.HTTPException) as exc:
            raise CheckerUnavailable(f"{self.source} check: {exc}") from None
        finally:
            conn.close()
        if resp.status >= 500 or resp.status in (401, 403, 429):
            raise CheckerUnavailable(f"{self.source} check: HTTP {resp.status}")
        try:
            reply = json.loads(raw)
        except ValueError:
            raise CheckerUnavailable(f"{self.source} check: the answer is not JSON") from None
        if resp.status != 200 or not isinstance(reply, dict) or not isinstance(reply.get("codes"), list):
            raise CheckerUnavailable(f"{self.source} check: unexpected answer (HTTP {resp.status})")
        return reply

    def _result(self, reply, code):
        entry = next(
            (c for c in reply["codes"] if isinstance(c, dict) and str(c.get("cis", "")).startswith(code.cis)),
            None,
        )
        status = decide(entry)
        return CheckResult(
            status=status,
            source=self.source,
            request_id=str(reply.get("reqId") or ""),
            request_time=int(reply.get("reqTimestamp") or 0),
            detail=REFUSAL_TEXT.get(status, ""),
            checked_at=dt.datetime.now().isoformat(timespec="seconds"),
        )


class OnlineChecker(_HttpChecker):
    """The ЧЗ permissive-mode API: ``POST <base>/codes/check {"codes": [...], "fiscalDriveNumber"}``."""

    source = "online"

    def check(self, code, fn_serial=""):
        body = {"codes": [code.raw]}
        if fn_serial:
            body["fiscalDriveNumber"] = fn_serial
        return self._result(self._call("POST", "/codes/check", body), code)


class LocalModuleChecker(_HttpChecker):
    """The store's ЛМ ЧЗ: ``GET <base>/api/v1/cis/check?cis=<code>``."""

    source = "local"

    def check(self, code, fn_serial=""):
        return self._result(self._call("GET", f"/api/v1/cis/check?cis={quote(code.raw, safe='')}"), code)


class PermissiveCheck:
    """Online first, then the local module; neither answering -> the offline rule."""

    def __init__(self, checkers):
        self.checkers = list(checkers)

    def check(self, code, fn_serial=""):
        failures = []
        for checker in self.checkers:
            try:
                return checker.check(code, fn_serial)
            except CheckerUnavailable as exc:
                failures.append(str(exc))
        return CheckResult(
            status="offline",
            source="none",
            detail="; ".join(failures) or "no checker set up",
            checked_at=dt.datetime.now().isoformat(timespec="seconds"),
        )


def make_checker(config):
    """``{"online": {"url", "token", "timeout"}, "local": {"url", "user", "password", "timeout"}}``."""
    checkers = []
    online = (config or {}).get("online")
    if online:
        checkers.append(OnlineChecker(online["url"], online.get("timeout", 1.5), token=online.get("token")))
    local = (config or {}).get("local")
    if local:
        auth = f"{local['user']}:{local.get('password', '')}" if local.get("user") else None
        checkers.append(LocalModuleChecker(local["url"], local.get("timeout", 1.5), basic_auth=auth))
    return PermissiveCheck(checkers)


# ------------------------------------------------------------------ the gate in front of the KKT
class MarkingGate:
    """Wraps a ``FiscalDevice``: every receipt with marked items is checked first.

    Sales: each code checked (permissive mode); any refusal refuses the receipt
    before the KKT sees it.  Refunds carry their codes (planned status 'returned')
    and are not checked against the sold state (a returned unit *is* sold).  The
    same unit twice in one receipt is refused.  Everything else is delegated."""

    def __init__(self, device, checker):
        self._device = device
        self.checker = checker

    def __getattr__(self, name):
        return getattr(self._device, name)

    def fiscalise(self, document):
        marked = [(i, it) for i, it in enumerate(document.items) if getattr(it, "marking_code", "")]
        if not marked:
            return self._device.fiscalise(document)
        seen = {}
        codes = []
        for index, item in marked:
            # refused as the KKT would refuse them (recorded as failed, nothing sent to the KKT)
            try:
                code = parse(item.marking_code)
            except E.DocumentInvalid as exc:
                raise MarkingRefused(
                    f"item {index + 1} ({item.name}): {exc.message}", device_code="bad_code", item=index
                ) from None
            if code.cis in seen:
                raise MarkingRefused(
                    f"items {seen[code.cis] + 1} and {index + 1} carry the same marking code: "
                    f"one scan per unit",
                    device_code="duplicate",
                    item=index,
                )
            seen[code.cis] = index
            if item.quantity != 1000:
                raise MarkingRefused(
                    f"item {index + 1} ({item.name}): a marked unit is sold one at a time (quantity 1)",
                    device_code="quantity",
                    item=index,
                )
            codes.append((index, item, code))
        checks = {}
        refund = int(document.operation) in (2, 4)
        fn_serial = ""
        if not refund:
            brief = getattr(self._device, "fn_brief", None)
            try:
                fn_serial = (brief() if brief else self._device.fn_status()).fn_serial
            except E.FiscalError:
                fn_serial = ""
        for index, item, code in codes:
            if refund:
                result = CheckResult(status="valid", source="none", detail="refund: not checked")
            else:
                started = time.monotonic()
                result = self.checker.check(code, fn_serial)
                result.detail = result.detail or f"checked in {time.monotonic() - started:.2f} s"
            if not result.allowed:
                raise MarkingRefused(
                    f"item {index + 1} ({item.name}): {REFUSAL_TEXT.get(result.status, result.status)}",
                    device_code=result.status,
                    item=index,
                    marking_status=result.status,
                    marking_source=result.source,
                )
            item.marking_check = result
            checks[str(index)] = result.to_dict()
        outcome = self._device.fiscalise(document)
        outcome.extra = {**outcome.extra, "marking": checks}
        return outcome
