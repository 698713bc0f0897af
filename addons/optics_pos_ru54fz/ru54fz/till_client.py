"""Central -> till calls (the till HTTP API of docs/fiscal_contracts.md).

The back office (cash in / cash out, X and Z reports, reconciliation) talks to
the till proxy of a point of sale with this small client.  It never retries a
fiscal call by itself: every mutating call carries a ``uuid`` and the till
answers a repeated uuid with the same reply, so the *caller* may repeat the
call safely after an ambiguous failure (timeout, connection reset).

Errors are typed: the ``{"error": {"code", "message", ...}}`` reply of the
till is mapped back onto the ``errors.FiscalError`` hierarchy, so a caller can
catch ``TransportError`` (nothing known, retry later) apart from
``DeviceError`` (the KKT refused) and ``RequestInvalid`` (our bug).
"""

import uuid as uuidlib

from . import errors

try:  # requests is an external dependency of the addon; the import stays lazy-safe
    import requests
except ImportError:  # pragma: no cover - declared in the manifest
    requests = None

#: (connect, read) seconds.  The KKT prints a Z report in a few seconds; a
#: read timeout longer than a cashier's patience only hides a dead link.
DEFAULT_TIMEOUT = (3.0, 30.0)
STATUS_TIMEOUT = (2.0, 5.0)

_BY_CODE = {}


def _register(cls):
    for sub in cls.__subclasses__():
        _BY_CODE.setdefault(sub.code, sub)
        _register(sub)


_register(errors.FiscalError)

_BY_STATUS = {
    400: errors.RequestInvalid,
    401: errors.RequestInvalid,
    409: errors.Conflict,
    502: errors.DeviceError,
    503: errors.TransportError,
}


class TillAuthError(errors.RequestInvalid):
    """The till refused the pairing token."""

    code = "till_unauthorized"
    http_status = 401


def error_from_reply(status, body):
    """Build the typed error for a non-2xx reply of the till."""
    err = body.get("error") if isinstance(body, dict) else None
    if not isinstance(err, dict):
        err = {"message": f"HTTP {status} from the till without an error body"}
    code = err.get("code") or ""
    message = err.get("message") or f"HTTP {status} from the till"
    details = {k: v for k, v in err.items() if k not in ("code", "message", "retryable")}
    if status == 401:
        return TillAuthError(message, http=status, **details)
    cls = _BY_CODE.get(code) or _BY_STATUS.get(status) or errors.FiscalError
    if cls is errors.DocumentInvalid:
        details.pop("field", None)
        exc = cls(message, field=err.get("field"), http=status, **details)
    elif issubclass(cls, errors.DeviceError):
        details.pop("device_code", None)
        details.pop("source", None)
        exc = cls(
            message,
            device_code=err.get("device_code"),
            source=err.get("source", "kkt"),
            http=status,
            **details,
        )
    else:
        exc = cls(message, http=status, **details)
    if code and exc.code != code:
        # an error code this client does not know: keep it for the caller's message
        exc.code = code
    return exc


class TillClient:
    """Synchronous HTTP client of one till proxy."""

    def __init__(self, base_url, token, timeout=DEFAULT_TIMEOUT, session=None):
        if not base_url:
            raise errors.RequestInvalid("The till proxy URL is not configured")
        if not token:
            raise errors.RequestInvalid("The till pairing token is not configured")
        if requests is None:  # pragma: no cover
            raise errors.RequestInvalid("python-requests is not installed")
        self.base_url = base_url.rstrip("/") + "/hw_proxy/ru54fz/"
        self.token = token
        self.timeout = timeout
        self.http = session or requests.Session()

    # -- transport ---------------------------------------------------------------

    def _call(self, method, route, body=None, params=None, timeout=None, grant=None):
        url = self.base_url + route
        headers = {"X-Till-Token": self.token, "Accept": "application/json"}
        if grant:
            headers["X-Till-Grant"] = grant  # a store manager's grant (ru54fz/grants.py)
        try:
            resp = self.http.request(
                method, url, json=body, params=params, headers=headers, timeout=timeout or self.timeout
            )
        except requests.Timeout as exc:
            raise errors.TransportError(
                f"The till did not answer {route} in time: {exc}", route=route
            ) from None
        except requests.RequestException as exc:
            raise errors.TransportError(f"The till is unreachable ({route}): {exc}", route=route) from None
        try:
            data = resp.json()
        except ValueError:
            data = None
        if resp.status_code >= 400:
            raise error_from_reply(resp.status_code, data)
        if not isinstance(data, (dict, list)):
            raise errors.TransportError(
                f"The till answered {route} with a non-JSON body (HTTP {resp.status_code})", route=route
            )
        return data

    @staticmethod
    def new_uuid():
        return str(uuidlib.uuid4())

    # -- API -----------------------------------------------------------------------

    def status(self):
        return self._call("GET", "status", timeout=STATUS_TIMEOUT)

    def counters(self):
        """Current shift counters of the KKT (not a fiscal document)."""
        return self._call("GET", "counters")

    def journal(self, state=None, since_hlc=None, limit=None):
        params = {
            k: v
            for k, v in (("state", state), ("since_hlc", since_hlc), ("limit", limit))
            if v not in (None, "")
        }
        data = self._call("GET", "journal", params=params)
        return data.get("entries", []) if isinstance(data, dict) else data

    def cash_in(self, op_uuid, amount, cashier):
        return self._cash("cash_in", op_uuid, amount, cashier)

    def cash_out(self, op_uuid, amount, cashier, grant=None):
        return self._cash("cash_out", op_uuid, amount, cashier, grant=grant)

    def _cash(self, route, op_uuid, amount, cashier, grant=None):
        if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
            raise errors.RequestInvalid(
                f"{route}: the amount must be a positive int of kopecks, got {amount!r}", field="amount"
            )
        return self._call("POST", route, {"uuid": op_uuid, "amount": amount, "cashier": cashier}, grant=grant)

    def x_report(self, op_uuid, cashier):
        return self._call("POST", "x_report", {"uuid": op_uuid, "cashier": cashier})

    def open_shift(self, op_uuid, cashier, cashier_inn=""):
        return self._call(
            "POST", "open_shift", {"uuid": op_uuid, "cashier": cashier, "cashier_inn": cashier_inn}
        )

    def close_shift(self, op_uuid, cashier, cashier_inn="", grant=None):
        return self._call(
            "POST",
            "close_shift",
            {"uuid": op_uuid, "cashier": cashier, "cashier_inn": cashier_inn},
            grant=grant,
        )

    def push(self):
        return self._call("POST", "push", {})
