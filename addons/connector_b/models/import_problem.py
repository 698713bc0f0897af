from odoo import fields, models


class ImportProblem(models.Model):
    _name = "connector_b.import.problem"
    _description = "Price-list Import Problem"
    _order = "history_id, row, id"

    history_id = fields.Many2one("connector_b.import.history", required=True, ondelete="cascade", index=True)
    row = fields.Integer(required=True)
    column_label = fields.Char(string="Column")
    field = fields.Char()
    code = fields.Char(string="Problem", required=True)
    severity = fields.Selection([("error", "Error"), ("warning", "Warning")], required=True)
    message = fields.Char(required=True)
    value = fields.Char()
