from odoo import api, fields, models
from odoo.exceptions import ValidationError

# Cash in a till or a safe is physical: its balance must belong to that drawer alone,
# so those journals cannot be shared.  A bank account may serve several stores.
PHYSICAL_CASH_TYPES = ("till", "safe")


class RuCashAccount(models.Model):
    """Where a store's money sits: a till (the cash journal of a point of sale), the
    store's safe, or the bank account/deposit its cash is collected to.  The balance is
    read from posted journal items on the journal's default account, so it is the
    accounting truth at any date."""

    _name = "ru.cash.account"
    _description = "Store Cash Account"
    _inherit = ["mail.thread"]
    _order = "store_id, sequence, id"
    _check_company_auto = True

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    store_id = fields.Many2one("optics.store", required=True, index=True, check_company=True, tracking=True)
    account_type = fields.Selection(
        [("till", "Till"), ("safe", "Safe"), ("bank", "Bank Account / Deposit")],
        string="Type",
        required=True,
        default="safe",
        tracking=True,
    )
    pos_config_id = fields.Many2one(
        "pos.config",
        string="Point of Sale",
        check_company=True,
        help="For a till: the point of sale whose cash payment method posts to this journal.",
    )
    journal_id = fields.Many2one(
        "account.journal",
        required=True,
        check_company=True,
        tracking=True,
        domain="[('type', 'in', ('cash', 'bank'))]",
    )
    account_id = fields.Many2one(related="journal_id.default_account_id", string="Account")
    currency_id = fields.Many2one("res.currency", compute="_compute_currency_id", store=True)
    balance = fields.Monetary(
        compute="_compute_balance",
        help="Posted balance of the journal's account at the date in the context key "
        "'balance_date' (today when absent).",
    )

    _sql_constraints = [
        ("pos_config_uniq", "unique(pos_config_id)", "A point of sale has only one till cash account."),
    ]

    @api.depends("journal_id.currency_id", "company_id.currency_id")
    def _compute_currency_id(self):
        for cash_account in self:
            cash_account.currency_id = (
                cash_account.journal_id.currency_id or cash_account.company_id.currency_id
            )

    @api.depends_context("balance_date")
    def _compute_balance(self):
        balances = self._get_balances(self.env.context.get("balance_date"))
        for cash_account in self:
            cash_account.balance = balances.get(cash_account.id, 0.0)

    @api.onchange("pos_config_id")
    def _onchange_pos_config_id(self):
        if self.pos_config_id:
            self.account_type = "till"
            self.store_id = self.pos_config_id.optics_store_id or self.store_id
            self.journal_id = self._get_pos_cash_journal(self.pos_config_id) or self.journal_id
            if not self.name:
                self.name = self.pos_config_id.name

    @api.model
    def _get_pos_cash_journals(self, pos_config):
        # Payment methods are POS configuration an accountant has no right to read; which
        # journal a till posts to is exactly what configuring its cash account needs.
        methods = pos_config.sudo().payment_method_ids.filtered(lambda m: m.type == "cash")
        return methods.journal_id.sudo(False)

    @api.model
    def _get_pos_cash_journal(self, pos_config):
        return self._get_pos_cash_journals(pos_config)[:1]

    @api.constrains("account_type", "pos_config_id", "journal_id", "store_id")
    def _check_account_consistency(self):
        for cash_account in self:
            if cash_account.account_type == "till":
                config = cash_account.pos_config_id
                if not config:
                    raise ValidationError(
                        self.env._(
                            "Till cash account %(name)s needs its point of sale.", name=cash_account.name
                        )
                    )
                if config.optics_store_id and config.optics_store_id != cash_account.store_id:
                    raise ValidationError(
                        self.env._(
                            "Point of sale %(pos)s belongs to store %(pos_store)s, not to %(store)s.",
                            pos=config.name,
                            pos_store=config.optics_store_id.name,
                            store=cash_account.store_id.name,
                        )
                    )
                pos_journals = self._get_pos_cash_journals(config)
                if cash_account.journal_id not in pos_journals:
                    raise ValidationError(
                        self.env._(
                            "Till %(name)s must use the cash journal of point of sale %(pos)s "
                            "(%(journals)s).",
                            name=cash_account.name,
                            pos=config.name,
                            journals=", ".join(pos_journals.mapped("name")) or "-",
                        )
                    )
            elif cash_account.pos_config_id:
                raise ValidationError(
                    self.env._("Only a till is linked to a point of sale (%(name)s).", name=cash_account.name)
                )
            if cash_account.account_type in PHYSICAL_CASH_TYPES and cash_account.journal_id.type != "cash":
                raise ValidationError(
                    self.env._(
                        "%(name)s holds physical cash: its journal must be a cash journal.",
                        name=cash_account.name,
                    )
                )
            if not cash_account.journal_id.default_account_id:
                raise ValidationError(
                    self.env._(
                        "Journal %(journal)s has no default account to read the balance from.",
                        journal=cash_account.journal_id.name,
                    )
                )
        physical = self.filtered(lambda a: a.account_type in PHYSICAL_CASH_TYPES)
        if physical:
            clashes = self.search(
                [
                    ("id", "not in", physical.ids),
                    ("account_type", "in", PHYSICAL_CASH_TYPES),
                    ("journal_id", "in", physical.journal_id.ids),
                ],
                limit=1,
            )
            if not clashes and len(physical.journal_id) < len(physical):
                clashes = physical[1:]
            if clashes:
                raise ValidationError(
                    self.env._(
                        "Journal %(journal)s already holds the cash of %(other)s: every till and safe "
                        "needs a cash journal of its own, otherwise their balances mix.",
                        journal=clashes[0].journal_id.name,
                        other=clashes[0].name,
                    )
                )

    # ------------------------------------------------------------------
    # Balances
    # ------------------------------------------------------------------
    def _get_balances(self, date=None, strictly_before=False):
        """Posted balance of each cash account at ``date`` (inclusive; exclusive with
        ``strictly_before``), in the cash account's currency: {cash_account_id: amount}.
        One grouped query for the whole recordset."""
        if not self:
            return {}
        date = fields.Date.to_date(date) or fields.Date.context_today(self)
        accounts = self.sudo().journal_id.default_account_id
        domain = self._get_balance_domain(accounts, date, strictly_before)
        # Reading the ledger needs accounting rights a cashier does not have; they are
        # entitled to the balance of the cash accounts the record rules let them read.
        groups = (
            self.env["account.move.line"]
            .sudo()
            ._read_group(
                domain, ["account_id", "company_id", "currency_id"], ["balance:sum", "amount_currency:sum"]
            )
        )
        per_key = {}
        for account, company, currency, balance, amount_currency in groups:
            per_key.setdefault((account.id, company.id), []).append((currency, balance, amount_currency))
        result = {}
        for cash_account in self:
            total = 0.0
            for currency, balance, amount_currency in per_key.get(
                (cash_account.sudo().account_id.id, cash_account.company_id.id), []
            ):
                if cash_account.currency_id == cash_account.company_id.currency_id:
                    total += balance
                elif currency == cash_account.currency_id:
                    total += amount_currency
            result[cash_account.id] = cash_account.currency_id.round(total)
        return result

    @api.model
    def _get_balance_domain(self, accounts, date, strictly_before=False):
        return [
            ("account_id", "in", accounts.ids),
            ("company_id", "in", self.company_id.ids or self.env.companies.ids),
            ("parent_state", "=", "posted"),
            ("date", "<" if strictly_before else "<=", date),
        ]

    def get_balance_at(self, date=None):
        """Public helper for reports and RPC: balances at ``date`` by cash account id.
        ``_get_balances`` reads the ledger as superuser: the caller must be able to read
        these cash accounts (store record rules) first."""
        self.check_access("read")
        return self._get_balances(date)

    def action_view_journal_items(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_account_moves_all")
        action["domain"] = [("account_id", "=", self.account_id.id), ("parent_state", "=", "posted")]
        action["context"] = {"search_default_group_by_move": False}
        return action
