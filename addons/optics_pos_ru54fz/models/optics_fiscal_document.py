import base64
import binascii
import json
import logging
import threading
from datetime import timedelta

import psycopg2
from psycopg2.extras import execute_values

from odoo import SUPERUSER_ID, _, api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL

from odoo.addons.queue_job.exception import RetryableJobError

from ..ru54fz import till_time
from ..ru54fz.ofd import delivery, protocol
from ..ru54fz.ofd.client import OfdTransportError, TcpOfdTransport
from ..ru54fz.ofd.delivery import DELIVERABLE_STATES

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
#: documents enqueued per committed slice by the requeue cron
CRON_ENQUEUE_SLICE = 1000
#: PostgreSQL's int4 and int8 ranges: FD and shift numbers (32-bit counters of the FN that
#: never get near 2^31) are int4 columns, sums of kopecks are int8 (see ``Kopecks``)
MAX_INT4 = 2**31 - 1
MAX_INT8 = 2**63 - 1
#: OFD states of a document the OFD has confirmed or that never goes to the OFD
OFD_DONE_STATES = ("acknowledged", "resolved", "not_applicable")
SETTLEMENT_STAGES = [
    ("prepayment", "Prepayment"),
    ("handover", "Hand-over"),
    ("prepayment_refund", "Prepayment refund"),
]
#: FFD 1054 operation codes in the till's payload
OPERATION_SALE = 1
OPERATION_REFUND = 2


def _item_key(name, amount, vat, method, subject):
    return (str(name or "")[:128], int(amount), int(vat), int(method), int(subject))


class EntryInvalid(ValueError):
    """A pushed journal entry central cannot store; ``uuid`` names it so the till can
    set that entry aside and deliver the others (till push format)."""

    def __init__(self, message, uuid=None):
        super().__init__(message)
        self.uuid = uuid


class Kopecks(fields.Integer):
    """A sum in kopecks, in a 64-bit column.  The till accepts sums up to 2^40-1 (the
    Shtrih protocol's 5-byte sums); int4 stops at 21,474,836.47 RUB, so a fiscalised
    cash-in of 25,000,000 RUB could not be stored and blocked the till's queue."""

    _column_type = ("int8", "int8")


class _OfdEndpoint:
    """``delivery.Endpoint`` of a company: its shared breaker, its TCP transport, and its
    attempt budget (read when the rules ask for it)."""

    def __init__(self, docs, company):
        self.company = company
        self.breaker = docs.env["optics.ofd.breaker"]._get_for(company)
        self._docs = docs

    def open_transport(self):
        return self._docs._ofd_transport(self.company)

    @property
    def max_attempts(self):
        return self.company.ru54fz_ofd_max_attempts or delivery.DEFAULT_MAX_ATTEMPTS


class _OfdDeliveryStorage(delivery.DeliveryStorage):
    """The storage of the delivery rules (ru54fz/ofd/delivery.py) for the documents of one
    delivery job: row locks, set-based SQL on the hot path, and a commit as soon as a state
    change is true (``_ofd_commit``)."""

    def __init__(self, docs):
        self.docs = docs  # the job's documents, sudo
        self.env = docs.env
        self.locked_ids = []

    def lock_claimed(self, key):
        self.env["optics.fiscal.document"].flush_model()
        cr = self.env.cr
        ids = tuple(self.docs.ids) or (0,)
        cr.execute(
            SQL(
                "SELECT id FROM optics_fiscal_document WHERE id IN %s AND ofd_job_key = %s"
                " AND ofd_state IN ('pending','failed') ORDER BY fn_serial, fd_number, id"
                " FOR NO KEY UPDATE SKIP LOCKED",
                ids,
                key,
            )
        )
        self.locked_ids = [r[0] for r in cr.fetchall()]
        cr.execute(
            SQL(
                "SELECT count(*) FROM optics_fiscal_document WHERE id IN %s AND ofd_job_key = %s"
                " AND ofd_state IN ('pending','failed') AND NOT (id = ANY(%s))",
                ids,
                key,
                self.locked_ids or [0],
            )
        )
        return list(self.locked_ids), cr.fetchone()[0]

    def endpoint(self, doc_id):
        # the company of every locked document in one read
        doc = self.docs.browse(doc_id).with_prefetch(self.locked_ids or [doc_id])
        return _OfdEndpoint(self.docs, doc.company_id)

    def start_sending(self, ids):
        cr = self.env.cr
        cr.execute(
            SQL("SELECT id, ofd_message, attempts FROM optics_fiscal_document WHERE id IN %s", tuple(ids))
        )
        documents = {
            r[0]: delivery.Document(r[0], bytes(r[1]) if r[1] is not None else b"", r[2] or 0)
            for r in cr.fetchall()
        }
        cr.execute(
            SQL(
                "UPDATE optics_fiscal_document SET ofd_state='sending', sending_since=%s,"
                " write_date=%s, write_uid=%s WHERE id IN %s",
                fields.Datetime.now(),
                fields.Datetime.now(),
                self.env.uid,
                tuple(ids),
            )
        )
        self.docs._ofd_commit()
        return documents

    def message(self, document):
        # Odoo keeps non-attachment binaries base64-encoded in their bytea column
        return base64.b64decode(document.message)

    def record_acks(self, acks):
        """The confirmations in two statements (and the log's store), then commit."""
        cr = self.env.cr
        uid = self.env.uid
        now = fields.Datetime.now()
        values = SQL(", ").join(
            SQL("(%s, %s, %s)", ack.id, ack.attempt, base64.b64encode(ack.ticket)) for ack in acks
        )
        cr.execute(
            SQL(
                "UPDATE optics_fiscal_document d SET ofd_state='acknowledged', attempts=v.attempt,"
                " ticket=v.ticket, ofd_confirmed_at=%s, sending_since=NULL, last_error=NULL,"
                " ofd_job_key=NULL, write_date=%s, write_uid=%s"
                " FROM (VALUES %s) AS v(id, attempt, ticket) WHERE d.id = v.id",
                now,
                now,
                uid,
                values,
            )
        )
        message = _("Confirmed by the OFD")
        logs = SQL(", ").join(
            SQL(
                "(%s, %s, %s, 'ack', %s, %s, %s, %s, %s)",
                ack.id,
                now,
                ack.attempt,
                message,
                uid,
                now,
                uid,
                now,
            )
            for ack in acks
        )
        cr.execute(
            SQL(
                "INSERT INTO optics_fiscal_document_log (document_id, date, attempt, kind, message,"
                " create_uid, create_date, write_uid, write_date) VALUES %s",
                logs,
            )
        )
        # the log's stored related store_id
        cr.execute(
            SQL(
                "UPDATE optics_fiscal_document_log l SET store_id = d.store_id FROM optics_fiscal_document d"
                " WHERE l.document_id = d.id AND d.id IN %s"
                " AND l.store_id IS NULL AND d.store_id IS NOT NULL",
                tuple(ack.id for ack in acks),
            )
        )
        self.docs._ofd_commit()

    def record_rejection(self, doc_id, attempt, error, kind):
        doc = self.docs.browse(doc_id)
        doc._ofd_log("rejected", error, attempt=attempt)
        doc.write({"attempts": attempt, "last_error": error})
        doc._ofd_dead_letter(error, kind)
        self.docs._ofd_commit()

    def reload(self):
        self.env.invalidate_all()

    def attempts(self, doc_id):
        return self.docs.browse(doc_id).attempts

    def record_transport_failure(self, doc_id, attempt, error, rest_ids):
        doc, rest = self.docs.browse(doc_id), self.docs.browse(rest_ids)
        doc._ofd_log("transport", error, attempt=attempt)
        doc.write({"attempts": attempt, "last_error": error, "ofd_state": "failed", "sending_since": False})
        if rest:
            rest.write({"ofd_state": "pending", "sending_since": False})

    def job_retry(self):
        return self.docs._ofd_current_job_retry()

    def dead_letter_exhausted(self, doc_id, attempt, error):
        self.docs.browse(doc_id)._ofd_dead_letter(
            _("No OFD confirmation after %(n)s attempts; last error: %(err)s", n=attempt, err=error),
            "exhausted",
        )

    def move_to_new_job(self, ids):
        docs = self.docs.browse(ids)
        docs.filtered(lambda d: d.ofd_state in DELIVERABLE_STATES).write({"ofd_job_key": False})
        self.docs._ofd_commit()
        docs.filtered(lambda d: d.ofd_state in DELIVERABLE_STATES)._ofd_enqueue()

    def commit(self):
        self.docs._ofd_commit()

    def abort_sending(self, key, ids):
        cr = self.env.cr
        cr.rollback()
        cr.execute(
            SQL(
                "UPDATE optics_fiscal_document SET ofd_state='pending', sending_since=NULL"
                " WHERE id IN %s AND ofd_state='sending' AND ofd_job_key=%s",
                tuple(ids),
                key,
            )
        )
        self.docs._ofd_commit()


class OpticsFiscalDocument(models.Model):
    """One fiscal document of one till, as central knows it, and its way to the OFD.

    Documents are created from the tills' journal pushes (till push format) and from the POS
    order sync, keyed by the operation's UUID (unique in the database): every path
    that carries the same UUID lands on the same row.  Delivery to the OFD runs in
    queue_job jobs on the ``root.fiscal_ofd`` channel (see ``_ofd_deliver``)."""

    _name = "optics.fiscal.document"
    _description = "Fiscal Document"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "doc_time desc, id desc"
    _rec_name = "name"

    name = fields.Char(compute="_compute_name", store=True)
    uuid = fields.Char(
        string="UUID",
        required=True,
        readonly=True,
        index=True,
        copy=False,
        help="Idempotency key of the operation: the POS order UUID for receipts.",
    )
    kind = fields.Selection(KINDS, required=True, readonly=True, index=True)
    source = fields.Selection(
        [("till", "Till push"), ("pos", "POS order sync")], readonly=True, default="till"
    )
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, index=True, default=lambda self: self.env.company
    )
    pos_config_id = fields.Many2one("pos.config", string="Point of Sale", readonly=True, index=True)
    store_id = fields.Many2one(related="pos_config_id.optics_store_id", store=True, string="Store")
    pos_session_id = fields.Many2one("pos.session", string="Session", readonly=True, index=True)
    pos_order_id = fields.Many2one("pos.order", string="Order", readonly=True, index=True)
    till_code = fields.Char(readonly=True, index=True)
    pos_reference = fields.Char(string="Receipt Ref.", readonly=True)
    hlc = fields.Char(string="HLC", readonly=True, help="Hybrid logical clock stamp of the till.")
    payload = fields.Json(readonly=True)
    payload_text = fields.Text(string="Payload (JSON)", compute="_compute_payload_text")
    total = Kopecks(string="Total (kopecks)", readonly=True)
    currency_id = fields.Many2one(related="company_id.currency_id")
    amount_total = fields.Monetary(compute="_compute_amount_total", store=True, string="Total")
    fd_number = fields.Integer(string="FD Number", readonly=True, index=True)
    fiscal_sign = fields.Char(readonly=True, help="Fiscal sign of the document (tag 1077).")
    fn_serial = fields.Char(string="FN Serial", readonly=True, index=True)
    shift_number = fields.Integer(readonly=True)
    doc_time = fields.Datetime(string="Document Time", readonly=True, index=True)
    qr = fields.Char(string="QR Text", readonly=True)
    ofd_message = fields.Binary(
        string="OFD Message", attachment=False, readonly=True, groups="optics_core.group_optics_accountant"
    )
    has_ofd_message = fields.Boolean(compute="_compute_has_ofd_message", store=True)
    ofd_state = fields.Selection(
        OFD_STATES, string="OFD State", required=True, default="pending", readonly=True, index=True
    )
    attempts = fields.Integer(readonly=True)
    last_error = fields.Text(readonly=True)
    sending_since = fields.Datetime(readonly=True)
    ofd_job_key = fields.Char(
        readonly=True, index=True, copy=False, help="Identity key of the delivery job that owns the document."
    )
    ofd_confirmed_at = fields.Datetime(string="OFD Confirmation Time", readonly=True)
    ticket = fields.Binary(
        string="OFD Ticket", attachment=False, readonly=True, groups="optics_core.group_optics_accountant"
    )
    ticket_sent_at = fields.Datetime(string="Ticket Sent to Till", readonly=True)
    till_confirmed = fields.Boolean(
        string="Ticket in FN", readonly=True, help="The till reported the confirmation written into its FN."
    )
    log_ids = fields.One2many(
        "optics.fiscal.document.log",
        "document_id",
        string="Error History",
        readonly=True,
        groups="optics_core.group_optics_accountant",
    )
    dead_letter_ids = fields.One2many("optics.fiscal.dead.letter", "document_id", readonly=True)
    age_days = fields.Integer(compute="_compute_age_days", string="Unconfirmed Days")
    # lab-order settlement (see _optics_settle_lab_orders)
    optics_lab_order_id = fields.Many2one(
        "optics.lab.order", string="Lab Order", readonly=True, index=True, copy=False
    )
    optics_settlement_stage = fields.Selection(
        SETTLEMENT_STAGES, string="Lab Order Settlement", readonly=True, copy=False
    )
    optics_settlement_amount = fields.Monetary(string="Settled on the Lab Order", readonly=True, copy=False)

    _sql_constraints = [
        ("uuid_uniq", "unique(uuid)", "A fiscal document with this UUID already exists."),
    ]

    def init(self):
        # The job's row selection and the backlog figures scan by state.
        self.env.cr.execute(
            SQL(
                "CREATE INDEX IF NOT EXISTS optics_fiscal_document_backlog_idx ON %s "
                "(pos_config_id, ofd_state)"
                " WHERE ofd_state IN ('pending','sending','failed','dead_lettered')",
                SQL.identifier(self._table),
            )
        )

    # ------------------------------------------------------------------ computes
    @api.depends("kind", "fd_number", "pos_reference", "till_code")
    def _compute_name(self):
        labels = dict(self._fields["kind"]._description_selection(self.env))
        for doc in self:
            doc.name = self._make_name(labels, doc.kind, doc.fd_number, doc.pos_reference, doc.till_code)

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
            doc.payload_text = (
                json.dumps(doc.payload, ensure_ascii=False, indent=2) if doc.payload is not None else ""
            )

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
        """Column values for a journal entry (till push format).  Raises ValueError with a
        precise message when the entry is malformed."""
        if not isinstance(entry, dict):
            raise ValueError("an entry must be a JSON object")
        uid = entry.get("uuid")
        if not isinstance(uid, str) or not 8 <= len(uid) <= 64:
            raise ValueError(f"entry uuid {uid!r} is missing or not a string of 8-64 characters")
        kind = entry.get("kind")
        if kind not in dict(KINDS):
            raise EntryInvalid(f"entry {uid}: unknown kind {kind!r}", uid)
        fiscal = entry.get("fiscal") or {}
        if not isinstance(fiscal, dict):
            raise EntryInvalid(f"entry {uid}: 'fiscal' must be an object or null", uid)
        message = entry.get("ofd_message")
        message_bytes = None
        if message:
            try:
                message_bytes = base64.b64decode(message, validate=True)
            except (binascii.Error, ValueError, TypeError):
                raise EntryInvalid(f"entry {uid}: ofd_message is not valid base64", uid) from None
        payload = entry.get("payload")
        total = 0
        if isinstance(payload, dict) and isinstance(payload.get("total"), int):
            total = payload["total"]
        elif isinstance(payload, dict) and isinstance(payload.get("amount"), int):
            total = payload["amount"]
        if not -MAX_INT8 <= total <= MAX_INT8:
            raise EntryInvalid(f"entry {uid}: total {total} is out of range", uid)
        for key in ("fd_number", "shift_number"):
            number = fiscal.get(key)
            if number in (None, "", 0):
                continue
            if not isinstance(number, int) or isinstance(number, bool) or not 0 < number <= MAX_INT4:
                raise EntryInvalid(
                    f"entry {uid}: fiscal.{key} {str(number)[:32]!r} is not a number from 1 to {MAX_INT4}",
                    uid,
                )
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
            "fiscal_sign": str(fiscal["fiscal_sign"])
            if fiscal.get("fiscal_sign") not in (None, "")
            else None,
            "fn_serial": fiscal.get("fn_serial") or None,
            "shift_number": fiscal.get("shift_number") or None,
            "doc_time": till_time.utc_naive(doc_time, self.env["optics.fiscal.till"]._till_tz(config)),
            "qr": fiscal.get("qr") or None,
            "ofd_message": message_bytes,
            "ofd_state": state,
            "till_confirmed": bool(entry.get("ofd_confirmed")),
        }

    #: columns an entry may fill in on an existing row while they are still empty; the till's
    #: payload is what the FN signed: a push fills it in on a row the POS order sync created
    #: first (that sync never carries one)
    _FILLABLE = (
        "fd_number",
        "fiscal_sign",
        "fn_serial",
        "shift_number",
        "doc_time",
        "qr",
        "ofd_message",
        "hlc",
        "pos_reference",
        "till_code",
        "pos_config_id",
        "total",
        "payload",
    )

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
        columns = [
            "uuid",
            "kind",
            "source",
            "company_id",
            "pos_config_id",
            "pos_session_id",
            "pos_order_id",
            "till_code",
            "pos_reference",
            "hlc",
            "payload",
            "total",
            "fd_number",
            "fiscal_sign",
            "fn_serial",
            "shift_number",
            "doc_time",
            "qr",
            "ofd_message",
            "ofd_state",
            "till_confirmed",
            "attempts",
            "has_ofd_message",
            # stored computed/related fields, filled here as the ORM would
            "name",
            "store_id",
            "amount_total",
            "create_uid",
            "create_date",
            "write_uid",
            "write_date",
        ]
        labels = dict(self._fields["kind"]._description_selection(self.env))
        config_ids = {v.get("pos_config_id") for v in vals_list if v.get("pos_config_id")}
        stores = {c.id: c.optics_store_id.id for c in self.env["pos.config"].sudo().browse(config_ids)}
        rows = []
        for vals in vals_list:
            row = dict(
                vals,
                source=source,
                attempts=0,
                create_uid=uid,
                create_date=now,
                write_uid=uid,
                write_date=now,
            )
            row["has_ofd_message"] = bool(row.get("ofd_message"))
            row["payload"] = json.dumps(row.get("payload")) if row.get("payload") is not None else None
            # Odoo keeps non-attachment binaries base64-encoded in their bytea column
            row["ofd_message"] = (
                psycopg2.Binary(base64.b64encode(row["ofd_message"])) if row.get("ofd_message") else None
            )
            row["name"] = self._make_name(
                labels, row.get("kind"), row.get("fd_number"), row.get("pos_reference"), row.get("till_code")
            )
            row["store_id"] = stores.get(row.get("pos_config_id")) or None
            row["amount_total"] = (row.get("total") or 0) / 100.0
            rows.append(tuple(None if row.get(c) is False else row.get(c) for c in columns))
        # execute_values: one statement, without composing thousands of SQL objects
        created = {
            r[0]
            for r in execute_values(
                cr._obj,
                "INSERT INTO optics_fiscal_document ({}) VALUES %s ON CONFLICT (uuid) DO NOTHING"
                " RETURNING id".format(", ".join(f'"{c}"' for c in columns)),
                rows,
                page_size=1000,
                fetch=True,
            )
        }
        uuids = [v["uuid"] for v in vals_list]
        self.env.invalidate_all()
        docs = self.sudo().search([("uuid", "in", uuids)])
        by_uuid = {d.uuid: d for d in docs}
        for vals in vals_list:
            doc = by_uuid.get(vals["uuid"])
            if not doc or doc.id in created:
                continue
            doc._fill_missing(vals)
        return docs, created

    @api.model
    def _make_name(self, labels, kind, fd_number, pos_reference, till_code):
        parts = [labels.get(kind, kind or "")]
        if fd_number:
            parts.append(_("FD %s", fd_number))
        parts.append(pos_reference or till_code or "")
        return " · ".join(p for p in parts if p)

    def _fill_missing(self, vals):
        """Write the values of ``vals`` whose column is still empty on this document."""
        update = self._missing_values(vals)
        if update:
            self.sudo().write(update)
        return update

    def _missing_values(self, vals):
        """The values of ``vals`` whose column is still empty on this document."""
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
        return update

    @api.model
    def _ingest_push(self, config, entries, status=None, tickets_written=None):
        """Till push format, receiving side: store the entries, enqueue their delivery,
        return ``{"accepted": [...], "tickets": [...]}`` for the till.

        ``tickets_written``: uuids whose ticket the till has written into its FN; an entry
        the till sends again with nothing new (``_ru54fz_resent``) is accepted as it is."""
        if tickets_written:
            self._ru54fz_mark_till_confirmed(config, tickets_written)
        all_values = [self._entry_to_values(entry, config) for entry in entries]
        resent = self._ru54fz_resent(config, all_values)
        if resent:
            entries = [e for e in entries if e.get("uuid") not in resent]
            all_values = [v for v in all_values if v["uuid"] not in resent]
        vals_list = []
        seen = set()
        for vals in all_values:
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
                if container is not None:
                    vals["_container_fn"] = container.fn_number
            vals.update(
                company_id=config.company_id.id,
                pos_config_id=config.id,
                pos_session_id=config.current_session_id.id or None,
            )
            vals_list.append(vals)
        # one document, one till (FN serial + FD number): other tills' uuids are refused
        vals_list, refused = self._ru54fz_split_owned(config, vals_list)
        seen = {v["uuid"] for v in vals_list}
        # orders of this till's point of sale only: a uuid never reaches into another store
        orders = (
            self.env["pos.order"]
            .sudo()
            .search(
                [
                    ("config_id", "=", config.id),
                    "|",
                    ("uuid", "in", list(seen)),
                    ("ru54fz_uuid", "in", list(seen)),
                ]
            )
            if seen
            else []
        )
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
        docs, created = self._upsert(vals_list, source="till")
        docs._link_orders()
        docs.filtered(lambda d: d.id in created)._ru54fz_audit_manager_actions()
        if status:
            self.env["optics.fiscal.till"].sudo()._record_status(config, status)
        else:
            self.env["optics.fiscal.till"].sudo()._record_status(config, {})
        docs._ofd_enqueue()
        reply = {
            "accepted": [v["uuid"] for v in vals_list] + sorted(resent),
            "tickets": self._pending_tickets(config),
            "refused": refused,
        }
        self._ru54fz_after_push(config, entries, {v["uuid"] for v in vals_list})
        return reply

    @api.model
    def _ru54fz_deferred_reply(self, config, entries):
        """The reply to a push central could not store now (a row it needs is locked):
        nothing accepted, the entries named as deferred, the tickets the till is owed."""
        return {
            "accepted": [],
            "deferred": [e.get("uuid") for e in entries if isinstance(e, dict)],
            "tickets": self._pending_tickets(config),
            "refused": [],
        }

    @api.model
    def _ru54fz_after_push(self, config, entries, accepted):
        """What follows the fiscal documents of a push: the cash trail, the Z reports and
        the lab orders paid by these receipts."""
        # a failure there must not make central refuse fiscal documents it has stored
        # (the till would push again)
        for entry in entries:
            if entry.get("uuid") not in accepted:
                continue
            try:
                with self.env.cr.savepoint():
                    self.env["pos.session"].sudo()._ru54fz_ingest_till_entry(config, entry)
            except psycopg2.errors.LockNotAvailable:
                # the POS order sync of this receipt is recording it right now
                _logger.info("cash trail: till entry %s left to the POS order sync", entry.get("uuid"))
            except Exception:  # noqa: BLE001 - logged; the trail heals from the POS order sync
                _logger.exception(
                    "cash trail: till entry %s of %s not recorded", entry.get("uuid"), config.display_name
                )
        # then the lab orders paid by these receipts
        uuids = [
            e.get("uuid") for e in entries if isinstance(e, dict) and e.get("kind") in ("sale", "refund")
        ]
        if uuids:
            self.sudo().search([("uuid", "in", uuids)])._optics_settle_lab_orders()

    @api.model
    def _ru54fz_resent(self, config, vals_list):
        """The uuids of ``vals_list`` that are re-sends: documents this till already
        delivered, with nothing the stored row lacks (same FN and FD, no value to fill
        in).  The till carries an entry again while its OFD ticket has not come back;
        storing and ingesting it again would change nothing."""
        uuids = [v["uuid"] for v in vals_list]
        if not uuids:
            return set()
        docs = self.sudo().search(
            [("uuid", "in", uuids), ("pos_config_id", "=", config.id), ("source", "=", "till")]
        )
        by_uuid = {d.uuid: d for d in docs}
        resent = set()
        for vals in vals_list:
            doc = by_uuid.get(vals["uuid"])
            if (
                doc
                and doc.company_id == config.company_id
                and vals["fn_serial"] in (None, doc.fn_serial)
                and vals["fd_number"] in (None, doc.fd_number)
                and not doc._missing_values(vals)
            ):
                resent.add(vals["uuid"])
        return resent

    @api.model
    def _ru54fz_mark_till_confirmed(self, config, uuids):
        """The till wrote these documents' OFD tickets into its FN: stop handing them back."""
        uuids = [u for u in uuids if isinstance(u, str)]
        if not uuids:
            return
        self.flush_model(["pos_config_id", "uuid", "ofd_state", "till_confirmed"])
        self.env.cr.execute(
            SQL(
                "UPDATE optics_fiscal_document SET till_confirmed = true WHERE pos_config_id = %s"
                " AND uuid IN %s AND ofd_state = 'acknowledged' AND till_confirmed IS NOT TRUE",
                config.id,
                tuple(uuids),
            )
        )
        self.invalidate_model(["till_confirmed"])

    # ============================================================ ownership
    #: what a till's push sets on a document a POS order sync created first: the till's
    #: journal (FN serial + FD number, the signed values) is the truth, not the browser's copy
    _TILL_OVERRIDES = (
        "fd_number",
        "fiscal_sign",
        "fn_serial",
        "shift_number",
        "doc_time",
        "qr",
        "total",
        "payload",
        "hlc",
        "till_code",
        "pos_reference",
    )

    @api.model
    def _ru54fz_split_owned(self, config, vals_list):
        """Entries of ``config``'s push that central stores, and those it refuses.

        A document belongs to the till that fiscalised it: a uuid central already holds
        for another till, another point of sale or another company is refused, and so is
        an FD number of an FN already stored under another uuid, or an OFD message of
        another FN than the entry names.  Refusals are logged and audited (once per
        till and uuid); the till keeps them undelivered.  A document only the POS order
        sync wrote is taken over: the till's values replace the browser's.
        Returns ``(accepted vals, [{"uuid", "code", "message"}])``."""
        if not vals_list:
            return vals_list, []
        existing = {d.uuid: d for d in self.sudo().search([("uuid", "in", [v["uuid"] for v in vals_list])])}
        pairs = {
            (v["fn_serial"], v["fd_number"]) for v in vals_list if v.get("fn_serial") and v.get("fd_number")
        }
        claimed = {}
        if pairs:
            self.env.cr.execute(
                SQL(
                    "SELECT fn_serial, fd_number, uuid FROM optics_fiscal_document WHERE source = 'till'"
                    " AND (fn_serial, fd_number) IN %s",
                    tuple(pairs),
                )
            )
            claimed = {(fn, fd): uid for fn, fd, uid in self.env.cr.fetchall()}
        # an FN is one till's: documents another till delivered under it say whose it is
        fns = {v["fn_serial"] for v in vals_list if v.get("fn_serial")}
        foreign_fns = {}
        if fns:
            self.env.cr.execute(
                SQL(
                    "SELECT DISTINCT fn_serial, till_code FROM optics_fiscal_document WHERE source = 'till'"
                    " AND fn_serial IN %s AND pos_config_id IS NOT NULL AND pos_config_id != %s",
                    tuple(fns),
                    config.id,
                )
            )
            foreign_fns = dict(self.env.cr.fetchall())
        accepted, refused = [], []
        for vals in vals_list:
            doc = existing.get(vals["uuid"])
            reason = None
            if doc and doc.company_id != config.company_id:
                reason = ("owned_elsewhere", "the uuid belongs to a document of another company")
            elif doc and doc.pos_config_id and doc.pos_config_id != config:
                reason = (
                    "owned_elsewhere",
                    f"the uuid belongs to a document of till "
                    f"{doc.till_code or doc.pos_config_id.ru54fz_till_code} "
                    f"({doc.pos_config_id.display_name})",
                )
            if not reason and vals.get("fn_serial") in foreign_fns:
                reason = (
                    "fn_of_another_till",
                    f"FN {vals['fn_serial']} is the fiscal drive of till {foreign_fns[vals['fn_serial']]}",
                )
            other = claimed.get((vals.get("fn_serial"), vals.get("fd_number")))
            if not reason and other and other != vals["uuid"]:
                reason = (
                    "fd_taken",
                    f"FD {vals['fd_number']} of FN {vals['fn_serial']} is already stored as document {other}",
                )
            container_fn = vals.pop("_container_fn", None)
            if not reason and container_fn and vals.get("fn_serial") and container_fn != vals["fn_serial"]:
                reason = (
                    "ofd_message_mismatch",
                    f"the OFD message is of FN {container_fn}, the entry names FN {vals['fn_serial']}",
                )
            if reason:
                refused.append({"uuid": vals["uuid"], "code": reason[0], "message": reason[1]})
                continue
            if doc and doc.source == "pos":
                doc._ru54fz_take_over(vals)
            accepted.append(vals)
        if refused:
            self._ru54fz_log_refused(config, refused)
        return accepted, refused

    def _ru54fz_take_over(self, vals):
        """The till's push of a document the POS order sync created: the till's values win."""
        self.ensure_one()
        update = {k: vals[k] for k in self._TILL_OVERRIDES if vals.get(k) not in (None, False, "")}
        update["source"] = "till"
        self.sudo().write(update)

    @api.model
    def _ru54fz_log_refused(self, config, refused):
        Audit = self.env["optics.fiscal.audit"].sudo()
        for item in refused:
            _logger.warning(
                "push of till %s: entry %s refused: %s",
                config.ru54fz_till_code,
                item["uuid"],
                item["message"],
            )
            marker = f"[{item['uuid']}]"
            if not Audit.search_count(
                [
                    ("action", "=", "push_refused"),
                    ("res_model", "=", "pos.config"),
                    ("res_id", "=", config.id),
                    ("reason", "like", marker),
                ],
                limit=1,
            ):
                # a till pushes, not a user: the superuser stands for it in the log
                Audit.with_user(SUPERUSER_ID)._log(
                    "push_refused", config, f"{config.ru54fz_till_code} {marker}: {item['message']}"
                )

    def _ru54fz_audit_manager_actions(self):
        """Manager-only till operations (grants, refund overrides) arrive in the till's
        push with the manager the till checked the grant of: audit each once."""
        Audit = self.env["optics.fiscal.audit"].sudo()
        for doc in self.sudo():
            manager = (doc.payload or {}).get("manager") if isinstance(doc.payload, dict) else None
            if not isinstance(manager, dict):
                continue
            text = _(
                "%(action)s at till %(till)s authorised by %(user)s (grant %(nonce)s)",
                action=manager.get("action"),
                till=doc.till_code,
                user=manager.get("user"),
                nonce=manager.get("nonce"),
            )
            if manager.get("override_of"):
                text += "; " + _(
                    "refund of %(original)s unverified, reason: %(reason)s",
                    original=manager.get("override_of"),
                    reason=manager.get("reason"),
                )
            # logged as the manager the till checked the grant of (central issued it to that user)
            uid = manager.get("uid") if isinstance(manager.get("uid"), int) else 0
            user = self.env["res.users"].sudo().browse(uid).exists() or self.env["res.users"].browse(
                SUPERUSER_ID
            )
            Audit.with_user(user)._log("till_manager_action", doc, text)

    @api.model
    def _ru54fz_refund_info(self, config, uuid):
        """Central's record of a sale for a till about to refund it (``CentralClient.refundable``):
        ``None`` when no document of the till's company has that uuid.  Only what a till
        pushed counts (a POS-synced copy carries browser-writable values)."""
        doc = self.sudo().search([("uuid", "=", uuid), ("company_id", "=", config.company_id.id)], limit=1)
        if not doc:
            return None
        payload = doc.payload if isinstance(doc.payload, dict) else {}
        self.env.cr.execute(
            SQL(
                "SELECT uuid, payload->'payments' FROM optics_fiscal_document WHERE company_id = %s"
                " AND kind IN ('refund', 'correction') AND source = 'till'"
                " AND payload->>'original_uuid' = %s",
                config.company_id.id,
                uuid,
            )
        )
        refunds = [{"uuid": u, "payments": p} for u, p in self.env.cr.fetchall() if isinstance(p, dict)]
        return {
            "uuid": doc.uuid,
            "kind": doc.kind,
            # a copy only the POS order sync wrote: no till has vouched for it yet
            "from_till": doc.source == "till",
            "fd_number": doc.fd_number or None,
            "fiscal_sign": int(doc.fiscal_sign) if (doc.fiscal_sign or "").isdigit() else None,
            "payments": payload.get("payments") or {},
            "ofd_confirmed": doc.ofd_state in ("acknowledged", "resolved"),
            "refunds": refunds,
        }

    def _link_orders(self):
        """Attach documents to the pos.order of the same UUID when it exists."""
        todo = self.sudo().filtered(lambda d: not d.pos_order_id and d.kind in ("sale", "refund"))
        if not todo:
            return
        orders = (
            self.env["pos.order"]
            .sudo()
            .search(["|", ("uuid", "in", todo.mapped("uuid")), ("ru54fz_uuid", "in", todo.mapped("uuid"))])
        )
        by_uuid = {}
        for order in orders:
            by_uuid[order.uuid] = order
            if order.ru54fz_uuid:
                by_uuid[order.ru54fz_uuid] = order
        for doc in todo:
            order = by_uuid.get(doc.uuid)
            # never across points of sale: the order's uuid fields are written by a browser
            if order and (not doc.pos_config_id or order.config_id == doc.pos_config_id):
                doc.write(
                    {
                        "pos_order_id": order.id,
                        "pos_session_id": order.session_id.id,
                        "pos_config_id": doc.pos_config_id.id or order.config_id.id,
                    }
                )

    @api.model
    def _pending_tickets(self, config, limit=500):
        """OFD confirmations the till has not yet written into its FN (re-sent until the
        till's FN status or entry says they are in)."""
        docs = self.sudo().search(
            [
                ("pos_config_id", "=", config.id),
                ("ofd_state", "=", "acknowledged"),
                ("till_confirmed", "=", False),
            ],
            order="fd_number, id",
            limit=limit,
        )
        tickets = [
            {
                "uuid": d.uuid,
                "fd_number": d.fd_number,
                "ticket": d.ticket.decode() if isinstance(d.ticket, bytes) else d.ticket,
            }
            for d in docs
            if d.ticket
        ]
        if docs:
            # a note for the back office, not a state: when a POS order sync or another push
            # has just written one of these rows, skip the note rather than fail the push
            # (under REPEATABLE READ that is a serialization failure, and Odoo would replay
            # the whole push after a pause). The failure is expected and handled: not logged
            # as a "bad query" for the administrator to chase (log_exceptions=False covers this
            # one statement, where mute_logger would silence odoo.sql_db for every thread)
            try:
                with self.env.cr.savepoint():
                    self.env.cr.execute(
                        SQL(
                            "UPDATE optics_fiscal_document SET ticket_sent_at=%s WHERE id IN %s",
                            fields.Datetime.now(),
                            tuple(docs.ids),
                        ),
                        log_exceptions=False,
                    )
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                _logger.info("ticket_sent_at not noted for %s: rows written concurrently", docs.ids)
            docs.invalidate_recordset(["ticket_sent_at"])
        return tickets

    # ======================================================== OFD delivery
    # The delivery rules live in ru54fz/ofd/delivery.py; the model claims documents for
    # jobs, enqueues them and gives the rules their storage (``_OfdDeliveryStorage``).
    def _ofd_enqueue(self):
        """Claim the deliverable documents for new jobs (one per batch) and enqueue them.

        The claim (``ofd_job_key``, set only where it is empty, in SQL) and the job's
        identity key are the same string, so a document is never in two live jobs and
        queue_job refuses to enqueue the same key twice."""
        self.env["optics.fiscal.document"].flush_model()
        if not self.ids:
            return 0
        cr = self.env.cr
        cr.execute(
            SQL(
                "SELECT id, company_id, uuid FROM optics_fiscal_document WHERE id IN %s"
                " AND ofd_state IN ('pending','failed') AND has_ofd_message AND ofd_job_key IS NULL"
                " ORDER BY company_id, fn_serial, fd_number, id",
                tuple(self.ids),
            )
        )
        by_company = {}
        for doc_id, company_id, doc_uuid in cr.fetchall():
            by_company.setdefault(company_id, []).append((doc_id, doc_uuid))
        jobs = 0
        for company in self.env["res.company"].sudo().browse(list(by_company)):
            for key, chunk in delivery.plan_batches(by_company[company.id], company.ru54fz_ofd_batch_size):
                cr.execute(
                    SQL(
                        "UPDATE optics_fiscal_document SET ofd_job_key=%s WHERE id IN %s"
                        " AND ofd_job_key IS NULL"
                        " AND ofd_state IN ('pending','failed') AND has_ofd_message RETURNING id",
                        key,
                        tuple(chunk),
                    )
                )
                claimed = sorted(r[0] for r in cr.fetchall())
                if not claimed:
                    continue
                self.browse(claimed)._ofd_delay(key, company)
                jobs += 1
        self.invalidate_model(["ofd_job_key"])
        return jobs

    def _ofd_delay(self, key, company, eta=None):
        description = _("OFD delivery of %(count)s fiscal document(s)", count=len(self))
        return (
            self.sudo()
            .with_delay(
                identity_key=key,
                max_retries=company.ru54fz_ofd_max_attempts or delivery.DEFAULT_MAX_ATTEMPTS,
                eta=eta,
                description=description,
            )
            ._ofd_deliver(key)
        )

    @api.model
    def _ofd_wake_postponed(self, company_id):
        """The OFD link of the company works again (its breaker closed): run the delivery
        jobs that were postponed while it was down now, not at their own retry time (up to
        a cool-down later).  In its own short transaction, so the runner sees it at once;
        best effort: a job not woken still runs at its time."""
        try:
            with self.env.registry.cursor() as cr:
                cr.execute(SQL("SET LOCAL lock_timeout = '2s'"))
                cr.execute(
                    SQL(
                        # queue_job's trigger notifies the runner of each updated job, and
                        # the runner reschedules a job whose eta changed
                        "UPDATE queue_job SET eta = NULL WHERE state = 'pending' AND eta IS NOT NULL"
                        " AND identity_key IN (SELECT DISTINCT ofd_job_key FROM optics_fiscal_document"
                        " WHERE company_id = %s AND ofd_job_key IS NOT NULL AND ofd_state IN %s)",
                        company_id,
                        DELIVERABLE_STATES,
                    )
                )
                if cr.rowcount:
                    _logger.info("OFD link back: %s postponed delivery job(s) woken", cr.rowcount)
        except psycopg2.Error:
            _logger.warning("OFD link back: the postponed delivery jobs were not woken", exc_info=True)

    def _ofd_transport(self, company):
        if not company.ru54fz_ofd_host or not company.ru54fz_ofd_port:
            raise OfdTransportError(f"no OFD host/port configured for company {company.name}")
        return TcpOfdTransport(
            company.ru54fz_ofd_host,
            company.ru54fz_ofd_port,
            connect_timeout=company.ru54fz_ofd_connect_timeout or 5.0,
            read_timeout=company.ru54fz_ofd_read_timeout or 10.0,
        )

    def _ofd_commit(self):
        # Each state change is committed as soon as it is true: a document the OFD has
        # confirmed must never fall back to "unconfirmed" (and be sent again) because a
        # later document of the same batch failed and the job transaction rolled back.
        self.env.cr.commit()  # pylint: disable=invalid-commit

    def _ofd_deliver(self, key):
        """Job: carry the OFD messages of the documents claimed by ``key`` to the OFD.

        The rules are ``OfdDelivery`` (ru54fz/ofd/delivery.py), on this table through
        ``_OfdDeliveryStorage``:

        * Rows are locked (FOR NO KEY UPDATE SKIP LOCKED) and checked: only documents still
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
        try:
            outcome = delivery.OfdDelivery(_OfdDeliveryStorage(self)).deliver(key)
        except delivery.RetryLater as exc:
            raise RetryableJobError(
                str(exc), seconds=exc.seconds, ignore_retry=not exc.spend_attempt
            ) from None
        if outcome.kind == delivery.NOTHING:
            return _("nothing to deliver: already handled")
        if outcome.kind == delivery.MOVED_ON:
            return _("document moved on after its last attempt")
        return _("%(count)s document(s) acknowledged", count=outcome.acknowledged)

    def _ofd_current_job_retry(self):
        job_uuid = self.env.context.get("job_uuid")
        if not job_uuid:
            return 0
        job = self.env["queue.job"].sudo().search([("uuid", "=", job_uuid)], limit=1)
        return job.retry if job else 0

    def _ofd_acknowledge(self, ticket_bytes):
        """Record one OFD confirmation through the ORM (outside the delivery job)."""
        self.ensure_one()
        attempt = self.attempts + 1
        self.write(
            {
                "ofd_state": "acknowledged",
                "attempts": attempt,
                "ticket": base64.b64encode(ticket_bytes),
                "ofd_confirmed_at": fields.Datetime.now(),
                "sending_since": False,
                "last_error": False,
                "ofd_job_key": False,
            }
        )
        self._ofd_log("ack", _("Confirmed by the OFD"), attempt=attempt)

    def _ofd_log(self, kind, message, attempt=0):
        self.ensure_one()
        return (
            self.env["optics.fiscal.document.log"]
            .sudo()
            .create({"document_id": self.id, "kind": kind, "message": message, "attempt": attempt})
        )

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
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"type": "info", "message": _("%(n)s delivery job(s) enqueued.", n=count)},
        }

    def _ofd_release_dead_claims(self):
        """Clear claims whose job no longer exists or ended (done, failed, cancelled)."""
        claimed = self.sudo().filtered(lambda d: d.ofd_job_key)
        if not claimed:
            return self.browse()
        live = set(
            self.env["queue.job"]
            .sudo()
            .search(
                [
                    ("identity_key", "in", list(set(claimed.mapped("ofd_job_key")))),
                    ("state", "in", ("wait_dependencies", "pending", "enqueued", "started")),
                ]
            )
            .mapped("identity_key")
        )
        orphans = claimed.filtered(lambda d: d.ofd_job_key not in live)
        if orphans:
            orphans.write({"ofd_job_key": False})
        return orphans

    def action_view_logs(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "optics.fiscal.document.log",
            "name": _("OFD Log"),
            "view_mode": "list,form",
            "domain": [("document_id", "=", self.id)],
        }

    # ============================================================ crons
    @api.model
    def _cron_ofd_requeue(self):
        """Recover documents no job will deliver: stuck in ``sending`` (the worker died
        mid-send), claimed by a job that ended, or never claimed."""
        now = fields.Datetime.now()
        for company in self.env["res.company"].sudo().search([]):
            timeout = delivery.stuck_after_seconds(
                company.ru54fz_ofd_read_timeout, company.ru54fz_ofd_batch_size
            )
            stuck = self.sudo().search(
                [
                    ("company_id", "=", company.id),
                    ("ofd_state", "=", "sending"),
                    ("sending_since", "<", now - timedelta(seconds=timeout)),
                ]
            )
            for doc in stuck:
                doc._ofd_log("requeue", _("Stuck in sending since %s: requeued", doc.sending_since))
            stuck.write({"ofd_state": "pending", "sending_since": False, "ofd_job_key": False})
        waiting = self.sudo().search(
            [("ofd_state", "in", DELIVERABLE_STATES), ("has_ofd_message", "=", True)], order="id"
        )
        waiting._ofd_release_dead_claims()
        jobs = 0
        # A large backlog is enqueued in slices, each committed, so the job runner starts
        # draining while the rest is still being enqueued.
        for start in range(0, len(waiting), CRON_ENQUEUE_SLICE):
            jobs += waiting[start : start + CRON_ENQUEUE_SLICE]._ofd_enqueue()
            if not getattr(threading.current_thread(), "testing", False):
                self.env.cr.commit()  # pylint: disable=invalid-commit
        return jobs

    @api.model
    def _cron_ofd_alerts(self):
        """Activities and mail for administrators (see docs/ofd_pipeline.md)."""
        return self.env["optics.fiscal.till"].sudo()._check_alerts()

    # ============================================================ cash: shift figures
    @api.model
    def _ru54fz_unconfirmed_fds(self, config, shift_number):
        """FD numbers of the shift that central holds and the OFD has not confirmed."""
        docs = self.sudo().search(
            [
                ("pos_config_id", "=", config.id),
                ("shift_number", "=", shift_number),
                ("ofd_state", "not in", OFD_DONE_STATES),
                ("fd_number", "!=", 0),
            ],
            order="fd_number",
        )
        return docs.mapped("fd_number")

    # ============================================================ lab-order settlement
    # Lab-order money from fiscal results only.
    #
    # A prepayment, a hand-over balance or a prepayment refund reaches the lab order
    # (``optics.lab.order._register_fiscal_settlement``) from exactly one place: the
    # receipt the till fiscalised and pushed to central (till push format, authenticated by
    # the till's central token).  The POS order only *names* the lab order and the
    # stage (``pos.order.optics_lab_order_ref`` / ``optics_settlement_stage``); the
    # amount is read from the signed receipt's payload, whose items must be exactly
    # the lines the lab order itself computes for that stage and amount.  The
    # document is claimed for its lab order in one SQL statement, so a re-push, a
    # replayed request or the POS order sync arriving after the push can never count
    # it twice.  See docs/lab_order_fiscal_interface.md.
    def _optics_settle_lab_orders(self):
        """Register the fiscalised receipts of lab orders on their orders, once each.

        Runs as the system (the till's push has no user) and never fails the push or the order
        sync that triggered it: central must keep every fiscal document the till sends."""
        for doc in self.with_user(SUPERUSER_ID).sudo():
            order = doc.pos_order_id
            if (
                doc.optics_lab_order_id
                or doc.kind not in ("sale", "refund")
                or not order
                or not order.optics_lab_order_ref
                or not order.optics_settlement_stage
            ):
                continue
            if not isinstance(doc.payload, dict) or not doc.fiscal_sign or not doc.fd_number:
                continue  # not fiscalised, or the till has not pushed it yet
            lab = doc.env["optics.lab.order"].browse(order.optics_lab_order_ref).exists()
            try:
                with self.env.cr.savepoint():
                    if not lab:
                        raise UserError(self.env._("the lab order named by the POS order does not exist"))
                    stage, amount_kop = doc._optics_check_settlement(lab, order.optics_settlement_stage)
                    if not doc._optics_claim(lab, stage, amount_kop):
                        continue
                    lab._register_fiscal_settlement(stage, amount_kop, pos_order=order)
                    doc._optics_after_settlement(lab, stage)
            except UserError as exc:
                _logger.warning(
                    "fiscal document %s not settled on lab order %s: %s",
                    doc.uuid,
                    lab.name if lab else order.optics_lab_order_ref,
                    exc,
                )
                doc.message_post(
                    body=doc.env._(
                        "Not recorded on a lab order: %(reason)s", reason=exc.args[0] if exc.args else exc
                    )
                )
            except Exception:  # noqa: BLE001 - logged; the document itself stays stored
                _logger.exception("fiscal document %s: lab order settlement failed", doc.uuid)

    def _optics_claim(self, lab, stage, amount_kop):
        """Atomically mark this document as settled on ``lab``; False if it already was."""
        self.ensure_one()
        self.flush_recordset()
        self.env.cr.execute(
            SQL(
                "UPDATE optics_fiscal_document SET optics_lab_order_id = %s, optics_settlement_stage = %s,"
                " optics_settlement_amount = %s WHERE id = %s AND optics_lab_order_id IS NULL RETURNING id",
                lab.id,
                stage,
                amount_kop / 100.0,
                self.id,
            )
        )
        claimed = bool(self.env.cr.fetchall())
        self.invalidate_recordset(
            ["optics_lab_order_id", "optics_settlement_stage", "optics_settlement_amount"]
        )
        return claimed

    def _optics_check_settlement(self, lab, stage):
        """(stage, kopecks) this signed receipt settles on ``lab``; UserError when the receipt is
        not exactly what the lab order expects for that stage."""
        self.ensure_one()
        payload = self.payload
        store = self.pos_config_id.optics_store_id
        if lab.store_id != store:
            raise UserError(self.env._("lab order %(order)s belongs to another store", order=lab.name))
        items = payload.get("items") or []
        got = sorted(
            _item_key(
                i.get("name"),
                i.get("amount", 0),
                i.get("vat", 0),
                i.get("payment_method", 0),
                i.get("subject", 0),
            )
            for i in items
        )
        payments = payload.get("payments") or {}
        total = int(payload.get("total") or 0)
        operation = int(payload.get("operation") or 0)
        if stage == "prepayment":
            if operation != OPERATION_SALE or self.kind != "sale":
                raise UserError(self.env._("a prepayment must be a sale receipt"))
            expected = lab._get_fiscal_settlement_lines("prepayment", total)["lines"]
            amount = total
        elif stage == "handover":
            if operation != OPERATION_SALE or self.kind != "sale":
                raise UserError(self.env._("a hand-over must be a sale receipt"))
            settlement = lab._get_fiscal_settlement_lines("handover")
            if int(payments.get("prepayment") or 0) != settlement["prepaid"]:
                raise UserError(
                    self.env._(
                        "the receipt offsets %(got)s of prepayment, the order has %(want)s",
                        got=int(payments.get("prepayment") or 0) / 100.0,
                        want=settlement["prepaid"] / 100.0,
                    )
                )
            expected = settlement["lines"]
            amount = total - settlement["prepaid"]
        elif stage == "prepayment_refund":
            if operation != OPERATION_REFUND or self.kind != "refund":
                raise UserError(self.env._("a prepayment refund must be a refund receipt"))
            original = self.search(
                [
                    ("uuid", "=", payload.get("original_uuid") or ""),
                    ("optics_lab_order_id", "=", lab.id),
                    ("optics_settlement_stage", "=", "prepayment"),
                ],
                limit=1,
            )
            if not original:
                raise UserError(
                    self.env._("the refunded receipt is not a prepayment of %(order)s", order=lab.name)
                )
            expected = [
                {
                    "name": i.get("name"),
                    "amount": i.get("amount", 0),
                    "vat_code": i.get("vat", 0),
                    "payment_method": i.get("payment_method", 0),
                    "subject": i.get("subject", 0),
                }
                for i in (original.payload or {}).get("items") or []
            ]
            amount = total
        else:
            raise UserError(self.env._("unknown settlement stage %(stage)s", stage=stage))
        want = sorted(
            _item_key(line["name"], line["amount"], line["vat_code"], line["payment_method"], line["subject"])
            for line in expected
        )
        if got != want:
            raise UserError(
                self.env._(
                    "the receipt's items are not the lab order's %(stage)s lines",
                    stage=dict(SETTLEMENT_STAGES)[stage],
                )
            )
        if amount <= 0:
            raise UserError(self.env._("nothing was paid by this receipt"))
        return stage, amount

    def _optics_after_settlement(self, lab, stage):
        """The hand-over receipt paid the balance: the glasses are issued."""
        if (
            stage == "handover"
            and lab.state == "ready"
            and lab.currency_id.compare_amounts(lab.amount_due, 0) <= 0
        ):
            lab._write_privileged("workflow", {"state": "issued", "date_issued": fields.Datetime.now()})
            lab.message_post(
                body=self.env._("Issued: the balance was paid by fiscal receipt %(doc)s.", doc=self.name)
            )
