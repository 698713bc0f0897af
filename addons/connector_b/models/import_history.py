import logging
import time

from odoo import fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import SQL

from ..pricelist import analyse
from ..pricelist.headers import HeaderError
from ..pricelist.readers import ReadError
from ..pricelist.report import write_report_xlsx
from .problem_messages import problem_message, read_error_message

_logger = logging.getLogger(__name__)

IMPORT_GROUP = "optics_core.group_optics_accountant"
CHUNK_ROWS = 2000


class ImportHistory(models.Model):
    """One import of one file: who, when, what, the counts and every problem found."""

    _name = "connector_b.import.history"
    _description = "Price-list Import"
    _order = "id desc"

    name = fields.Char(string="File", required=True, readonly=True)
    profile_id = fields.Many2one(
        "connector_b.import.profile", required=True, readonly=True, ondelete="restrict"
    )
    partner_id = fields.Many2one(related="profile_id.partner_id", store=True, string="Supplier")
    company_id = fields.Many2one(
        "res.company", required=True, readonly=True, default=lambda self: self.env.company
    )
    user_id = fields.Many2one(
        "res.users", string="Imported by", required=True, readonly=True, default=lambda self: self.env.user
    )
    attachment_id = fields.Many2one("ir.attachment", string="Imported file", readonly=True)
    report_attachment_id = fields.Many2one("ir.attachment", string="Report file", readonly=True)
    mode = fields.Selection(
        [("all", "All or nothing"), ("partial", "Import valid rows, report invalid ones")],
        required=True,
        default="all",
        readonly=True,
    )
    state = fields.Selection(
        [
            ("queued", "Queued"),
            ("running", "Running"),
            ("done", "Done"),
            ("rejected", "Rejected (nothing imported)"),
            ("failed", "Failed"),
        ],
        default="queued",
        required=True,
        readonly=True,
        index=True,
    )
    date_start = fields.Datetime(readonly=True)
    date_done = fields.Datetime(readonly=True)
    duration = fields.Float(string="Duration (s)", digits=(10, 1), readonly=True)
    progress = fields.Float(
        readonly=True, help="Percentage of rows processed (large files, in the background)."
    )
    rows_expected = fields.Integer(readonly=True)
    rows_total = fields.Integer(string="Rows", readonly=True)
    created_count = fields.Integer(string="Created", readonly=True)
    updated_count = fields.Integer(string="Updated", readonly=True)
    unchanged_count = fields.Integer(string="Unchanged", readonly=True)
    error_count = fields.Integer(string="Rows with errors", readonly=True)
    skipped_count = fields.Integer(string="Duplicates skipped", readonly=True)
    warning_count = fields.Integer(string="Warnings", readonly=True)
    message = fields.Text(readonly=True)
    job_uuid = fields.Char(readonly=True, copy=False)
    problem_ids = fields.One2many(
        "connector_b.import.problem", "history_id", string="Problems", readonly=True
    )

    def _check_import_rights(self):
        if not self.env.su and not self.env.user.has_group(IMPORT_GROUP):
            raise AccessError(
                self.env._("Only accountants and administrators may import supplier price lists.")
            )

    # -- running ----------------------------------------------------------------------
    def _job_run(self):
        """Entry point of the background job (channel root.connector_b)."""
        self.ensure_one()
        self.with_context(connector_b_progress=True)._execute()

    def _execute(self):
        """Import the attached file.  Leaves the catalog unchanged unless it all succeeded
        (or, in partial mode, writes the valid rows); the history always records why."""
        self.ensure_one()
        self._check_import_rights()
        start = time.monotonic()
        self.write({"state": "running", "date_start": fields.Datetime.now(), "progress": 0})
        profile = self.profile_id._to_pricelist_profile()
        writer = self.env["connector_b.catalog.writer"].sudo().with_company(self.company_id)
        ctx = {
            "partner": self.partner_id,
            "company": self.company_id,
            "profile": self.profile_id,
            "history": self,
            "currencies": self._currency_ids(),
            "stats": {},
        }
        data = self.attachment_id.raw
        result, state, message = None, "done", False
        try:
            # one import per supplier at a time: two concurrent imports of one list would both
            # create the same new products.  Odoo's REPEATABLE READ snapshot is already taken,
            # so waiting for the other would not let us see its products: refuse instead.
            self.env.cr.execute(
                SQL(
                    "SELECT pg_try_advisory_xact_lock(hashtext('connector_b.import'), %s)", self.partner_id.id
                )
            )
            if not self.env.cr.fetchone()[0]:
                raise UserError(
                    self.env._(
                        "Another import of %(supplier)s is running; import again when it has finished.",
                        supplier=self.partner_id.display_name,
                    )
                )
            catalog = writer._load_catalog(self.partner_id, self.company_id)
            with self.env.cr.savepoint() as sp:
                result = analyse(
                    data,
                    profile,
                    catalog=catalog,
                    chunk_size=CHUNK_ROWS,
                    on_plan=lambda plan: writer._apply_plan(plan, ctx),
                    progress=self._progress_callback(),
                    stop_on_error=self.mode == "all",
                )
                if result.fatal or (self.mode == "all" and result.has_errors):
                    sp.rollback()
                    state = "rejected"
                    message = self.env._(
                        "Nothing was imported: the file has errors (see the problems). "
                        "Fix them, or import again choosing to import the valid rows only."
                    )
        except (ReadError, HeaderError, UnicodeDecodeError) as exc:
            state, message = (
                "failed",
                self.env._(
                    "The file cannot be read with this profile: %s", read_error_message(self.env, exc)
                ),
            )
        except (UserError, ValidationError) as exc:  # the savepoint rolled the catalog back
            _logger.warning("price-list import %s refused: %s", self.id, exc)
            state, message = "failed", self.env._("The import failed and nothing was imported: %s", exc)
        except Exception as exc:
            _logger.exception("price-list import %s failed", self.id)
            state, message = "failed", self.env._("The import failed and nothing was imported: %s", exc)
        self.env.invalidate_all()
        vals = {
            "state": state,
            "message": message,
            "date_done": fields.Datetime.now(),
            "duration": time.monotonic() - start,
            "progress": 100,
        }
        if result is not None:
            written = state == "done"
            vals.update(
                {
                    "rows_total": result.rows_total,
                    "error_count": result.rows_error,
                    "skipped_count": result.rows_skipped,
                    "warning_count": result.warnings,
                    "created_count": result.created if written else 0,
                    "updated_count": result.updated if written else 0,
                    "unchanged_count": result.unchanged if written else 0,
                }
            )
            self._store_problems(result.problems)
            not_stored = result.errors_dropped + result.warnings_dropped
            if not_stored:
                note = self.env._(
                    "Only the first %(kept)s problems are listed; %(more)s more were counted but not stored.",
                    kept=len(result.problems),
                    more=not_stored,
                )
                vals["message"] = f"{vals['message']}\n{note}" if vals["message"] else note
        self.write(vals)
        return result

    def _currency_ids(self):
        self.env.cr.execute("SELECT name, id FROM res_currency")
        return dict(self.env.cr.fetchall())

    def _progress_callback(self):
        """Progress written in its own transaction so the user sees it while the job runs."""
        if not self.env.context.get("connector_b_progress") or not self.rows_expected:
            return None
        history_id, expected, dbname = self.id, self.rows_expected, self.env.cr.dbname
        registry = self.env.registry

        def report(rows):
            pct = min(99.0, 100.0 * rows / expected)
            try:
                with registry.cursor() as cr:
                    cr.execute(
                        SQL(
                            "UPDATE connector_b_import_history SET progress = %s WHERE id = %s",
                            pct,
                            history_id,
                        )
                    )
            except Exception:  # progress is informative only; never fail the import for it
                _logger.warning(
                    "cannot report progress of import %s on %s", history_id, dbname, exc_info=True
                )

        return report

    def _store_problems(self, problems):
        self.problem_ids.sudo().unlink()
        if not problems:
            return
        now, uid = fields.Datetime.now(), self.env.uid
        labels = dict(
            self.env["connector_b.import.profile.column"]._fields["field"]._description_selection(self.env)
        )
        rows = [
            {
                "history_id": self.id,
                "row": p.row,
                "column_label": p.column or None,
                "field": p.field or None,
                "code": p.code,
                "severity": p.severity,
                "message": problem_message(self.env, p, labels),
                "value": p.value or None,
                "create_uid": uid,
                "write_uid": uid,
                "create_date": now,
                "write_date": now,
            }
            for p in problems
        ]
        self.env["connector_b.catalog.writer"].sudo()._insert_rows("connector_b_import_problem", rows)
        self.invalidate_recordset(["problem_ids"])

    # -- the report ----------------------------------------------------------------------
    def _report_labels(self):
        _ = self.env._
        return {
            "sheet_problems": _("Problems"),
            "sheet_summary": _("Summary"),
            "Row": _("Row"),
            "Column": _("Column"),
            "Field": _("Field"),
            "Severity": _("Severity"),
            "Problem": _("Problem"),
            "Message": _("Message"),
            "Value": _("Value"),
            "error": _("error"),
            "warning": _("warning"),
            "rows": _("Rows read"),
            "created": _("Created"),
            "updated": _("Updated"),
            "unchanged": _("Unchanged"),
            "errors": _("Rows with errors"),
            "skipped": _("Duplicates skipped"),
            "problems_error": _("Errors"),
            "problems_warning": _("Warnings"),
            "title": _("Import of %s", self.name),
        }

    def _report_xlsx(self):
        self.ensure_one()
        problems = [
            {
                "row": p.row,
                "column": p.column_label or "",
                "field": p.field or "",
                "code": p.code,
                "severity": p.severity,
                "message": p.message,
                "value": p.value or "",
            }
            for p in self.problem_ids.sorted(lambda p: (p.row, p.id))
        ]
        summary = {
            "rows": self.rows_total,
            "created": self.created_count,
            "updated": self.updated_count,
            "unchanged": self.unchanged_count,
            "errors": self.error_count,
            "skipped": self.skipped_count,
            "problems_error": len([p for p in problems if p["severity"] == "error"]),
            "problems_warning": self.warning_count,
        }
        return write_report_xlsx(problems, summary, labels=self._report_labels())

    def action_download_report(self):
        self.ensure_one()
        data = self._report_xlsx()
        name = self.env._("Import report %(file)s.xlsx", file=self.name.rsplit(".", 1)[0])
        attachment = self.env["ir.attachment"].create(
            {
                "name": name,
                "raw": data,
                "res_model": self._name,
                "res_id": self.id,
                "mimetype": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        self.report_attachment_id.unlink()
        self.report_attachment_id = attachment
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{attachment.id}?download=true",
            "target": "self",
        }

    def action_download_file(self):
        self.ensure_one()
        if not self.attachment_id:
            raise UserError(self.env._("The imported file is no longer stored."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self.attachment_id.id}?download=true",
            "target": "self",
        }

    def action_refresh(self):
        """Reload the form (progress of a running import)."""
        return True
