"""Central ingestion of the tills' journals (till push format, receiving side).

``POST /optics_pos_ru54fz/central/push`` with ``X-Till-Code`` + ``X-Till-Token`` and
``{"till_code": "...", "entries": [entry, ...], "status": {...}?, "tickets_written": [uuid]?}``.

* 401: unknown till code or wrong token, decided on the headers alone: not a byte of
  the body is read before the till is authenticated (a stranger cannot make central
  parse 16 MiB of JSON);
* 411 / 413: no Content-Length, or more than ``MAX_BODY`` (refused unread);
* 400 ``entry_invalid`` with ``uuid``: an entry central cannot store (the till sets
  that one aside and pushes the rest: docs/fiscal_contracts.md, till push format);
* 400: malformed body or entry, with the reason (nothing is stored: the push is
  one transaction);
* 200: ``{"accepted": [uuid, ...], "tickets": [{"uuid", "fd_number", "ticket"}],
  "settings": {"refund_requires_ofd_confirmation": bool}}``; ``"deferred": [uuid, ...]``
  instead of ``accepted`` when a row the push needs is locked (the POS order sync of the
  same receipt): nothing is stored and the till pushes those entries again.

Re-pushing the same entries is harmless: documents are keyed by uuid.  The
optional ``status`` is the till's ``GET status`` answer (FN status, journal
figures); it feeds the health dashboard and the FN alerts.
"""

import json
import logging

import psycopg2

from odoo import SUPERUSER_ID, http
from odoo.http import request
from odoo.tools import SQL

from ..ru54fz import tokens

_logger = logging.getLogger(__name__)

MAX_BODY = 16 * 1024 * 1024
MAX_ENTRIES = 5000
#: how long a push waits for a row lock before it gives its entries back to the till.  The
#: POS order sync of the same receipt (sent at the same moment) holds the document's uuid for
#: its whole transaction, Odoo's stock picking included: a push waiting for it would hold a
#: worker that long; the till pushes the deferred entries again at its next poll (1 s)
PUSH_LOCK_TIMEOUT = "100ms"


def _json(status, payload):
    return request.make_response(
        json.dumps(payload, ensure_ascii=False),
        status=status,
        headers=[("Content-Type", "application/json; charset=utf-8"), ("Cache-Control", "no-store")],
    )


def _error(status, code, message, **extra):
    return _json(status, {"error": {"code": code, "message": message, **extra}})


def _is_uuid_list(value):
    return (
        isinstance(value, list)
        and len(value) <= MAX_ENTRIES
        and all(isinstance(u, str) and 0 < len(u) <= 64 for u in value)
    )


class CentralPushController(http.Controller):
    @http.route(
        "/optics_pos_ru54fz/central/push",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=False,
    )
    def push(self, **_kw):
        if not request.db:
            return _error(404, "no_database", "no database selected")
        httpreq = request.httprequest
        # authenticated on the headers, before the body is read or parsed
        till_code = httpreq.headers.get("X-Till-Code", "")
        config = self._authenticate(till_code, httpreq.headers.get("X-Till-Token", ""))
        if config is None:
            return _error(401, "unauthorized", "unknown till or wrong token (X-Till-Code, X-Till-Token)")
        if httpreq.content_length is None:
            return _error(411, "length_required", "the push must carry a Content-Length")
        if httpreq.content_length > MAX_BODY:
            return _error(413, "too_large", f"the push exceeds {MAX_BODY} bytes: send smaller batches")
        body, refusal = self._read_push_body(httpreq, till_code)
        if refusal is not None:
            return refusal
        entries, status, tickets_written = body["entries"], body["status"], body["tickets_written"]
        Doc = request.env["optics.fiscal.document"].sudo().with_company(config.company_id)
        for entry in entries:
            if isinstance(entry, dict) and entry.get("till_code") not in (None, "", config.ru54fz_till_code):
                return _error(
                    400,
                    "request_invalid",
                    f"entry {entry.get('uuid')} belongs to till {entry.get('till_code')}",
                )
        try:
            request.env.cr.execute(SQL("SET LOCAL lock_timeout = %s", PUSH_LOCK_TIMEOUT))
            reply = Doc._ingest_push(config, entries, status, tickets_written)
            request.env.flush_all()  # a value the database refuses is refused here, as a 400
            request.env.cr.execute(SQL("SET LOCAL lock_timeout TO DEFAULT"))
        except psycopg2.errors.LockNotAvailable:
            # nothing of this push is stored; the till keeps the entries and pushes them again
            request.env.cr.rollback()
            _logger.info("push of till %s deferred: a row it needs is locked", till_code)
            reply = Doc._ru54fz_deferred_reply(config, entries)
        except ValueError as exc:
            request.env.cr.rollback()
            return _error(400, "entry_invalid", str(exc), uuid=getattr(exc, "uuid", None))
        except psycopg2.DataError as exc:
            # a value out of a column's range that the checks did not catch: refused, never a
            # 500 the till would take for an outage and resend forever (it halves the batch
            # to find the entry)
            request.env.cr.rollback()
            _logger.warning("push of till %s refused by the database: %s", till_code, exc)
            return _error(400, "entry_invalid", f"a value of the push cannot be stored: {exc.pgerror or exc}")
        # the till learns the company's policies here (refund saga: docs/refund_saga.md)
        reply["settings"] = config.company_id._ru54fz_till_settings()
        return _json(200, reply)

    @staticmethod
    def _read_push_body(httpreq, till_code):
        """The push body checked: ``({"entries", "status", "tickets_written"}, None)``, or
        ``(None, the 400 response)``."""
        # cached: Odoo replays the request on a serialization failure (two tills, or a
        # till and the POS, pushing the same uuid at once) and must read the body again
        raw = httpreq.get_data()
        try:
            body = json.loads(raw or b"null")
        except ValueError as exc:
            return None, _error(400, "request_invalid", f"body is not JSON: {exc}")
        if not isinstance(body, dict):
            return None, _error(400, "request_invalid", "body must be a JSON object")
        if body.get("till_code") not in (None, till_code):
            return None, _error(400, "request_invalid", "the body's till_code is not the till of X-Till-Code")
        entries = body.get("entries") or []
        if not isinstance(entries, list):
            return None, _error(400, "request_invalid", "'entries' must be a list")
        if len(entries) > MAX_ENTRIES:
            return None, _error(400, "request_invalid", f"at most {MAX_ENTRIES} entries per push")
        status = body.get("status")
        if status is not None and not isinstance(status, dict):
            return None, _error(400, "request_invalid", "'status' must be an object")
        tickets_written = body.get("tickets_written") or []
        if not _is_uuid_list(tickets_written):
            return None, _error(
                400, "request_invalid", f"'tickets_written' must be a list of at most {MAX_ENTRIES} uuids"
            )
        return {"entries": entries, "status": status, "tickets_written": tickets_written}, None

    @http.route(
        "/optics_pos_ru54fz/central/refundable",
        type="http",
        auth="none",
        methods=["POST"],
        csrf=False,
        save_session=False,
        readonly=True,
    )
    def refundable(self, **_kw):
        """Central's record of a sale a till is asked to refund and does not know itself
        (refund saga, docs/refund_saga.md).  ``{"uuid"}`` with the till's ``X-Till-Code``
        and central token.  404 when no document of the till's company has that uuid (another
        company's is not revealed); 409 when only the POS order sync reported it."""
        if not request.db:
            return _error(404, "no_database", "no database selected")
        httpreq = request.httprequest
        # like the push: the till is authenticated on the headers before the body is read
        config = self._authenticate(
            httpreq.headers.get("X-Till-Code", ""), httpreq.headers.get("X-Till-Token", "")
        )
        if config is None:
            return _error(401, "unauthorized", "unknown till or wrong token (X-Till-Code, X-Till-Token)")
        if httpreq.content_length is None or httpreq.content_length > 4096:
            return _error(413, "too_large", "a look-up is a small JSON object with a Content-Length")
        try:
            body = json.loads(httpreq.get_data(cache=False) or b"null")
        except ValueError as exc:
            return _error(400, "request_invalid", f"body is not JSON: {exc}")
        if not isinstance(body, dict):
            return _error(400, "request_invalid", "body must be a JSON object")
        uid = body.get("uuid")
        if not isinstance(uid, str) or not 1 <= len(uid) <= 64:
            return _error(400, "request_invalid", "'uuid' must be a string of 1-64 characters")
        info = request.env["optics.fiscal.document"].sudo()._ru54fz_refund_info(config, uid)
        if info is None:
            return _error(404, "unknown_original", f"no fiscal document {uid} of this company")
        if not info.pop("from_till"):
            return _error(
                409,
                "original_unverified",
                f"the sale {uid} is known only from the POS order sync; its till has not delivered it yet",
            )
        return _json(200, info)

    @staticmethod
    def _authenticate(till_code, token):
        """The pos.config of this till when the token matches, else None (constant time
        whether the till exists or not)."""
        if not isinstance(till_code, str) or not till_code:
            tokens.verify("", "")
            return None
        config = request.env["pos.config"].sudo().search([("ru54fz_till_code", "=", till_code)], limit=1)
        stored = config.ru54fz_central_token_hash if config else "sha256$00$" + "0" * 64
        if not tokens.verify(token, stored) or not config:
            return None
        # an auth="none" request has no user: the cash trail's journal entries and their
        # followers need one, so the authenticated till works as the superuser (like a cron)
        request.update_env(user=SUPERUSER_ID)
        return config.with_env(request.env)
