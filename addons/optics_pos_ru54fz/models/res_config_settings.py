from odoo import fields, models


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    ru54fz_ofd_host = fields.Char(related="company_id.ru54fz_ofd_host", readonly=False)
    ru54fz_ofd_port = fields.Integer(related="company_id.ru54fz_ofd_port", readonly=False)
    ru54fz_ofd_connect_timeout = fields.Float(related="company_id.ru54fz_ofd_connect_timeout", readonly=False)
    ru54fz_ofd_read_timeout = fields.Float(related="company_id.ru54fz_ofd_read_timeout", readonly=False)
    ru54fz_ofd_batch_size = fields.Integer(related="company_id.ru54fz_ofd_batch_size", readonly=False)
    ru54fz_ofd_max_attempts = fields.Integer(related="company_id.ru54fz_ofd_max_attempts", readonly=False)
    ru54fz_breaker_threshold = fields.Integer(related="company_id.ru54fz_breaker_threshold", readonly=False)
    ru54fz_breaker_cool_down = fields.Integer(related="company_id.ru54fz_breaker_cool_down", readonly=False)
    ru54fz_unconfirmed_alert_days = fields.Integer(
        related="company_id.ru54fz_unconfirmed_alert_days", readonly=False
    )
    ru54fz_till_silence_minutes = fields.Integer(
        related="company_id.ru54fz_till_silence_minutes", readonly=False
    )
    ru54fz_fn_alert_days = fields.Integer(related="company_id.ru54fz_fn_alert_days", readonly=False)
    ru54fz_fn_memory_alert_pct = fields.Integer(
        related="company_id.ru54fz_fn_memory_alert_pct", readonly=False
    )
    ru54fz_refund_requires_ofd = fields.Boolean(
        related="company_id.ru54fz_refund_requires_ofd", readonly=False, groups="base.group_system"
    )
    ru54fz_metrics_token = fields.Char(
        string="Metrics Token",
        config_parameter="optics_pos_ru54fz.metrics_token",
        help="Bearer token required by /optics_pos_ru54fz/metrics (Prometheus). "
        "Empty: the endpoint answers 404.",
    )
