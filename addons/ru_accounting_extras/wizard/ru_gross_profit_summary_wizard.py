import base64
import io
from datetime import datetime, time

import xlsxwriter
from pytz import timezone, utc

from odoo import api, fields, models
from odoo.exceptions import UserError

# dimension -> (gross-profit report groupby, receipt report groupby or None)
DIMENSIONS = {
    "store": ("store_id", "store_id"),
    "config": ("config_id", "config_id"),
    "categ": ("categ_id", None),
    "brand": ("brand", None),
    "user": ("user_id", "user_id"),
    "day": ("date:day", "date:day"),
    "week": ("date:week", "date:week"),
    "month": ("date:month", "date:month"),
}

# (model, field, kind) columns of the summary, in order; fields a user may not read are dropped.
COLUMNS = [
    ("ru.pos.gross.profit.report", "qty", "number"),
    ("ru.pos.gross.profit.report", "revenue_incl", "money"),
    ("ru.pos.gross.profit.report", "revenue", "money"),
    ("ru.pos.gross.profit.report", "discount_amount", "money"),
    ("ru.pos.gross.profit.report", "discount_share", "percent"),
    ("ru.pos.gross.profit.report", "cost", "money"),
    ("ru.pos.gross.profit.report", "gross_profit", "money"),
    ("ru.pos.gross.profit.report", "margin_percent", "percent"),
    ("ru.pos.sales.analytics.report", "receipt_count", "integer"),
    ("ru.pos.sales.analytics.report", "average_receipt", "money"),
    ("ru.pos.sales.analytics.report", "refund_count", "integer"),
    ("ru.pos.sales.analytics.report", "refund_rate", "percent"),
]


class RuGrossProfitSummaryWizard(models.TransientModel):
    """Gross profit and receipt summary for a period, grouped by one dimension, as an
    XLSX workbook or a printable PDF.  Figures come from grouped reads of the two SQL
    view reports, so they match the pivot views and obey the same access rules."""

    _name = "ru.gross.profit.summary.wizard"
    _description = "Gross Profit Summary"

    date_from = fields.Date(
        required=True, default=lambda self: fields.Date.context_today(self).replace(day=1)
    )
    date_to = fields.Date(required=True, default=fields.Date.context_today)
    store_ids = fields.Many2many("optics.store", string="Stores", help="Empty: every store you may see.")
    group_by = fields.Selection(
        [
            ("store", "Store"),
            ("config", "Till"),
            ("categ", "Product Category"),
            ("brand", "Brand"),
            ("user", "Cashier"),
            ("day", "Day"),
            ("week", "Week"),
            ("month", "Month"),
        ],
        required=True,
        default="store",
    )
    xlsx_file = fields.Binary(readonly=True, attachment=False)
    xlsx_filename = fields.Char(readonly=True)

    @api.constrains("date_from", "date_to")
    def _check_dates(self):
        for wizard in self:
            if wizard.date_from > wizard.date_to:
                raise UserError(self.env._("The period starts after it ends."))

    def _get_domain(self):
        self.ensure_one()
        # the period is in the user's days; the views store UTC datetimes
        domain = [
            ("date", ">=", self._user_tz_to_utc(datetime.combine(self.date_from, time.min))),
            ("date", "<=", self._user_tz_to_utc(datetime.combine(self.date_to, time.max))),
        ]
        if self.store_ids:
            domain.append(("store_id", "in", self.store_ids.ids))
        return domain

    def _user_tz_to_utc(self, naive):
        tz = timezone(self.env.user.tz or self.env.context.get("tz") or "UTC")
        return tz.localize(naive).astimezone(utc).replace(tzinfo=None)

    def _get_columns(self):
        """[(model, field, kind, label)] the current user may read."""
        columns = []
        for model_name, fname, kind in COLUMNS:
            field = self.env[model_name]._fields[fname]
            if field.is_accessible(self.env):
                columns.append((model_name, fname, kind, field._description_string(self.env)))
        return columns

    def _get_summary(self):
        """{'columns': [...], 'rows': [(label, {field: value})], 'total': {field: value}}"""
        self.ensure_one()
        gp_groupby, receipt_groupby = DIMENSIONS[self.group_by]
        columns = self._get_columns()
        domain = self._get_domain()
        rows = {}
        total = {}
        for model_name in ("ru.pos.gross.profit.report", "ru.pos.sales.analytics.report"):
            model = self.env[model_name]
            fnames = [c[1] for c in columns if c[0] == model_name]
            if not fnames:
                continue
            # the operands of the ratios are read too, so that the totals come from the
            # grouped rows instead of a second pass over the view
            operands = {
                operand
                for fname in fnames
                if fname in model._ratio_measures
                for operand in model._ratio_measures[fname][:2]
            }
            read_fnames = fnames + sorted(operands - set(fnames))
            aggregates = [f"{fname}:sum" for fname in read_fnames]
            groupby = gp_groupby if model_name == "ru.pos.gross.profit.report" else receipt_groupby
            if not groupby:
                total.update(zip(read_fnames, model._read_group(domain, [], aggregates)[0], strict=True))
                continue
            sums = dict.fromkeys(read_fnames, 0.0)
            for key, *values in model._read_group(domain, [groupby], aggregates, order=groupby):
                rows.setdefault(self._group_key(key), {}).update(
                    zip(fnames, values, strict=False)
                )  # values: fnames, then the operands
                for fname, value in zip(read_fnames, values, strict=True):
                    sums[fname] += value or 0.0
            for fname in fnames:
                if fname in model._ratio_measures:
                    numerator, denominator, factor = model._ratio_measures[fname]
                    total[fname] = sums[numerator] * factor / sums[denominator] if sums[denominator] else 0.0
                else:
                    total[fname] = sums[fname]
        ordered = sorted(rows.items(), key=lambda item: item[0][0])
        return {
            "columns": columns,
            "rows": [(label, values) for (_sort, label), values in ordered],
            "total": total,
            "dimension": dict(self._fields["group_by"]._description_selection(self.env))[self.group_by],
        }

    def _group_key(self, key):
        """(sort key, label) of a read_group key: a record, a date or a plain value."""
        if isinstance(key, models.BaseModel):
            # the id keeps apart two records of the same name
            return (
                ((key.display_name or ""), key.id) if key else ("~", 0),
                key.display_name or self.env._("Undefined"),
            )
        if isinstance(key, (datetime,)) or hasattr(key, "isoformat"):
            return ((key.isoformat(), 0), self._format_period(key))
        return (((key or "~"), 0), key or self.env._("Undefined"))

    def _format_period(self, value):
        if self.group_by == "month":
            return value.strftime("%Y-%m")
        if self.group_by == "week":
            return self.env._("Week of %(date)s", date=value.strftime("%Y-%m-%d"))
        return value.strftime("%Y-%m-%d")

    def action_export_xlsx(self):
        self.ensure_one()
        summary = self._get_summary()
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(self.env._("Gross Profit")[:31])
        bold = workbook.add_format({"bold": True})
        header = workbook.add_format({"bold": True, "bg_color": "#DDDDDD", "border": 1, "text_wrap": True})
        formats = {
            "money": workbook.add_format({"num_format": "#,##0.00"}),
            "number": workbook.add_format({"num_format": "#,##0.###"}),
            "integer": workbook.add_format({"num_format": "0"}),
            "percent": workbook.add_format({"num_format": "0.00"}),
        }
        total_formats = {
            kind: workbook.add_format({"bold": True, "num_format": fmt.num_format, "top": 1})
            for kind, fmt in formats.items()
        }
        sheet.write(
            0,
            0,
            self.env._(
                "Gross profit and receipts, %(start)s - %(end)s", start=self.date_from, end=self.date_to
            ),
            bold,
        )
        stores = self.store_ids.mapped("name") or [self.env._("All stores you may see")]
        sheet.write(1, 0, ", ".join(stores))
        row = 3
        sheet.write(row, 0, summary["dimension"], header)
        for col, (_model, _fname, _kind, label) in enumerate(summary["columns"], start=1):
            sheet.write(row, col, label, header)
        for label, values in summary["rows"]:
            row += 1
            sheet.write(row, 0, label)
            for col, (_model, fname, kind, _label) in enumerate(summary["columns"], start=1):
                if fname in values:
                    sheet.write_number(row, col, values[fname] or 0.0, formats[kind])
        row += 1
        sheet.write(row, 0, self.env._("Total"), total_formats["money"])
        for col, (_model, fname, kind, _label) in enumerate(summary["columns"], start=1):
            sheet.write_number(row, col, summary["total"].get(fname) or 0.0, total_formats[kind])
        sheet.set_column(0, 0, 32)
        sheet.set_column(1, len(summary["columns"]), 16)
        sheet.freeze_panes(4, 1)
        workbook.close()
        self.write(
            {
                "xlsx_file": base64.b64encode(buffer.getvalue()),
                "xlsx_filename": f"gross_profit_{self.date_from}_{self.date_to}.xlsx",
            }
        )
        return {
            "type": "ir.actions.act_url",
            "target": "self",
            "url": f"/web/content/{self._name}/{self.id}/xlsx_file/{self.xlsx_filename}?download=true",
        }

    def action_print_pdf(self):
        self.ensure_one()
        return self.env.ref("ru_accounting_extras.action_report_gross_profit_summary").report_action(self)
