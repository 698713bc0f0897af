from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError
from odoo.tools import float_compare

from .ru_cash_account import PHYSICAL_CASH_TYPES

# Once submitted, what is being approved must not change under the approver.
LOCKED_FIELDS = {
    "operation",
    "source_account_id",
    "dest_account_id",
    "amount",
    "date",
    "reason_id",
    "company_id",
}


class RuCashTransfer(models.Model):
    """Moving cash between a store's cash accounts (till -> safe -> bank) or writing it
    off, as a document: draft -> submitted -> approved -> done (or cancelled).  Store
    managers prepare and submit their store's transfers; who may approve depends on the
    amount (company limits); on done the journal entries are posted."""

    _name = "ru.cash.transfer"
    _description = "Cash Transfer / Write-off"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date desc, id desc"
    _check_company_auto = True

    name = fields.Char(required=True, copy=False, readonly=True, default="/", index="trigram")
    operation = fields.Selection(
        [("transfer", "Transfer"), ("write_off", "Write-off")],
        required=True,
        default="transfer",
        tracking=True,
    )
    company_id = fields.Many2one("res.company", required=True, default=lambda self: self.env.company)
    source_account_id = fields.Many2one(
        "ru.cash.account", string="From", required=True, check_company=True, tracking=True
    )
    dest_account_id = fields.Many2one("ru.cash.account", string="To", check_company=True, tracking=True)
    store_id = fields.Many2one(related="source_account_id.store_id", store=True, index=True, string="Store")
    dest_store_id = fields.Many2one(
        related="dest_account_id.store_id", store=True, index=True, string="Destination Store"
    )
    currency_id = fields.Many2one(related="source_account_id.currency_id", store=True)
    amount = fields.Monetary(required=True, tracking=True)
    date = fields.Date(
        required=True,
        default=fields.Date.context_today,
        tracking=True,
        help="Accounting date of the journal entries.",
    )
    reason_id = fields.Many2one("ru.cash.writeoff.reason", string="Write-off Reason", check_company=True)
    note = fields.Text(string="Reason / Comment")
    state = fields.Selection(
        [
            ("draft", "Draft"),
            ("submitted", "Submitted"),
            ("approved", "Approved"),
            ("done", "Done"),
            ("cancel", "Cancelled"),
        ],
        default="draft",
        required=True,
        copy=False,
        tracking=True,
        index=True,
    )
    approval_level = fields.Selection(
        [("manager", "Store Manager"), ("accountant", "Accountant")],
        compute="_compute_approval_level",
        string="Approval By",
        help="Who may approve this document given its amount and the company limits.",
    )
    submitted_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    approved_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    approved_date = fields.Datetime(readonly=True, copy=False)
    done_by_id = fields.Many2one("res.users", readonly=True, copy=False)
    move_ids = fields.Many2many("account.move", string="Journal Entries", readonly=True, copy=False)

    _sql_constraints = [
        ("amount_positive", "CHECK(amount > 0)", "The amount must be positive."),
    ]

    @api.depends("amount", "operation", "company_id")
    def _compute_approval_level(self):
        for transfer in self:
            transfer.approval_level = "manager" if transfer._is_within_manager_limit() else "accountant"

    def _is_within_manager_limit(self):
        self.ensure_one()
        company = self.company_id
        limit = (
            company.ru_cash_writeoff_manager_limit
            if self.operation == "write_off"
            else company.ru_cash_manager_approval_limit
        )
        if not limit:
            return False
        amount = (
            self.currency_id._convert(self.amount, company.currency_id, company, self.date)
            if self.currency_id and self.currency_id != company.currency_id
            else self.amount
        )
        return float_compare(amount, limit, precision_rounding=company.currency_id.rounding) <= 0

    @api.constrains("operation", "source_account_id", "dest_account_id", "reason_id")
    def _check_accounts(self):
        for transfer in self:
            if transfer.operation == "transfer":
                if not transfer.dest_account_id:
                    raise ValidationError(self.env._("A transfer needs a destination cash account."))
                if transfer.dest_account_id == transfer.source_account_id:
                    raise ValidationError(self.env._("A transfer goes between two different cash accounts."))
                if transfer.dest_account_id.currency_id != transfer.source_account_id.currency_id:
                    raise ValidationError(
                        self.env._(
                            "%(src)s and %(dst)s are in different currencies; exchange is not a transfer.",
                            src=transfer.source_account_id.name,
                            dst=transfer.dest_account_id.name,
                        )
                    )
            else:
                if transfer.dest_account_id:
                    raise ValidationError(self.env._("A write-off has no destination cash account."))
                if not transfer.reason_id:
                    raise ValidationError(self.env._("A write-off needs a reason."))

    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("ru.cash.transfer") or "/"
        transfers = super().create(vals_list)
        transfers._check_store_rights()
        return transfers

    def write(self, vals):
        if LOCKED_FIELDS.intersection(vals) and any(t.state != "draft" for t in self):
            raise UserError(
                self.env._(
                    "Only draft cash documents can be changed; reset %(names)s to draft first.",
                    names=", ".join(self.filtered(lambda t: t.state != "draft").mapped("name")),
                )
            )
        res = super().write(vals)
        if LOCKED_FIELDS.intersection(vals):
            self._check_store_rights()
        return res

    @api.ondelete(at_uninstall=False)
    def _unlink_except_posted(self):
        if any(t.state not in ("draft", "cancel") or t.move_ids for t in self):
            raise UserError(
                self.env._("Only draft or cancelled cash documents without entries can be deleted.")
            )

    # ------------------------------------------------------------------
    # Roles
    # ------------------------------------------------------------------
    def _user_is_accountant(self):
        return self.env.su or self.env.user.has_group("optics_core.group_optics_accountant")

    def _user_manages_store(self, store):
        return (
            bool(store)
            and self.env.user.has_group("optics_core.group_optics_store_manager")
            and store in self.env.user.optics_store_ids
        )

    def _check_store_rights(self):
        """A store manager prepares documents of their own store only."""
        if self._user_is_accountant():
            return
        for transfer in self:
            if not self._user_manages_store(transfer.source_account_id.store_id):
                raise AccessError(
                    self.env._(
                        "You may only prepare cash documents of a store you manage (%(store)s).",
                        store=transfer.source_account_id.store_id.name,
                    )
                )

    def _check_can_approve(self):
        for transfer in self:
            if transfer._user_is_accountant():
                continue
            if not self._user_manages_store(transfer.store_id):
                raise AccessError(
                    self.env._(
                        "Only the store's manager or an accountant may approve %(name)s.", name=transfer.name
                    )
                )
            if not transfer._is_within_manager_limit():
                raise AccessError(
                    self.env._(
                        "%(name)s exceeds the store manager approval limit; an accountant must approve it.",
                        name=transfer.name,
                    )
                )

    def _check_can_process(self):
        for transfer in self:
            if transfer._user_is_accountant():
                continue
            if not (
                self._user_manages_store(transfer.store_id)
                or self._user_manages_store(transfer.dest_store_id)
            ):
                raise AccessError(
                    self.env._(
                        "Only a manager of the stores involved or an accountant may process %(name)s.",
                        name=transfer.name,
                    )
                )

    def _check_state(self, allowed, action):
        wrong = self.filtered(lambda t: t.state not in allowed)
        if wrong:
            raise UserError(
                self.env._(
                    "Cannot %(action)s %(names)s in its current state.",
                    action=action,
                    names=", ".join(wrong.mapped("name")),
                )
            )

    # ------------------------------------------------------------------
    # Workflow
    # ------------------------------------------------------------------
    def action_submit(self):
        self._check_state(("draft",), self.env._("submit"))
        self._check_store_rights()
        self.write({"state": "submitted", "submitted_by_id": self.env.uid})
        return True

    def action_approve(self):
        self._check_state(("submitted",), self.env._("approve"))
        self._check_can_approve()
        self.write(
            {"state": "approved", "approved_by_id": self.env.uid, "approved_date": fields.Datetime.now()}
        )
        return True

    def action_done(self):
        self._check_state(("approved",), self.env._("complete"))
        self._check_can_process()
        self._check_available_cash()
        for transfer in self:
            # Store managers have no accounting rights; the journal entries follow from a
            # document their role was allowed to approve, so they are posted as superuser.
            moves = self.env["account.move"].sudo().create(transfer._prepare_move_vals_list())
            moves.action_post()
            transfer.write(
                {"state": "done", "done_by_id": self.env.uid, "move_ids": [fields.Command.set(moves.ids)]}
            )
        return True

    def action_cancel(self):
        self._check_state(("draft", "submitted", "approved", "done"), self.env._("cancel"))
        done = self.filtered(lambda t: t.state == "done")
        if done and not self._user_is_accountant():
            raise AccessError(self.env._("Only an accountant may cancel a completed cash document."))
        self._check_can_process()
        for transfer in done:
            reversals = transfer.move_ids.sudo()._reverse_moves(
                [
                    {
                        "date": fields.Date.context_today(self),
                        "ref": self.env._("Cancellation of %(name)s", name=transfer.name),
                    }
                    for _move in transfer.move_ids
                ],
                cancel=True,
            )
            transfer.move_ids = [fields.Command.link(m.id) for m in reversals]
        self.write({"state": "cancel"})
        return True

    def action_draft(self):
        self._check_state(("cancel",), self.env._("reset to draft"))
        if self.filtered("move_ids"):
            raise UserError(
                self.env._("A document that was posted and reversed cannot be reused; create a new one.")
            )
        self._check_store_rights()
        self.write(
            {"state": "draft", "submitted_by_id": False, "approved_by_id": False, "approved_date": False}
        )
        return True

    def action_view_moves(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_move_journal_line")
        action["domain"] = [("id", "in", self.move_ids.ids)]
        action["context"] = {"create": False}
        return action

    def _check_available_cash(self):
        """Physical cash cannot go below zero: refuse to move or write off more than the
        till or safe holds at the document date."""
        physical = self.filtered(lambda t: t.source_account_id.account_type in PHYSICAL_CASH_TYPES)
        for transfer in physical:
            available = transfer.source_account_id._get_balances(transfer.date)[transfer.source_account_id.id]
            if (
                float_compare(transfer.amount, available, precision_rounding=transfer.currency_id.rounding)
                > 0
            ):
                raise UserError(
                    self.env._(
                        "%(account)s holds %(available)s on %(date)s; %(name)s needs %(amount)s.",
                        account=transfer.source_account_id.name,
                        available=transfer.currency_id.format(available),
                        date=transfer.date,
                        name=transfer.name,
                        amount=transfer.currency_id.format(transfer.amount),
                    )
                )

    # ------------------------------------------------------------------
    # Journal entries
    # ------------------------------------------------------------------
    def _prepare_move_vals_list(self):
        """Transfer: one entry in each journal through the liquidity-transfer account, so
        each journal shows its own leg.  Write-off: one entry to the reason's expense
        account."""
        self.ensure_one()
        source = self.source_account_id.sudo()
        if self.operation == "write_off":
            counterpart = self.reason_id.sudo().expense_account_id
            return [
                self._prepare_move_vals(
                    source.journal_id, counterpart, source.account_id, self.reason_id.name
                )
            ]
        transit = self.company_id.sudo()._ru_get_cash_transfer_account()
        if not transit:
            raise UserError(
                self.env._(
                    "Set a cash transfer account (or the internal transfer account) on company %(company)s.",
                    company=self.company_id.name,
                )
            )
        dest = self.dest_account_id.sudo()
        return [
            self._prepare_move_vals(source.journal_id, transit, source.account_id, dest.name),
            self._prepare_move_vals(dest.journal_id, dest.account_id, transit, source.name),
        ]

    def _prepare_move_vals(self, journal, debit_account, credit_account, label_other):
        self.ensure_one()
        company_currency = self.company_id.currency_id
        amount_company = (
            self.currency_id._convert(self.amount, company_currency, self.company_id, self.date)
            if self.currency_id != company_currency
            else self.amount
        )
        label = f"{self.name}: {label_other}" + (f" ({self.note})" if self.note else "")

        def line(account, sign):
            return fields.Command.create(
                {
                    "name": label,
                    "account_id": account.id,
                    "currency_id": self.currency_id.id,
                    "amount_currency": sign * self.amount,
                    "balance": sign * amount_company,
                }
            )

        return {
            "move_type": "entry",
            "journal_id": journal.id,
            "date": self.date,
            "ref": self.name,
            "company_id": self.company_id.id,
            "line_ids": [line(debit_account, 1), line(credit_account, -1)],
        }
