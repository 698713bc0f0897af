import base64
import binascii
import json
import logging
import uuid as uuidlib
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from ..ru54fz.breaker import BreakerOpen
from ..ru54fz.ofd import protocol
from ..ru54fz.ofd.client import OfdRejected, OfdTransportError, TcpOfdTransport

_logger = logging.getLogger(__name__)

KINDS = [
    ("sale", "Sale"),
    ("refund", "Refund"),
    ("correction", "Correction"),
    ("open_shift", "Open Shift"),
    ("close_shift", "Close Shift"),
    ("cash_in", "Cash In"),
    ("cash_out", "Cash Out"),
    ("x_report", "X Report"),
]
#: kinds that are fiscal documents (signed by the FN, confirmed by the OFD)
FISCAL_KINDS = ("sale", "refund", "correction", "open_shift", "close_shift")
OFD_STATES = [
    ("pending", "Pending"),
    ("sending", "Sending"),
    ("acknowledged", "Acknowledged"),
    ("failed", "Failed (will retry)"),
    ("dead_lettered", "Dead-lettered"),
    ("resolved", "Resolved manually"),
    ("not_applicable", "Not applicable"),
]
#: states in which a document still waits for its OFD confirmation
UNCONFIRMED_STATES = ("pending", "sending", "failed", "dead_lettered")
DELIVERABLE_STATES = ("pending", "failed")
JOB_KEY_PREFIX = "optics_fiscal_ofd:"


class OpticsFiscalDocument(models.Model):
    """One fiscal document of one till, as central knows it, and its way to the OFD.

    Documents are created from the tills' journal pushes (contract E) and from the POS
    order sync, keyed by the operation's UUID (unique in the database): every path
    that carries the same UUID lands on the same row.  Delivery to the OFD runs in
    queue_job jobs on the ``root.fiscal_ofd`` channel (see ``_ofd_deliver``)."""

    _name = "optics.fiscal.document"
    _description = "Fiscal Document"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "doc_time desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    uuid = fields.Char(string="UUID", required=True, readonly=True, index=True, copy=False,
                       help="Idempotency key of the operation: the POS order UUID for receipts.")
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    source = fields.Selection([("till", "Till push"), ("pos", "POS order sync")], readonly=True,
                              default="till")
    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True,
                                 default=lambda self: self.env.company)
    pos_config_id = fields.Many2one("pos.config", string="Point of Sale", readonly=True, index=True)
    store_id = fields.Many2one(related="pos_config_id.optics_store_id", store=True, string="Store")
    pos_session_id = fields.Many2one("pos.session", string="Session", readonly=True, index=True)
    pos_order_id = fields.Many2one("pos.order", string="Order", readonly=True, index=True)
    till_code = fields.Char(readonly=True, index=True)
    pos_reference = fields.Char(string="Receipt Ref.", readonly=True)
    hlc = fields.Char(string="HLC", readonly=True, help="Hybrid logical clock stamp of the till.")
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Payload (JSON)", compute="_compute_payload_text")
    total = fields.Integer(string="Total (kopecks)", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_amount_total", store=True, string="Total")
    fd_number = fields.Integer(string="FD Number", readonly=True, index=True)
    fiscal_sign = fields.Char(readonly=True, help="Fiscal sign of the document (tag 1077).")
    fn_serial = fields.Char(string="FN Serial", readonly=True, index=True)
    shift_number = fields.Integer(readonly=True)
    doc_time = fields.Datetime(string="Document Time", readonly=True, index=True)
    qr = fields.Char(string="QR Text", readonly=True)
    ofd_message = fields.Binary(string="OFD Message", attachment=False, readonly=True,
                                groups="optics_core.group_optics_accountant")
    has_ofd_message = fields.Boolean(compute="_compute_has_ofd_message", store=True)
    ofd_state = fields.Selection(OFD_STATES, string="OFD State", required=True, default="pending",
                                 readonly=True, index=True)
    attempts = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    sending_since = fields.Datetime(readonly=True)
    ofd_job_key = fields.Char(readonly=True, index=True, copy=False,
                              help="Identity key of the delivery job that owns the document.")
    ofd_confirmed_at = fields.Datetime(string="OFD Confirmation Time", readonly=True)
    ticket = fields.Binary(string="OFD Ticket", attachment=False, readonly=True,
                           groups="optics_core.group_optics_accountant")
    ticket_sent_at = fields.Datetime(string="Ticket Sent to Till", readonly=True)
    till_confirmed = fields.Boolean(string="Ticket in FN", readonly=True,
                                    help="The till reported the confirmation written into its FN.")
    log_ids = fields.One2many("optics.fiscal.document.log", "document_id", string="Error History",
                              readonly=True, groups="optics_core.group_optics_accountant")
    dead_letter_ids = fields.One2many("optics.fiscal.dead.letter", "document_id", readonly=True)
    age_days = fields.Integer(compute="_compute_age_days", string="Unconfirmed Days")

    _sql_constraints = [
        ("uuid_uniq", "unique(uuid)", "A fiscal document with this UUID already exists."),
    ]

    def init(self):
        # The job's row selection and the backlog figures scan by state.
        self.env.cr.execute(SQL(
            "CREATE INDEX IF NOT EXISTS optics_fiscal_document_backlog_idx ON %s "
            "(pos_config_id, ofd_state) WHERE ofd_state IN ('pending','sending','failed','dead_lettered')",
            SQL.identifier(self._table)))

    # ------------------------------------------------------------------ computes
    @api.depends("kind", "fd_number", "pos_reference", "till_code")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for doc in self:
            parts = [labels.get(doc.kind, doc.kind or "")]
            if doc.fd_number:
                parts.append(_("FD %s", doc.fd_number))
            if doc.pos_reference:
                parts.append(doc.pos_reference)
            elif doc.till_code:
                parts.append(doc.till_code)
            doc.name = " · ".join(p for p in parts if p)

    @api.depends("total")
    def _compute_amount_total(self):
        for doc in self:
            doc.amount_total = (doc.total or 0) / 100.0

    @api.depends("ofd_message")
    def _compute_has_ofd_message(self):
        for doc in self.sudo():
            doc.has_ofd_message = bool(doc.ofd_message)

    def _compute_payload_text(self):
        for doc in self:
            doc.payload_text = json.dumps(doc.payload, ensure_ascii=False, indent=2) \
                if doc.payload is not None else ""

    def _compute_age_days(self):
        now = fields.Datetime.now()
        for doc in self:
            if doc.ofd_state in UNCONFIRMED_STATES and doc.doc_time:
                doc.age_days = (now - doc.doc_time).days
            else:
                doc.age_days = 0

    # ============================================================== ingestion
    @api.model
    def _entry_to_values(self, entry, config):
        """Column values for a journal entry (contract E).  Raises ValueError with a
        precise message when the entry is malformed."""
        if not isinstance(entry, dict):
            raise ValueError("an entry must be a JSON object")
        uid = entry.get("uuid")
        if not isinstance(uid, str) or not 8 <= len(uid) <= 64:
            raise ValueError(f"entry uuid {uid!r} is missing or not a string of 8-64 characters")
        kind = entry.get("kind")
        if kind not in dict(KINDS):
            raise ValueError(f"entry {uid}: unknown kind {kind!r}")
        fiscal = entry.get("fiscal") or {}
        if not isinstance(fiscal, dict):
            raise ValueError(f"entry {uid}: 'fiscal' must be an object or null")
        message = entry.get("ofd_message")
        message_bytes = None
        if message:
            try:
                message_bytes = base64.b64decode(message, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise ValueError(f"entry {uid}: ofd_message is not valid base64") from None
        payload = entry.get("payload")
        total = 0
        if isinstance(payload, dict) and isinstance(payload.get("total"), int):
            total = payload["total"]
        elif isinstance(payload, dict) and isinstance(payload.get("amount"), int):
            total = payload["amount"]
        doc_time = fiscal.get("doc_time") or entry.get("created_at")
        state = "pending"
        if kind not in FISCAL_KINDS or entry.get("state") == "failed":
            state = "not_applicable"
        hlc = entry.get("hlc")
        return {
            "uuid": uid,
            "kind": kind,
            "till_code": entry.get("till_code") or (config.ru54fz_till_code if config else None),
            "pos_reference": entry.get("pos_reference") or None,
            "hlc": str(hlc).zfill(20) if hlc not in (None, "") else None,
            "payload": payload,
            "total": total,
            "fd_number": fiscal.get("fd_number") or None,
            "fiscal_sign": str(fiscal["fiscal_sign"]) if fiscal.get("fiscal_sign") not in (None, "") else None,
            "fn_serial": fiscal.get("fn_serial") or None,
            "shift_number": fiscal.get("shift_number") or None,
            "doc_time": self._parse_time(doc_time, self._till_tz(config)),
            "qr": fiscal.get("qr") or None,
            "ofd_message": message_bytes,
            "ofd_state": state,
            "till_confirmed": bool(entry.get("ofd_confirmed")),
        }

    @api.model
    def _parse_time(self, value, tz_name="Europe/Moscow"):
        """ISO 8601 -> naive UTC datetime, or None.  A time without offset is the
        till's local time (FiscalResult.doc_time), in ``tz_name``."""
        if not value or not isinstance(value, str):
            return None
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if stamp.tzinfo is None:
            try:
                stamp = stamp.replace(tzinfo=ZoneInfo(tz_name or "Europe/Moscow"))
            except (ZoneInfoNotFoundError, ValueError):
                stamp = stamp.replace(tzinfo=ZoneInfo("Europe/Moscow"))
        return stamp.astimezone(timezone.utc).replace(tzinfo=None)

    @api.model
    def _till_tz(self, config):
        return (config and (config.company_id.partner_id.tz or config.optics_store_id.partner_id.tz)) \
            or self.env.user.tz or "Europe/Moscow"

    #: columns an entry may fill in on an existing row while they are still empty
    _FILLABLE = ("fd_number", "fiscal_sign", "fn_serial", "shift_number", "doc_time", "qr",
                 "ofd_message", "hlc", "pos_reference", "till_code", "pos_config_id", "total")

    @api.model
    def _upsert(self, vals_list, source="till"):
        """Create the documents that do not exist yet (by uuid, race-free through the
        unique index) and fill in what an earlier path left empty on existing ones.

        Returns (documents, created_ids).  Never creates two rows for one uuid: a
        concurrent insert of the same uuid ends in ON CONFLICT DO NOTHING (or a
        serialization failure that the request layer retries)."""
        if not vals_list:
            return self.browse(), set()
        cr = self.env.cr
        now = fields.Datetime.now()
        uid = self.env.uid
        columns = ["uuid", "kind", "source", "company_id", "pos_config_id", "pos_session_id",
                   "pos_order_id", "till_code", "pos_reference", "hlc", "payload", "total",
                   "fd_number", "fiscal_sign", "fn_serial", "shift_number", "doc_time", "qr",
                   "ofd_message", "ofd_state", "till_confirmed", "attempts", "has_ofd_message",
                   "create_uid", "create_date", "write_uid", "write_date"]
        rows = []
        for vals in vals_list:
            row = dict(vals, source=source, attempts=0, create_uid=uid, create_date=now,
                       write_uid=uid, write_date=now)
            row["has_ofd_message"] = bool(row.get("ofd_message"))
            row["payload"] = json.dumps(row.get("payload")) if row.get("payload") is not None else None
            # Odoo keeps non-attachment binaries base64-encoded in their bytea column
            row["ofd_message"] = base64.b64encode(row["ofd_message"]) if row.get("ofd_message") else None
            rows.append(tuple(None if row.get(c) is False else row.get(c) for c in columns))
        values_sql = SQL(", ").join(
            SQL("(%s)", SQL(", ").join(SQL("%s", v) for v in row)) for row in rows)
        cr.execute(SQL(
            "INSERT INTO optics_fiscal_document (%s) VALUES %s ON CONFLICT (uuid) DO NOTHING RETURNING id",
            SQL(", ").join(SQL.identifier(c) for c in columns), values_sql))
        created = {r[0] for r in cr.fetchall()}
        uuids = [v["uuid"] for v in vals_list]
        docs = self.sudo().search([("uuid", "in", uuids)])
        self.env.invalidate_all()
        by_uuid = {d.uuid: d for d in docs}
        for vals in vals_list:
            doc = by_uuid.get(vals["uuid"])
            if not doc or doc.id in created:
                continue
            doc._fill_missing(vals)
        if created:
            # the stored computed/related fields the raw INSERT bypassed
            self.sudo().browse(sorted(created)).modified(
                ["kind", "fd_number", "pos_reference", "till_code", "total", "pos_config_id"])
            self.env.flush_all()
        return docs, created

    def _fill_missing(self, vals):
        """Write the values of ``vals`` whose column is still empty on this document."""
        self.ensure_one()
        doc = self.sudo()
        update = {}
        for name in self._FILLABLE:
            new = vals.get(name)
            if new in (None, False, "", 0):
                continue
            if name == "ofd_message":
                if not doc.has_ofd_message:
                    update[name] = base64.b64encode(new)
                continue
            if not doc[name]:
                update[name] = new
        if vals.get("till_confirmed") and not doc.till_confirmed:
            update["till_confirmed"] = True
        if update:
            doc.write(update)
        return update

    @api.model
    def _ingest_push(self, config, entries, status=None):
        """Contract E, receiving side: store the entries, enqueue their delivery,
        return ``{"accepted": [...], "tickets": [...]}`` for the till."""
        vals_list = []
        seen = set()
        for entry in entries:
            vals = self._entry_to_values(entry, config)
            if vals["uuid"] in seen:
                continue
            seen.add(vals["uuid"])
            if vals["ofd_message"] is not None:
                try:
                    container = protocol.Container.unpack(vals["ofd_message"])
                except protocol.ProtocolError:
                    container = None  # kept as is: the job dead-letters it with the reason
                if container is not None and not vals["fd_number"]:
                    vals["fd_number"] = container.fd_number
                    vals["fn_serial"] = vals["fn_serial"] or container.fn_number
            vals.update(company_id=config.company_id.id, pos_config_id=config.id,
                        pos_session_id=config.current_session_id.id or None)
            vals_list.append(vals)
        orders = self.env["pos.order"].sudo().search(
            ["|", ("uuid", "in", list(seen)), ("ru54fz_uuid", "in", list(seen))]) if seen else []
        order_by_uuid = {}
        for order in orders:
            order_by_uuid[order.uuid] = order
            if order.ru54fz_uuid:
                order_by_uuid[order.ru54fz_uuid] = order
        for vals in vals_list:
            order = order_by_uuid.get(vals["uuid"])
            if order:
                vals["pos_order_id"] = order.id
                vals["pos_session_id"] = order.session_id.id
        docs, _created = self._upsert(vals_list, source="till")
        docs._link_orders()
        if status:
            self.env["optics.fiscal.till"].sudo()._record_status(config, status)
        else:
            self.env["optics.fiscal.till"].sudo()._record_status(config, {})
        docs._ofd_enqueue()
        return {"accepted": [v["uuid"] for v in vals_list],
                "tickets": self._pending_tickets(config)}

    def _link_orders(self):
        """Attach documents to the pos.order of the same UUID when it exists."""
        todo = self.sudo().filtered(lambda d: not d.pos_order_id and d.kind in ("sale", "refund"))
        if not todo:
            return
        orders = self.env["pos.order"].sudo().search(
            ["|", ("uuid", "in", todo.mapped("uuid")), ("ru54fz_uuid", "in", todo.mapped("uuid"))])
        by_uuid = {}
        for order in orders:
            by_uuid[order.uuid] = order
            if order.ru54fz_uuid:
                by_uuid[order.ru54fz_uuid] = order
        for doc in todo:
            order = by_uuid.get(doc.uuid)
            if order:
                doc.write({"pos_order_id": order.id, "pos_session_id": order.session_id.id,
                           "pos_config_id": doc.pos_config_id.id or order.config_id.id})

    @api.model
    def _pending_tickets(self, config, limit=500):
        """OFD confirmations the till has not yet written into its FN (re-sent until the
        till's FN status or entry says they are in)."""
        docs = self.sudo().search([("pos_config_id", "=", config.id), ("ofd_state", "=", "acknowledged"),
                                   ("till_confirmed", "=", False)], order="fd_number, id", limit=limit)
        tickets = [{"uuid": d.uuid, "fd_number": d.fd_number,
                    "ticket": d.ticket.decode() if isinstance(d.ticket, bytes) else d.ticket}
                   for d in docs if d.ticket]
        if docs:
            self.env.cr.execute(SQL("UPDATE optics_fiscal_document SET ticket_sent_at=%s WHERE id IN %s",
                                    fields.Datetime.now(), tuple(docs.ids)))
            docs.invalidate_recordset(["ticket_sent_at"])
        return tickets

    # ======================================================== OFD delivery
    def _ofd_enqueue(self):
        """Claim the deliverable documents for new jobs (one per batch) and enqueue them.

        The claim (``ofd_job_key``, set only where it is empty, in SQL) and the job's
        identity key are the same string, so a document is never in two live jobs and
        queue_job refuses to enqueue the same key twice."""
        self.env["optics.fiscal.document"].flush_model()
        docs = self.sudo().filtered(lambda d: d.ofd_state in DELIVERABLE_STATES and d.has_ofd_message
                                    and not d.ofd_job_key)
        jobs = 0
        for company in docs.company_id:
            batch = max(1, company.ru54fz_ofd_batch_size or 1)
            ordered = docs.filtered(lambda d: d.company_id == company).sorted(
                lambda d: (d.fn_serial or "", d.fd_number or 0, d.id))
            for start in range(0, len(ordered), batch):
                chunk = ordered[start:start + batch]
                if len(chunk) == 1 and batch == 1:
                    key = f"{JOB_KEY_PREFIX}{chunk.uuid}"
                else:
                    key = f"{JOB_KEY_PREFIX}batch:{uuidlib.uuid4().hex}"
                self.env.cr.execute(SQL(
                    "UPDATE optics_fiscal_document SET ofd_job_key=%s WHERE id IN %s AND ofd_job_key IS NULL"
                    " AND ofd_state IN ('pending','failed') AND has_ofd_message RETURNING id",
                    key, tuple(chunk.ids)))
                claimed = [r[0] for r in self.env.cr.fetchall()]
                chunk.invalidate_recordset(["ofd_job_key"])
                if not claimed:
                    continue
                self.browse(claimed)._ofd_delay(key, company)
                jobs += 1
        return jobs

    def _ofd_delay(self, key, company, eta=None):
        description = _("OFD delivery of %(count)s fiscal document(s)", count=len(self))
        return self.sudo().with_delay(
            identity_key=key, max_retries=company.ru54fz_ofd_max_attempts or 20, eta=eta,
            description=description)._ofd_deliver(key)

    def _ofd_transport(self, company):
        if not company.ru54fz_ofd_host or not company.ru54fz_ofd_port:
            raise OfdTransportError(f"no OFD host/port configured for company {company.name}")
        return TcpOfdTransport(company.ru54fz_ofd_host, company.ru54fz_ofd_port,
                               connect_timeout=company.ru54fz_ofd_connect_timeout or 5.0,
                               read_timeout=company.ru54fz_ofd_read_timeout or 10.0)

    def _ofd_commit(self):
        # Each state change is committed as soon as it is true: a document the OFD has
        # confirmed must never fall back to "unconfirmed" (and be sent again) because a
        # later document of the same batch failed and the job transaction rolled back.
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _ofd_deliver(self, key):
        """Job: carry the OFD messages of the documents claimed by ``key`` to the OFD.

        * Rows are locked (FOR UPDATE SKIP LOCKED) and checked: only documents still
          claimed by this key and still deliverable are sent, so two workers racing,
          a requeued job or a till re-push never send a document twice.
        * They are marked ``sending`` and committed before the first byte goes out; a
          worker that dies there leaves them in ``sending`` for the stuck-document cron.
        * The shared circuit breaker is asked first; while it is open the job is
          postponed without spending an attempt.
        * A rejection goes to the dead-letter queue at once; a transport failure counts
          an attempt, is logged, and the job retries with the function's backoff; after
          the last attempt the document goes to the dead-letter queue."""
        self = self.sudo()  # noqa: PLW0642  (the job may have been enqueued by any user)
        self.env["optics.fiscal.document"].flush_model()
        cr = self.env.cr
        cr.execute(SQL(
            "SELECT id FROM optics_fiscal_document WHERE id IN %s AND ofd_job_key = %s"
            " AND ofd_state IN ('pending','failed') ORDER BY fn_serial, fd_number, id"
            " FOR NO KEY UPDATE SKIP LOCKED", tuple(self.ids) or (0,), key))
        locked_ids = [r[0] for r in cr.fetchall()]
        cr.execute(SQL(
            "SELECT count(*) FROM optics_fiscal_document WHERE id IN %s AND ofd_job_key = %s"
            " AND ofd_state IN ('pending','failed') AND NOT (id = ANY(%s))",
            tuple(self.ids) or (0,), key, locked_ids or [0]))
        busy = cr.fetchone()[0]
        if not locked_ids:
            if busy:
                raise RetryableJobError("documents locked by another transaction", seconds=2,
                                        ignore_retry=True)
            return _("nothing to deliver: already handled")
        docs = self.browse(locked_ids).with_prefetch(locked_ids)
        company = docs[0].company_id
        breaker = self.env["optics.ofd.breaker"]._get_for(company)
        try:
            breaker.before_call()
        except BreakerOpen as exc:
            raise RetryableJobError(str(exc), seconds=max(1, int(exc.retry_after + 0.999)),
                                    ignore_retry=True) from None
        docs.write({"ofd_state": "sending", "sending_since": fields.Datetime.now()})
        self._ofd_commit()

        max_attempts = company.ru54fz_ofd_max_attempts or 20
        acknowledged = 0
        link_ok = False
        failure = None
        transport = None
        try:
            transport = docs._ofd_transport(company)
        except OfdTransportError as exc:
            failure = exc
        todo = list(docs)
        while todo and failure is None:
            doc = todo[0]
            message = base64.b64decode(doc.sudo().ofd_message or b"")
            try:
                ticket = transport.send(message)
            except OfdRejected as exc:
                todo.pop(0)
                answered = exc.ofd_code is not None  # else refused locally: malformed message
                if answered and not link_ok:
                    breaker.record_success()  # the OFD answered: the link works
                    link_ok = True
                doc._ofd_log("rejected", str(exc), attempt=doc.attempts + 1)
                doc.write({"attempts": doc.attempts + 1, "last_error": str(exc)})
                doc._ofd_dead_letter(str(exc), "rejected" if answered else "malformed")
                self._ofd_commit()
                continue
            except OfdTransportError as exc:
                failure = exc
                break
            todo.pop(0)
            if not link_ok:
                breaker.record_success()
                link_ok = True
            doc._ofd_acknowledge(ticket)
            acknowledged += 1
            self._ofd_commit()
        if transport is not None:
            transport.close()
        if failure is None:
            if busy:
                raise RetryableJobError("some documents were locked by another transaction",
                                        seconds=2, ignore_retry=True)
            return _("%(count)s document(s) acknowledged", count=acknowledged)

        # A transport failure: the first remaining document spent an attempt, the rest
        # were not tried.
        breaker.record_failure(str(failure))
        doc, rest = todo[0], self.browse([d.id for d in todo[1:]])
        attempt = doc.attempts + 1
        doc._ofd_log("transport", str(failure), attempt=attempt)
        doc.write({"attempts": attempt, "last_error": str(failure), "ofd_state": "failed",
                   "sending_since": False})
        if rest:
            rest.write({"ofd_state": "pending", "sending_since": False})
        job_exhausted = self._ofd_current_job_retry() + 1 >= max_attempts
        if attempt >= max_attempts:
            doc._ofd_dead_letter(
                _("No OFD confirmation after %(n)s attempts; last error: %(err)s",
                  n=attempt, err=failure), "exhausted")
        if attempt >= max_attempts or job_exhausted:
            # This job's retry budget belongs to the failed document: the others move
            # to a fresh job with a fresh budget.
            (doc | rest).filtered(lambda d: d.ofd_state in DELIVERABLE_STATES).write(
                {"ofd_job_key": False})
            self._ofd_commit()
            (doc | rest).filtered(lambda d: d.ofd_state in DELIVERABLE_STATES)._ofd_enqueue()
            return _("document moved on after its last attempt")
        self._ofd_commit()
        raise RetryableJobError(str(failure))

    def _ofd_current_job_retry(self):
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return 0
        job = self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)
        return job.retry if job else 0

    def _ofd_acknowledge(self, ticket_bytes):
        self.ensure_one()
        attempt = self.attempts + 1
        self.write({
            "ofd_state": "acknowledged", "attempts": attempt, "ticket": base64.b64encode(ticket_bytes),
            "ofd_confirmed_at": fields.Datetime.now(), "sending_since": False, "last_error": False,
            "ofd_job_key": False,
        })
        self._ofd_log("ack", _("Confirmed by the OFD"), attempt=attempt)

    def _ofd_log(self, kind, message, attempt=0):
        self.ensure_one()
        return self.env["optics.fiscal.document.log"].sudo().create({
            "document_id": self.id, "kind": kind, "message": message, "attempt": attempt})

    def _ofd_dead_letter(self, reason, kind):
        self.ensure_one()
        self.write({"ofd_state": "dead_lettered", "ofd_job_key": False, "sending_since": False})
        return self.env["optics.fiscal.dead.letter"].sudo()._open_for(self, reason, kind)

    # ===================================================== user actions
    def action_ofd_sync_now(self):
        """Manual sync (store managers and administrators): enqueue delivery now."""
        if not self.env.user.has_group("optics_core.group_optics_store_manager"):
            raise AccessError(_("Only store managers and administrators may start an OFD sync."))
        self.check_access("read")
        docs = self.sudo().filtered(lambda d: d.ofd_state in DELIVERABLE_STATES)
        # a document whose job was lost keeps its claim: release it if that job is gone
        docs._ofd_release_dead_claims()
        count = docs._ofd_enqueue()
        for doc in docs:
            self.env["optics.fiscal.audit"].sudo()._log("manual_sync", doc, _("Manual OFD sync"))
        return {"type": "ir.actions.client", "tag": "display_notification", "params": {
            "type": "info", "message": _("%(n)s delivery job(s) enqueued.", n=count)}}

    def _ofd_release_dead_claims(self):
        """Clear claims whose job no longer exists or ended (done, failed, cancelled)."""
        claimed = self.sudo().filtered(lambda d: d.ofd_job_key)
        if not claimed:
            return self.browse()
        live = set(self.env["queue.job"].sudo().search([
            ("identity_key", "in", list(set(claimed.mapped("ofd_job_key")))),
            ("state", "in", ("wait_dependencies", "pending", "enqueued", "started"))]).mapped("identity_key"))
        orphans = claimed.filtered(lambda d: d.ofd_job_key not in live)
        if orphans:
            orphans.write({"ofd_job_key": False})
        return orphans

    def action_view_logs(self):
        self.ensure_one()
        return {"type": "ir.actions.act_window", "res_model": "optics.fiscal.document.log",
                "name": _("OFD Log"), "view_mode": "list,form",
                "domain": [("document_id", "=", self.id)]}

    # ============================================================ crons
    @api.model
    def _cron_ofd_requeue(self):
        """Recover documents no job will deliver: stuck in ``sending`` (the worker died
        mid-send), claimed by a job that ended, or never claimed."""
        now = fields.Datetime.now()
        for company in self.env["res.company"].sudo().search([]):
            timeout = (company.ru54fz_ofd_read_timeout or 10) * max(1, company.ru54fz_ofd_batch_size) + 300
            stuck = self.sudo().search([("company_id", "=", company.id), ("ofd_state", "=", "sending"),
                                        ("sending_since", "<", now - timedelta(seconds=timeout))])
            for doc in stuck:
                doc._ofd_log("requeue", _("Stuck in sending since %s: requeued", doc.sending_since))
            stuck.write({"ofd_state": "pending", "sending_since": False, "ofd_job_key": False})
        waiting = self.sudo().search([("ofd_state", "in", DELIVERABLE_STATES), ("has_ofd_message", "=", True)])
        waiting._ofd_release_dead_claims()
        return waiting._ofd_enqueue()

    @api.model
    def _cron_ofd_alerts(self):
        """Activities and mail for administrators (see docs/ofd_pipeline.md)."""
        return self.env["optics.fiscal.till"].sudo()._check_alerts()
