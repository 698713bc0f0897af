from markupsafe import Markup

from odoo import _, fields, models


class OpticsXReportWizard(models.TransientModel):
    """X report on screen: the session's figures from the cash trail next to the KKT's
    shift counters; "Print on the KKT" has the till print the X report."""

    _name = "optics.x.report.wizard"
    _description = "X Report"

    session_id = fields.Many2one("pos.session", required=True, readonly=True)
    currency_id = fields.Many2one(related="session_id.currency_id")
    report_html = fields.Html(readonly=True, sanitize=False)
    printed = fields.Boolean(readonly=True)

    def _load(self, print_on_kkt=False):
        self.ensure_one()
        data = self.session_id.ru54fz_x_report_data(print_on_kkt=print_on_kkt)
        self.write(
            {
                "report_html": self._render(data),
                "printed": self.printed or (print_on_kkt and not data["kkt_error"]),
            }
        )
        return data

    def _render(self, data):
        cur = self.currency_id
        fig = data["figures"]
        rows = [
            (_("Opening float"), "", fig["opening_float"]),
            (_("Cash sales"), fig["cash_sales"]["count"], fig["cash_sales"]["amount"]),
            (_("Cash refunds"), fig["cash_refunds"]["count"], fig["cash_refunds"]["amount"]),
            (_("Card sales"), fig["card_sales"]["count"], fig["card_sales"]["amount"]),
            (_("Card refunds"), fig["card_refunds"]["count"], fig["card_refunds"]["amount"]),
            (_("Cash in"), fig["cash_in"]["count"], fig["cash_in"]["amount"]),
            (_("Cash out"), fig["cash_out"]["count"], fig["cash_out"]["amount"]),
            (_("Cash in the drawer"), "", fig["cash_balance"]),
            (_("Card total"), "", fig["card_total"]),
        ]
        body = Markup("").join(
            Markup("<tr><td>%s</td><td class='text-end'>%s</td><td class='text-end'>%s</td></tr>")
            % (label, count, cur.format(amount))
            for label, count, amount in rows
        )
        html = Markup(
            "<h4>%s</h4><table class='table table-sm'><thead><tr><th>%s</th>"
            "<th class='text-end'>%s</th><th class='text-end'>%s</th></tr></thead>"
            "<tbody>%s</tbody></table>"
        ) % (_("Session %s", data["session"]), _("Figure"), _("Count"), _("Amount"), body)
        if data["kkt_error"]:
            html += Markup("<p class='text-warning'>%s</p>") % _(
                "KKT counters unavailable: %s", data["kkt_error"]
            )
        elif data["comparison"]:
            body = Markup("").join(
                Markup(
                    "<tr class='%s'><td>%s</td><td class='text-end'>%s</td>"
                    "<td class='text-end'>%s</td><td class='text-end'>%s</td></tr>"
                )
                % (
                    "" if r["ok"] else "text-danger",
                    r["label"],
                    cur.format(r["session"]),
                    cur.format(r["kkt"]),
                    cur.format(r["difference"]),
                )
                for r in data["comparison"]
            )
            html += Markup(
                "<h4>%s</h4><table class='table table-sm'><thead><tr><th></th>"
                "<th class='text-end'>%s</th><th class='text-end'>%s</th>"
                "<th class='text-end'>%s</th></tr></thead><tbody>%s</tbody></table>"
            ) % (
                _("KKT shift %s", data["kkt"]["shift_number"]),
                _("Session"),
                _("KKT"),
                _("Difference"),
                body,
            )
        return html

    def action_print_on_kkt(self):
        self.ensure_one()
        self._load(print_on_kkt=True)
        return self._action_open()

    def _action_open(self):
        return {
            "type": "ir.actions.act_window",
            "name": _("X Report"),
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
        }
