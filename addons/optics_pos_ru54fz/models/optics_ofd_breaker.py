import contextlib
import functools
from datetime import datetime, timezone

from psycopg2.extensions import ISOLATION_LEVEL_READ_COMMITTED

from odoo import _, api, fields, models
from odoo.exceptions import AccessError
from odoo.tools import SQL

from ..ru54fz.breaker import BreakerState, BreakerStorage, CircuitBreaker


def _to_epoch(value):
    return value.replace(tzinfo=timezone.utc).timestamp() if value else 0.0


def _from_epoch(value):
    return datetime.fromtimestamp(value, timezone.utc).replace(tzinfo=None) if value else None


class _DbStorage(BreakerStorage):
    """Breaker state in one row of optics_ofd_breaker, shared by every worker.

    Each transition runs in its own short transaction on a separate cursor holding
    the row lock, so the breaker is visible to all workers at once and never waits
    for the (long) delivery transaction of the caller."""

    def __init__(self, registry, breaker_id):
        self.registry = registry
        self.breaker_id = breaker_id

    @contextlib.contextmanager
    def transaction(self):
        with self.registry.cursor() as cr:
            # READ COMMITTED: the row lock waits for a concurrent transition and then sees
            # its result (under Odoo's REPEATABLE READ it would be a serialization failure).
            # Every new Odoo cursor sets its isolation level again.
            cr.connection.set_isolation_level(ISOLATION_LEVEL_READ_COMMITTED)
            cr.execute(
                SQL(
                    "SELECT state, failures, opened_at, probe_started_at, last_error"
                    " FROM optics_ofd_breaker WHERE id = %s FOR UPDATE",
                    self.breaker_id,
                )
            )
            row = cr.fetchone()
            handle = _Handle(cr, self.breaker_id, row)
            yield handle
            # the cursor commits when the block ends without error


class _Handle:
    def __init__(self, cr, breaker_id, row):
        self.cr = cr
        self.breaker_id = breaker_id
        self.row = row

    def load(self):
        if not self.row:
            return BreakerState()
        state, failures, opened_at, probe_at, last_error = self.row
        return BreakerState(
            state or "closed", failures or 0, _to_epoch(opened_at), _to_epoch(probe_at), last_error or ""
        )

    def save(self, st):
        self.cr.execute(
            SQL(
                "UPDATE optics_ofd_breaker SET state=%s, failures=%s, opened_at=%s, probe_started_at=%s,"
                " last_error=%s, write_date=(now() at time zone 'UTC') WHERE id=%s",
                st.state,
                st.failures,
                _from_epoch(st.opened_at),
                _from_epoch(st.probe_started_at),
                st.last_error or None,
                self.breaker_id,
            )
        )


class OpticsOfdBreaker(models.Model):
    """The OFD circuit breaker of one company's OFD endpoint (see ru54fz/breaker.py)."""

    _name = "optics.ofd.breaker"
    _description = "OFD Circuit Breaker"
    _order = "company_id, host, port"

    company_id = fields.Many2one("res.company", required=True, readonly=True, index=True, ondelete="cascade")
    host = fields.Char(required=True, readonly=True)
    port = fields.Integer(required=True, readonly=True)
    state = fields.Selection(
        [
            ("closed", "Closed (OFD reachable)"),
            ("open", "Open (OFD down)"),
            ("half_open", "Half-open (probing)"),
        ],
        default="closed",
        required=True,
        readonly=True,
    )
    failures = fields.Integer(string="Consecutive Failures", readonly=True)
    opened_at = fields.Datetime(readonly=True)
    probe_started_at = fields.Datetime(readonly=True)
    last_error = fields.Text(readonly=True)

    _sql_constraints = [
        ("endpoint_uniq", "unique(company_id, host, port)", "One breaker per company and OFD endpoint."),
    ]

    @api.depends("host", "port", "state")
    def _compute_display_name(self):
        labels = dict(self._fields["state"]._description_selection(self.env))
        for rec in self:
            rec.display_name = f"{rec.host}:{rec.port} — {labels.get(rec.state, rec.state)}"

    @api.model
    def _get_for(self, company):
        """The circuit breaker of the company's current OFD endpoint.  Its row is
        created on first use in its own transaction (so concurrent workers agree on
        one row) and only ever read and written through separate short transactions:
        the caller's snapshot may predate the row."""
        host = company.ru54fz_ofd_host or ""
        port = company.ru54fz_ofd_port or 0
        with self.env.registry.cursor() as cr:
            cr.execute(
                SQL(
                    "INSERT INTO optics_ofd_breaker (company_id, host, port, state, failures, create_date,"
                    " write_date) VALUES (%s, %s, %s, 'closed', 0, now() at time zone 'UTC',"
                    " now() at time zone 'UTC') ON CONFLICT (company_id, host, port) DO NOTHING",
                    company.id,
                    host,
                    port,
                )
            )
            cr.execute(
                SQL(
                    "SELECT id FROM optics_ofd_breaker WHERE company_id=%s AND host=%s AND port=%s",
                    company.id,
                    host,
                    port,
                )
            )
            breaker_id = cr.fetchone()[0]
        return self._make_breaker(breaker_id, company)

    @api.model
    def _make_breaker(self, breaker_id, company):
        return CircuitBreaker(
            _DbStorage(self.env.registry, breaker_id),
            failure_threshold=max(1, company.ru54fz_breaker_threshold or 5),
            cool_down=max(1, company.ru54fz_breaker_cool_down or 30),
            probe_timeout=max(
                60.0, 2 * (company.ru54fz_ofd_read_timeout or 10) + (company.ru54fz_ofd_connect_timeout or 5)
            ),
            on_recovered=functools.partial(
                self.env["optics.fiscal.document"]._ofd_wake_postponed, company.id
            ),
        )

    def _breaker(self):
        self.ensure_one()
        return self._make_breaker(self.id, self.company_id)

    def action_reset(self):
        if not self.env.user.has_group("optics_core.group_optics_admin"):
            raise AccessError(_("Only administrators may reset the OFD circuit breaker."))
        for rec in self:
            rec._breaker().reset()
            self.env["optics.fiscal.audit"]._log("breaker_reset", rec, _("Breaker reset by hand"))
        self.invalidate_recordset()
        return True
