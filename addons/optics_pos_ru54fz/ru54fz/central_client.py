"""Till -> central push (the till push format of docs/fiscal_contracts.md).

A plain HTTP client on the standard library (the till may run without
``requests``).  ``push(entries)`` POSTs one batch to
``<central_url>/optics_pos_ru54fz/central/push`` with the till's own central
token and returns the decoded ``{"accepted": [...], "tickets": [...]}``.
Failures raise ``errors.TransportError`` (central unreachable, 5xx: retry
later) or ``CentralRefused`` (4xx: the till is not authorised or sent
something central rejects — retrying unchanged will not help).
"""

import json
import urllib.error
import urllib.request

from . import errors

PUSH_PATH = "/optics_pos_ru54fz/central/push"
REFUNDABLE_PATH = "/optics_pos_ru54fz/central/refundable"


class CentralRefused(errors.FiscalError):
    """The central server refused the push."""

    code = "central_refused"
    http_status = 502


def _error_of(raw):
    """``{"code", "message", "uuid"?}`` of central's JSON error reply, or {}."""
    try:
        error = json.loads(raw).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


class CentralClient:
    def __init__(self, url, till_code, token, timeout=10.0):
        self.base_url = url.rstrip("/")
        self.url = self.base_url + PUSH_PATH
        self.till_code = till_code
        self.token = token
        self.timeout = timeout

    def _post(self, url, data, what):
        """POST ``data`` as JSON to central and return its JSON object reply.  The till is
        named in headers too: central authenticates before reading the body."""
        body = json.dumps(data, ensure_ascii=False, default=str).encode()
        req = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                "X-Till-Token": self.token,
                "X-Till-Code": self.till_code,
            },
        )
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as resp:
                raw = resp.read()
        except urllib.error.HTTPError as exc:
            raw = exc.read()[:4000]
            text = raw[:500].decode("utf-8", "replace")
            if exc.code >= 500:
                raise errors.TransportError(f"central answered HTTP {exc.code}: {text}") from None
            # central's error may name the entry it cannot store (``uuid``): the till sets
            # that one aside and delivers the rest
            error = _error_of(raw)
            raise CentralRefused(
                f"central refused the {what}: HTTP {exc.code}: {text}",
                status=exc.code,
                error_code=error.get("code"),
                entry_uuid=error.get("uuid"),
            ) from None
        except (urllib.error.URLError, OSError) as exc:
            raise errors.TransportError(f"central is unreachable: {exc}") from None
        try:
            reply = json.loads(raw)
        except ValueError:
            raise errors.TransportError("central answered something that is not JSON") from None
        if not isinstance(reply, dict):
            raise errors.TransportError("central answered an unexpected JSON value")
        return reply

    def refundable(self, original_uuid):
        """Central's record of a sale this till does not know (refund saga, see
        docs/refund_saga.md): ``{"uuid", "kind", "fd_number", "fiscal_sign",
        "payments": {"cash": kopecks, ...}, "ofd_confirmed", "refunds": [{"uuid",
        "payments"}]}``.  ``CentralRefused`` with ``status`` 404 when central has no
        such document of this till's company."""
        return self._post(
            self.base_url + REFUNDABLE_PATH, {"till_code": self.till_code, "uuid": original_uuid}, "look-up"
        )

    def push(self, entries, status=None, tickets_written=None):
        """One batch; ``status`` (the till's GET status answer) tells central the
        FN state, e.g. which OFD tickets are already in the FN; ``tickets_written`` the
        uuids whose ticket (from an earlier reply) the till wrote into its FN since."""
        data = {"till_code": self.till_code, "entries": entries}
        if status is not None:
            data["status"] = status
        if tickets_written:
            data["tickets_written"] = list(tickets_written)
        reply = self._post(self.url, data, "push")
        accepted = reply.get("accepted") or []
        tickets = reply.get("tickets") or []
        if not isinstance(accepted, list) or not isinstance(tickets, list):
            raise errors.TransportError("central's reply has malformed accepted/tickets lists")
        settings = reply.get("settings")
        refused = reply.get("refused") or []
        return {
            "accepted": [u for u in accepted if isinstance(u, str)],
            # entries central will never store (e.g. owned by another till): set aside
            "refused": [r for r in refused if isinstance(r, dict)] if isinstance(refused, list) else [],
            "tickets": [t for t in tickets if isinstance(t, dict)],
            # company policies the till applies itself (refund saga)
            "settings": settings if isinstance(settings, dict) else {},
        }
