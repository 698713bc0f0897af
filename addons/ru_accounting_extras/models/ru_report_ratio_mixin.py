from odoo import models
from odoo.models import parse_read_group_spec
from odoo.tools import SQL


class RuReportRatioMixin(models.AbstractModel):
    """Ratio measures (margin %, discount share, average receipt ...) of the SQL-view
    reports.  Summing or averaging a per-row ratio is wrong at any group level, so each
    ratio is computed as SUM(numerator) / SUM(denominator) of the group, whatever
    aggregate the client asks for (pivot, graph, read_group)."""

    _name = "ru.report.ratio.mixin"
    _description = "Report ratio measures"

    # {ratio field: (numerator field, denominator field, factor)}
    _ratio_measures = {}

    def _read_group_select(self, aggregate_spec, query):
        if aggregate_spec != "__count":
            fname, property_name, func = parse_read_group_spec(aggregate_spec)
            if fname in self._ratio_measures and not property_name and func not in ("array_agg", "recordset"):
                numerator, denominator, factor = self._ratio_measures[fname]
                # field-level groups of the ratio itself, then of its operands (_field_to_sql)
                self.check_field_access_rights("read", [fname])
                return SQL(
                    "COALESCE(SUM(%s)::numeric * %s / NULLIF(SUM(%s), 0), 0)",
                    self._field_to_sql(self._table, numerator, query),
                    factor,
                    self._field_to_sql(self._table, denominator, query),
                )
        return super()._read_group_select(aggregate_spec, query)
