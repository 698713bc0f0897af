import base64

from markupsafe import Markup, escape

from odoo import api, fields, models
from odoo.exceptions import UserError

from ..models.problem_messages import problem_message, read_error_message
from ..pricelist import analyse
from ..pricelist.headers import HeaderError
from ..pricelist.profile import ROW_FIELDS
from ..pricelist.readers import ReadError

PREVIEW_ROWS = 20
PREVIEW_PROBLEMS = 200
ASYNC_ROWS_PARAM = "connector_b.async_rows"
ASYNC_ROWS_DEFAULT = 20000


class ImportWizard(models.TransientModel):
    """Upload → preview (mapping applied, problems marked, planned counts) → import."""

    _name = "connector_b.import.wizard"
    _description = "Import a Supplier Price List"

    profile_id = fields.Many2one("connector_b.import.profile", required=True)
    file = fields.Binary(string="Price list", required=True, attachment=False)
    file_name = fields.Char()
    mode = fields.Selection(
        [("all", "All or nothing"), ("partial", "Import valid rows, report invalid ones")],
        required=True,
        default="all",
        help="All or nothing: any error leaves the catalog unchanged.",
    )
    state = fields.Selection([("upload", "Upload"), ("preview", "Preview")], default="upload", required=True)
    preview_html = fields.Html(readonly=True, sanitize=False)
    rows_total = fields.Integer(readonly=True)
    to_create = fields.Integer(readonly=True)
    to_update = fields.Integer(readonly=True)
    unchanged = fields.Integer(readonly=True)
    error_rows = fields.Integer(readonly=True)
    warning_count = fields.Integer(readonly=True)
    fatal = fields.Boolean(readonly=True)
    runs_in_background = fields.Boolean(compute="_compute_runs_in_background")

    @api.depends("rows_total")
    def _compute_runs_in_background(self):
        threshold = self._async_threshold()
        for wizard in self:
            wizard.runs_in_background = wizard.rows_total >= threshold

    def _async_threshold(self):
        value = self.env["ir.config_parameter"].sudo().get_param(ASYNC_ROWS_PARAM, ASYNC_ROWS_DEFAULT)
        try:
            return int(value)
        except (TypeError, ValueError):
            return ASYNC_ROWS_DEFAULT

    def _reopen(self):
        return {
            "type": "ir.actions.act_window",
            "res_model": self._name,
            "res_id": self.id,
            "view_mode": "form",
            "target": "new",
            "name": self.env._("Import a Supplier Price List"),
        }

    def _file_bytes(self):
        if not self.file:
            raise UserError(self.env._("Choose the price-list file first."))
        return base64.b64decode(self.file)

    def action_preview(self):
        self.ensure_one()
        self.env["connector_b.import.history"]._check_import_rights()
        profile = self.profile_id._to_pricelist_profile()
        writer = self.env["connector_b.catalog.writer"].sudo().with_company(self.profile_id.company_id)
        catalog = writer._load_catalog(self.profile_id.partner_id, self.profile_id.company_id)
        try:
            result = analyse(self._file_bytes(), profile, catalog=catalog, preview=PREVIEW_ROWS)
        except (ReadError, HeaderError, UnicodeDecodeError) as exc:
            raise UserError(
                self.env._(
                    "The file cannot be read with profile %(profile)s: %(error)s",
                    profile=self.profile_id.display_name,
                    error=read_error_message(self.env, exc),
                )
            ) from None
        self.write(
            {
                "state": "preview",
                "rows_total": result.rows_total,
                "to_create": result.created,
                "to_update": result.updated,
                "unchanged": result.unchanged,
                "error_rows": result.rows_error,
                "warning_count": result.warnings,
                "fatal": result.fatal,
                "preview_html": self._render_preview(result),
            }
        )
        return self._reopen()

    def action_back(self):
        self.ensure_one()
        self.state = "upload"
        return self._reopen()

    def _prepare_history_vals(self):
        return {
            "name": self.file_name or self.env._("price list"),
            "profile_id": self.profile_id.id,
            "company_id": self.profile_id.company_id.id,
            "mode": self.mode,
            "rows_expected": self.rows_total,
        }

    def action_import(self):
        self.ensure_one()
        History = self.env["connector_b.import.history"]
        History._check_import_rights()
        if self.state != "preview":
            self.action_preview()
        if self.fatal:
            raise UserError(
                self.env._("The file does not match the profile (see the preview); nothing to import.")
            )
        history = History.create(self._prepare_history_vals())
        history.attachment_id = self.env["ir.attachment"].create(
            {
                "name": history.name,
                "raw": self._file_bytes(),
                "res_model": History._name,
                "res_id": history.id,
            }
        )
        if self.runs_in_background:
            job = history.with_delay(
                channel="root.connector_b",
                description=self.env._(
                    "Import price list %(file)s (%(supplier)s)",
                    file=history.name,
                    supplier=history.partner_id.display_name,
                ),
            )._job_run()
            history.job_uuid = job.uuid
        else:
            history._execute()
        return {
            "type": "ir.actions.act_window",
            "res_model": History._name,
            "res_id": history.id,
            "view_mode": "form",
            "target": "current",
        }

    # -- preview rendering --------------------------------------------------------------
    def _render_preview(self, result):
        _ = self.env._
        field_labels = dict(
            self.env["connector_b.import.profile.column"]._fields["field"]._description_selection(self.env)
        )

        def msg(problem):
            return problem_message(self.env, problem, field_labels)

        header = result.header
        shown = [f for f in ROW_FIELDS if any(f in r.values for r in result.preview)]
        labels = {f: header.label(f) if header and f in header.index else f for f in shown}
        parts = [Markup('<div class="o_connector_b_preview">')]
        if result.fatal:
            parts.append(
                Markup('<div class="alert alert-danger" role="alert">%s</div>')
                % _("The file does not match the profile; nothing can be imported.")
            )
        parts.append(Markup('<table class="table table-sm table-bordered"><thead><tr><th>%s</th>') % _("Row"))
        for f in shown:
            parts.append(Markup("<th>%s</th>") % labels[f])
        parts.append(Markup("<th>%s</th></tr></thead><tbody>") % _("Problems"))
        for nrow in result.preview:
            cls = "table-danger" if nrow.has_error else ("table-warning" if nrow.problems else "")
            parts.append(Markup('<tr class="%s"><td>%s</td>') % (cls, nrow.row))
            bad_fields = {p.field: p for p in nrow.problems}
            for f in shown:
                value = nrow.values.get(f)
                problem = bad_fields.get(f) or (
                    bad_fields.get(f.replace("_qty", "")) if f == "stock_qty" else None
                )
                cell_cls = ""
                if problem:
                    cell_cls = "text-danger fw-bold" if problem.is_error else "text-warning"
                parts.append(Markup('<td class="%s">%s</td>') % (cell_cls, "" if value is None else value))
            parts.append(
                Markup("<td>%s</td></tr>")
                % Markup("<br/>").join(
                    escape(f"{p.column or field_labels.get(p.field, p.field)}: {msg(p)}")
                    for p in nrow.problems
                )
            )
        parts.append(Markup("</tbody></table>"))
        listed = result.problems[:PREVIEW_PROBLEMS]
        if listed:
            parts.append(
                Markup(
                    '<h5>%s</h5><table class="table table-sm"><thead><tr><th>%s</th><th>%s</th>'
                    "<th>%s</th><th>%s</th></tr></thead><tbody>"
                )
                % (
                    _(
                        "Problems (%(shown)s of %(total)s)",
                        shown=len(listed),
                        total=result.errors + result.warnings,
                    ),
                    _("Row"),
                    _("Column"),
                    _("Severity"),
                    _("Message"),
                )
            )
            for p in listed:
                cls = "table-danger" if p.is_error else "table-warning"
                parts.append(
                    Markup('<tr class="%s"><td>%s</td><td>%s</td><td>%s</td><td>%s</td></tr>')
                    % (
                        cls,
                        p.row,
                        p.column or field_labels.get(p.field, p.field),
                        _("error") if p.is_error else _("warning"),
                        msg(p),
                    )
                )
            parts.append(Markup("</tbody></table>"))
        parts.append(Markup("</div>"))
        return Markup("").join(parts)
