"""Prometheus text exposition of the fiscal pipeline's health.

``GET /optics_pos_ru54fz/metrics`` with ``Authorization: Bearer <token>``, the
token being the system parameter ``optics_pos_ru54fz.metrics_token`` (Settings >
Point of Sale > OFD: "Metrics Token").  No token configured: 404.  Wrong token:
401.  A bearer token rather than an IP allow-list because Odoo usually sits
behind a reverse proxy where the peer address is the proxy's.
"""

import hmac

from odoo import fields, http
from odoo.http import request
from odoo.tools import SQL

PARAM = "optics_pos_ru54fz.metrics_token"


def _esc(value):
    return str(value or "").replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


class FiscalMetricsController(http.Controller):
    @http.route(
        "/optics_pos_ru54fz/metrics",
        type="http",
        auth="none",
        methods=["GET"],
        csrf=False,
        save_session=False,
    )
    def metrics(self, **_kw):
        if not request.db:
            return request.make_response("no database\n", status=404)
        env = request.env(su=True)
        expected = env["ir.config_parameter"].get_param(PARAM) or ""
        if not expected:
            return request.make_response("metrics disabled\n", status=404)
        header = request.httprequest.headers.get("Authorization", "")
        given = header[7:] if header.startswith("Bearer ") else ""
        if not hmac.compare_digest(given.encode(), expected.encode()):
            return request.make_response(
                "unauthorized\n", status=401, headers=[("WWW-Authenticate", "Bearer")]
            )
        body = "\n".join(self._lines(env)) + "\n"
        return request.make_response(
            body,
            headers=[
                ("Content-Type", "text/plain; version=0.0.4; charset=utf-8"),
                ("Cache-Control", "no-store"),
            ],
        )

    def _lines(self, env):
        out = []

        def metric(name, kind, help_text, samples):
            out.append(f"# HELP {name} {help_text}")
            out.append(f"# TYPE {name} {kind}")
            for labels, value in samples:
                label_text = ",".join(f'{k}="{_esc(v)}"' for k, v in labels.items())
                out.append(f"{name}{{{label_text}}} {value}" if label_text else f"{name} {value}")

        tills = env["optics.fiscal.till"].search([])
        now = fields.Datetime.now()

        def lab(t):
            return {
                "till": t.till_code or t.pos_config_id.ru54fz_till_code or t.pos_config_id.id,
                "store": t.store_id.code or "",
            }

        metric(
            "optics_till_last_contact_age_seconds",
            "gauge",
            "Seconds since the till last pushed.",
            [(lab(t), int((now - t.last_contact).total_seconds())) for t in tills if t.last_contact],
        )
        metric(
            "optics_till_journal_backlog",
            "gauge",
            "Journal entries the till has not delivered.",
            [(lab(t), t.journal_backlog) for t in tills],
        )
        metric(
            "optics_till_ofd_backlog",
            "gauge",
            "Fiscal documents of the till awaiting OFD confirmation.",
            [(lab(t), t.ofd_backlog) for t in tills],
        )
        metric(
            "optics_till_oldest_unconfirmed_age_seconds",
            "gauge",
            "Age of the till's oldest document without OFD confirmation.",
            [(lab(t), int(t.oldest_unconfirmed_days * 86400)) for t in tills],
        )
        metric(
            "optics_till_fn_days_left",
            "gauge",
            "Days of validity left on the till's fiscal drive.",
            [(lab(t), t.fn_days_left) for t in tills if t.fn_valid_until],
        )
        metric(
            "optics_till_fn_memory_used_percent",
            "gauge",
            "Fiscal drive memory used.",
            [(lab(t), t.fn_memory_used_pct) for t in tills],
        )
        env.cr.execute(SQL("SELECT ofd_state, count(*) FROM optics_fiscal_document GROUP BY ofd_state"))
        metric(
            "optics_fiscal_documents",
            "gauge",
            "Fiscal documents by OFD state.",
            [({"state": s}, n) for s, n in env.cr.fetchall()],
        )
        env.cr.execute(SQL("SELECT count(*) FROM optics_fiscal_dead_letter WHERE state='open'"))
        metric("optics_fiscal_dead_letters_open", "gauge", "Open dead letters.", [({}, env.cr.fetchone()[0])])
        states = {"closed": 0, "half_open": 1, "open": 2}
        metric(
            "optics_ofd_breaker_state",
            "gauge",
            "OFD circuit breaker: 0 closed, 1 half-open, 2 open.",
            [
                ({"company": b.company_id.name, "endpoint": f"{b.host}:{b.port}"}, states.get(b.state, 0))
                for b in env["optics.ofd.breaker"].search([])
            ],
        )
        return out
