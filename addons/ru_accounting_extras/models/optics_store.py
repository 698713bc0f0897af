from odoo import fields, models


class OpticsStore(models.Model):
    _inherit = "optics.store"

    ru_cash_account_ids = fields.One2many("ru.cash.account", "store_id", string="Cash Accounts")

    def action_view_ru_cash_accounts(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("ru_accounting_extras.ru_cash_account_action")
        action["domain"] = [("store_id", "=", self.id)]
        action["context"] = {"default_store_id": self.id}
        return action

    def action_ru_setup_cash_accounts(self):
        """Create what a store needs on day one: a till cash account for each point of
        sale that has a cash journal, and a safe with a cash journal of its own."""
        CashAccount = self.env["ru.cash.account"]
        for store in self:
            existing = store.ru_cash_account_ids
            for config in store.pos_config_ids - existing.pos_config_id:
                journal = CashAccount._get_pos_cash_journal(config)
                if journal and journal not in existing.journal_id:
                    existing |= CashAccount.create(
                        {
                            "name": config.name,
                            "store_id": store.id,
                            "account_type": "till",
                            "pos_config_id": config.id,
                            "journal_id": journal.id,
                            "company_id": store.company_id.id,
                        }
                    )
            if not existing.filtered(lambda a: a.account_type == "safe"):
                journal = self.env["account.journal"].create(store._ru_prepare_safe_journal_vals())
                CashAccount.create(
                    {
                        "name": self.env._("Safe %(store)s", store=store.name),
                        "store_id": store.id,
                        "account_type": "safe",
                        "journal_id": journal.id,
                        "company_id": store.company_id.id,
                    }
                )
        return self.action_view_ru_cash_accounts() if len(self) == 1 else True

    def _ru_prepare_safe_journal_vals(self):
        self.ensure_one()
        return {
            "name": self.env._("Safe %(store)s", store=self.name),
            "code": self.env["account.journal"]._ru_free_code(f"S{self.code}"[:5], self.company_id),
            "type": "cash",
            "company_id": self.company_id.id,
        }
