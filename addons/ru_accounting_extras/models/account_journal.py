from odoo import api, models


class AccountJournal(models.Model):
    _inherit = "account.journal"

    @api.model
    def _ru_free_code(self, code, company):
        """``code``, or ``code`` shortened and numbered until no journal of the company uses it."""
        taken = set(
            self.with_context(active_test=False).search([("company_id", "=", company.id)]).mapped("code")
        )
        candidate, number = code, 1
        while candidate in taken:
            suffix = str(number)
            candidate = code[: 5 - len(suffix)] + suffix
            number += 1
        return candidate
