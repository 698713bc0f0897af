from odoo import api, models


class ReportRuGrossProfitSummary(models.AbstractModel):
    _name = "report.ru_accounting_extras.report_gross_profit_summary"
    _description = "Gross Profit Summary Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        wizards = self.env["ru.gross.profit.summary.wizard"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "ru.gross.profit.summary.wizard",
            "docs": wizards,
            "summary_by_wizard": {wizard.id: wizard._get_summary() for wizard in wizards},
        }
