from odoo import api, models


class ReportRuCashBook(models.AbstractModel):
    _name = "report.ru_accounting_extras.report_cash_book"
    _description = "Cash Book Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        wizards = self.env["ru.cash.book.wizard"].browse(docids)
        return {
            "doc_ids": docids,
            "doc_model": "ru.cash.book.wizard",
            "docs": wizards,
            "sections_by_wizard": {wizard.id: wizard._get_cash_book_data() for wizard in wizards},
        }
