"""IoT-box style till fiscal proxy: ``/hw_proxy/ru54fz/<action>`` (till HTTP API).

Two ways to run it:

(a) On the till, in a database-less Odoo, the way Odoo's IoT box runs its
    drivers::

        RU54FZ_TILL_CONFIG=/etc/ru54fz/till.json \\
        python3 -m odoo --load=base,web,optics_pos_ru54fz --addons-path=... --http-port=8069

    The tills this process serves come from the till config file (path from
    the environment variable ``RU54FZ_TILL_CONFIG`` or the Odoo option
    ``ru54fz_till_config``)::

        {"tills": [{"till_code": "MSK1-01", "token_hash": "sha256$<salt>$<hex>",
                    "allowed_origin": "https://erp.example.ru",
                    "device": {"type": "shtrih", "address": "tcp://127.0.0.1:7778"},
                    "journal_path": "/var/lib/ru54fz/MSK1-01.sqlite",
                    "grant_public_key": "<base64 Ed25519 public key of central's manager grants>",
                    "central_url": "https://erp.example.ru", "central_token": "...",
                    "service": {<TillService config overrides>}}]}

(b) Inside the central server for a one-machine store: the addon is installed
    in the database and tills not listed in a till config file are the
    ``pos.config`` records with ``ru54fz_enabled`` (device settings and the
    pairing-token hash from there; the journal under Odoo's data directory).

Every request carries ``X-Till-Token`` (and, when the process serves several
tills, ``X-Till-Code``).  A wrong or missing token gets 401 and nothing else:
no state is read or changed.  CORS headers are sent only for the till's
configured POS origin.
"""

import contextlib
import json
import logging
import os
import threading
from pathlib import Path
from urllib.parse import urlsplit

from odoo import http
from odoo.http import request
from odoo.tools import config as odoo_config

from ..ru54fz import errors, till_policy, tokens
from ..ru54fz.journal import Journal
from ..ru54fz.ownership import PgAdvisoryOwnerLock
from ..ru54fz.till_service import TillService

_logger = logging.getLogger(__name__)

MAX_BODY = 256 * 1024
ADDON = "optics_pos_ru54fz"


def _server_wide_nodb():
    mods = getattr(odoo_config, "server_wide_modules", None) or []
    with contextlib.suppress(AttributeError):
        import odoo

        mods = odoo.conf.server_wide_modules or mods
    return ADDON in mods and not odoo_config.get("db_name")


if _server_wide_nodb():
    # Like hw_drivers on the IoT box: a till process never selects a database,
    # and must not ask PostgreSQL (there is none on a till) for a list on each request.
    http.db_list = lambda *args, **kwargs: []


# -- till settings ---------------------------------------------------------------------------


def till_config_path():
    return os.environ.get("RU54FZ_TILL_CONFIG") or odoo_config.get("ru54fz_till_config") or ""


_file_cache = {"path": None, "mtime": None, "tills": {}}
_file_lock = threading.Lock()


def file_tills():
    """Tills of the till config file, by code (re-read when the file changes)."""
    path = till_config_path()
    if not path:
        return {}
    try:
        mtime = os.stat(path).st_mtime_ns
    except OSError:
        _logger.error("till config file %s is missing", path)
        return {}
    with _file_lock:
        if _file_cache["path"] == path and _file_cache["mtime"] == mtime:
            return _file_cache["tills"]
        try:
            data = json.loads(Path(path).read_text())
        except (OSError, ValueError) as exc:
            _logger.error("till config file %s is unreadable: %s", path, exc)
            return {}
        tills = data.get("tills") if isinstance(data, dict) and "tills" in data else [data]
        out = {}
        for t in tills or []:
            if isinstance(t, dict) and t.get("till_code") and t.get("token_hash"):
                t = dict(t, source="file")
                out[t["till_code"]] = t
        _file_cache.update(path=path, mtime=mtime, tills=out)
        return out


def _origin(url):
    if not url:
        return ""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else ""


def _allowed_origins(settings):
    """The POS origins of a till: ``allowed_origin`` is one origin or a list of them."""
    value = settings.get("allowed_origin") or []
    values = [value] if isinstance(value, str) else value
    return {_origin(v) or v for v in values if isinstance(v, str) and v}


def db_tills():
    """Tills served by this server from pos.config (way (b)); empty without a database."""
    if not request.db:
        return {}
    try:
        env = request.env(su=True)
        configs = env["pos.config"].search([("ru54fz_enabled", "=", True), ("ru54fz_till_code", "!=", False)])
        params = env["ir.config_parameter"]
        base_url = params.get_param("web.base.url") or ""
        data_dir = Path(odoo_config.filestore(request.db)).parent.parent / "ru54fz" / request.db
        allowlist = env["pos.config"]._ru54fz_kkt_allowlist()
        open_sessions = {}
        for session in env["pos.session"].search(
            [
                ("config_id", "in", configs.ids),
                ("state", "in", ("opening_control", "opened", "closing_control")),
            ]
        ):
            open_sessions.setdefault(session.config_id.id, set()).add(f"pos{session.id}")
    except Exception:  # noqa: BLE001 - the addon may not be installed in this database
        return {}
    out = {}
    for c in configs:
        if not c.ru54fz_pairing_token_hash:
            continue
        code = c.ru54fz_till_code
        # a POS manager edits these: a code is a file name, an address is where we connect
        try:
            journal_path = till_policy.journal_path(data_dir, code)
        except errors.RequestInvalid as exc:
            _logger.error("pos.config %s is not served as a till: %s", c.id, exc.message)
            continue
        device = c._get_ru54fz_device_config()
        out[code] = {
            # a session token of a closed POS session, or of none, is refused
            "session_key": c._ru54fz_session_key(),
            "session_subjects": {"bo"} | open_sessions.get(c.id, set()),
            "policy_error": ""
            if till_policy.address_allowed(device.get("address"), allowlist)
            else f"the KKT address {device.get('address')!r} of till {code} is not in the administrators' "
            "allow-list",
            "source": "db",
            "db": request.db,
            "till_code": code,
            "token_hash": c.ru54fz_pairing_token_hash,
            "allowed_origin": _origin(base_url),
            "device": device,
            "journal_path": str(journal_path),
            "central_url": base_url if params.get_param(f"{ADDON}.local_central_token.{code}") else "",
            "central_token": params.get_param(f"{ADDON}.local_central_token.{code}") or "",
            "grant_public_key": c._ru54fz_grant_public_key(),
            # the company's refund saga policy (docs/refund_saga.md)
            "service": c.company_id._ru54fz_till_settings(),
        }
    return out


# -- service registry ----------------------------------------------------------------------


class TillRegistry:
    """One ``TillService`` per till and process, started lazily (settle first)."""

    def __init__(self):
        self._services = {}
        self._lock = threading.Lock()

    @staticmethod
    def key(settings):
        return (settings.get("db") or "", settings["till_code"])

    @staticmethod
    def _fingerprint(settings):
        return json.dumps(
            {
                k: settings.get(k)
                for k in (
                    "device",
                    "journal_path",
                    "central_url",
                    "central_token",
                    "service",
                    "grant_public_key",
                )
            },
            sort_keys=True,
        )

    def get(self, settings):
        """The running service of a till; recreated when its settings changed
        (another KKT address, journal or central)."""
        key = self.key(settings)
        fingerprint = self._fingerprint(settings)
        with self._lock:
            svc = self._services.get(key)
            if svc is not None and getattr(svc, "_ru54fz_fingerprint", None) == fingerprint:
                return svc
            if svc is not None:
                _logger.info("till %s: settings changed, restarting its service", settings["till_code"])
                self._services.pop(key)
                self._close(svc)
            svc = self._create(settings)
            svc._ru54fz_fingerprint = fingerprint
            self._services[key] = svc
        return svc

    @staticmethod
    def _close(svc):
        svc.stop()
        try:
            with svc._device_lock:  # wait for a document in progress on the KKT
                svc.device.close()
        except errors.FiscalError as exc:  # another process owns the till: our link is closed
            _logger.info("till %s closed without its owner lock: %s", svc.config["till_code"], exc)
        finally:
            svc._device_lock.close()
            svc.journal.close()

    def _create(self, settings):
        from ..ru54fz.devices import make_device  # the KKT driver part of the addon

        path = Path(settings["journal_path"])
        path.parent.mkdir(parents=True, exist_ok=True)
        journal = Journal(path, till_code=settings["till_code"])
        owner_lock = None
        try:
            owner_lock = self._owner_lock(settings)
            device = make_device(settings["device"])
            config = dict(
                settings.get("service") or {},
                till_code=settings["till_code"],
                central_url=settings.get("central_url") or "",
                central_token=settings.get("central_token") or "",
                # behind HTTP every cashier holds the pairing token: manager-only
                # actions always need a store manager's grant (ru54fz/grants.py)
                manager_grants=True,
                grant_public_key=settings.get("grant_public_key") or "",
            )
            svc = TillService(journal, device, config, owner_lock=owner_lock)
            svc.start()
        except Exception:
            journal.close()
            if owner_lock is not None:
                owner_lock.close()
            raise
        return svc

    @staticmethod
    def _owner_lock(settings):
        """One owner per till across processes (ru54fz/ownership.py).  A till of a
        database: a PostgreSQL advisory lock, so every worker of every Odoo node
        serving that database agrees.  A till of the till config file: ``flock`` on
        its journal's side file (None lets TillService take that default)."""
        if not settings.get("db"):
            return None
        import psycopg2

        from odoo.sql_db import connection_info_for

        _db, params = connection_info_for(settings["db"])
        params = dict(params, application_name=f"ru54fz-till-owner-{settings['till_code']}")
        # a session advisory lock needs a real session: behind a transaction-mode pooler,
        # point ru54fz_lock_db_host/_port (odoo.conf) at PostgreSQL itself
        for option, key in (("ru54fz_lock_db_host", "host"), ("ru54fz_lock_db_port", "port")):
            if odoo_config.get(option):
                params[key] = odoo_config[option]
        return PgAdvisoryOwnerLock(lambda: psycopg2.connect(**params), settings["till_code"])

    def stop_all(self):
        with self._lock:
            services, self._services = list(self._services.values()), {}
        for svc in services:
            self._close(svc)


REGISTRY = TillRegistry()


# -- the controller ---------------------------------------------------------------------------

ACTIONS = {
    # action: (HTTP method, TillService method, takes a JSON body)
    "status": ("GET", "status", False),
    "receipt": ("POST", "sale", True),
    "correction": ("POST", "correction", True),
    "cash_in": ("POST", "cash_in", True),
    "cash_out": ("POST", "cash_out", True),
    "x_report": ("POST", "x_report", True),
    "open_shift": ("POST", "open_shift", True),
    "close_shift": ("POST", "close_shift", True),
    "cancel_open": ("POST", "cancel_open", False),
    "counters": ("GET", "counters", False),
    "journal": ("GET", "journal_query", False),
    "push": ("POST", "push_to_central", False),
}

#: actions whose service method takes the store manager's grant (header X-Till-Grant):
#: close_shift, cash_out, correction, and a receipt that is a refund override
GRANT_ACTIONS = {"receipt", "correction", "cash_out", "close_shift"}

_UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "missing or invalid till token"}}


class Ru54fzProxyController(http.Controller):
    def _candidates(self):
        tills = dict(db_tills())
        tills.update(file_tills())  # a till config file wins over the database
        return tills

    @staticmethod
    def _token_opens(token, settings):
        """The raw pairing token (its hash is configured), or a session token derived from
        this till's session key; a central-served till also wants the token's session open."""
        if tokens.verify(token, settings["token_hash"]):
            return True
        key = settings.get("session_key")
        subject = tokens.check_session_token(token, key, settings["till_code"]) if key else None
        if subject is None:
            return False
        subjects = settings.get("session_subjects")
        return subjects is None or subject in subjects

    def _authenticate(self, tills):
        token = request.httprequest.headers.get("X-Till-Token", "")
        code = request.httprequest.headers.get("X-Till-Code") or request.httprequest.args.get("till")
        if code:
            settings = tills.get(code)
            ok = self._token_opens(token, settings or {"token_hash": "sha256$0$0", "till_code": ""})
            return settings if settings and ok else None
        for settings in tills.values():
            if self._token_opens(token, settings):
                return settings
        return None

    def _cors(self, headers, origin, allowed):
        if origin and origin in allowed:
            headers.update(
                {
                    "Access-Control-Allow-Origin": origin,
                    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                    "Access-Control-Allow-Headers": "Content-Type, X-Till-Token, X-Till-Code, X-Till-Grant",
                    "Access-Control-Max-Age": "600",
                    "Vary": "Origin",
                }
            )
        return headers

    def _reply(self, data, status=200, origin="", allowed=()):
        headers = self._cors({"Cache-Control": "no-store"}, origin, allowed)
        return request.make_json_response(data, headers=list(headers.items()), status=status)

    @http.route(
        "/hw_proxy/ru54fz/<string:action>",
        type="http",
        auth="none",
        methods=["GET", "POST", "OPTIONS"],
        csrf=False,
        save_session=False,
    )
    def ru54fz_action(self, action, **kwargs):
        httpreq = request.httprequest
        origin = httpreq.headers.get("Origin", "")
        tills = self._candidates()
        if httpreq.method == "OPTIONS":
            allowed = set().union(*(_allowed_origins(t) for t in tills.values()))
            return self._reply({}, status=200 if origin in allowed else 403, origin=origin, allowed=allowed)
        settings = self._authenticate(tills)
        if settings is None:
            allowed = set().union(*(_allowed_origins(t) for t in tills.values()))
            return self._reply(_UNAUTHORIZED, status=401, origin=origin, allowed=allowed)
        allowed = _allowed_origins(settings)
        spec = ACTIONS.get(action)
        if spec is None:
            return self._reply(
                {"error": {"code": "not_found", "message": f"unknown action {action!r}"}},
                status=404,
                origin=origin,
                allowed=allowed,
            )
        method, service_method, has_body = spec
        if httpreq.method != method:
            return self._reply(
                {"error": {"code": "method_not_allowed", "message": f"{action} needs {method}"}},
                status=405,
                origin=origin,
                allowed=allowed,
            )
        try:
            args = ()
            if has_body:
                args = (self._json_body(),)
            elif action == "journal":
                args = (
                    httpreq.args.get("state") or None,
                    httpreq.args.get("since_hlc") or None,
                    httpreq.args.get("limit") or 100,
                )
            if settings.get("policy_error"):
                raise errors.RequestInvalid(settings["policy_error"])
            kwargs = {"grant": httpreq.headers.get("X-Till-Grant") or None} if action in GRANT_ACTIONS else {}
            service = REGISTRY.get(settings)
            result = getattr(service, service_method)(*args, **kwargs)
            return self._reply(result, origin=origin, allowed=allowed)
        except errors.FiscalError as exc:
            return self._reply(
                {"error": exc.to_dict()}, status=exc.http_status, origin=origin, allowed=allowed
            )
        except Exception:  # noqa: BLE001 - answer JSON, never an HTML traceback
            _logger.exception("till proxy %s failed", action)
            return self._reply(
                {
                    "error": {
                        "code": "internal_error",
                        "message": "internal error of the till proxy; see its log",
                    }
                },
                status=500,
                origin=origin,
                allowed=allowed,
            )

    @staticmethod
    def _json_body():
        httpreq = request.httprequest
        # the size is known before anything is read: an oversized body never fills the memory
        if httpreq.content_length is None:
            raise errors.RequestInvalid("the request needs a Content-Length header")
        if httpreq.content_length > MAX_BODY:
            raise errors.RequestInvalid(f"the request body is larger than {MAX_BODY} bytes")
        raw = httpreq.get_data(cache=False)
        if len(raw) > MAX_BODY:
            raise errors.RequestInvalid(f"the request body is larger than {MAX_BODY} bytes")
        try:
            body = json.loads(raw or b"null")
        except (ValueError, UnicodeDecodeError) as exc:
            raise errors.RequestInvalid(f"the request body is not valid JSON: {exc}") from None
        if not isinstance(body, dict):
            raise errors.RequestInvalid("the request body must be a JSON object")
        return body
