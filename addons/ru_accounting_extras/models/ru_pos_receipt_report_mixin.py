from odoo import fields, models, tools
from odoo.tools import SQL


class RuPosReceiptReportMixin(models.AbstractModel):
    """A POS report over receipts: an SQL view (``_query()`` of the report) with the receipt's
    dimensions (date, store, till, session, cashier, customer) and its ratio measures."""

    _name = "ru.pos.receipt.report.mixin"
    _inherit = ["ru.report.ratio.mixin"]
    _description = "POS receipt report"
    _order = "date desc"
    _rec_name = "order_id"

    date = fields.Datetime(readonly=True)
    order_id = fields.Many2one("pos.order", string="Receipt", readonly=True)
    company_id = fields.Many2one("res.company", readonly=True)
    currency_id = fields.Many2one("res.currency", readonly=True)
    store_id = fields.Many2one("optics.store", readonly=True)
    config_id = fields.Many2one("pos.config", string="Till", readonly=True)
    session_id = fields.Many2one("pos.session", readonly=True)
    user_id = fields.Many2one("res.users", string="Cashier", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Customer", readonly=True)

    def _query(self):
        """The SELECT of the report's view."""
        raise NotImplementedError

    def init(self):
        if self._abstract:  # Odoo initialises the mixin itself too: it has no view
            return
        # DROP first: CREATE OR REPLACE cannot change column types when the view evolves.
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(
            SQL("CREATE OR REPLACE VIEW %s AS (%s)", SQL.identifier(self._table), self._query())
        )
