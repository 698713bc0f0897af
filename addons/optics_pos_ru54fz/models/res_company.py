from odoo import fields, models


class ResCompany(models.Model):
    _inherit = "res.company"

    ru54fz_ofd_host = fields.Char(
        string="OFD Host",
        help="Host name or address of the OFD (fiscal data operator) server "
        "the fiscal drive messages are delivered to.",
    )
    ru54fz_ofd_port = fields.Integer(string="OFD Port", default=7790)
    ru54fz_ofd_connect_timeout = fields.Float(
        string="OFD Connect Timeout (s)",
        default=5.0,
        help="Seconds to wait for the TCP connection to the OFD.",
    )
    ru54fz_ofd_read_timeout = fields.Float(
        string="OFD Answer Timeout (s)",
        default=10.0,
        help="Seconds to wait for the OFD's confirmation of one document.",
    )
    ru54fz_ofd_batch_size = fields.Integer(
        string="OFD Batch Size",
        default=50,
        help="Documents one delivery job carries over one OFD connection. 1 = one job per "
        "document. See docs/ofd_pipeline.md for the measurement behind the default.",
    )
    ru54fz_ofd_max_attempts = fields.Integer(
        string="OFD Attempts",
        default=20,
        help="Delivery attempts of one document before it goes to the dead-letter queue.",
    )
    ru54fz_breaker_threshold = fields.Integer(
        string="Breaker Threshold",
        default=5,
        help="Consecutive transport failures that open the OFD circuit breaker.",
    )
    ru54fz_breaker_cool_down = fields.Integer(
        string="Breaker Cool-down (s)",
        default=30,
        help="Seconds the breaker stays open before one probe is let through.",
    )
    ru54fz_unconfirmed_alert_days = fields.Integer(
        string="Unconfirmed Alert (days)",
        default=25,
        help="Alert the administrators when a fiscal document has had no OFD confirmation "
        "for this many days. The fiscal drive blocks after 30 days.",
    )
    ru54fz_till_silence_minutes = fields.Integer(
        string="Till Silence Alert (minutes)",
        default=30,
        help="Alert when an active till has not contacted the central server for this long.",
    )
    ru54fz_fn_alert_days = fields.Integer(
        string="FN End-of-Life Alert (days)",
        default=30,
        help="Alert when a fiscal drive's key expires within this many days.",
    )
    ru54fz_fn_memory_alert_pct = fields.Integer(
        string="FN Memory Alert (%)",
        default=90,
        help="Alert when a fiscal drive's memory is filled beyond this percentage.",
    )
    # administrators only: it decides whether lawful refunds wait for the OFD (docs/refund_saga.md)
    ru54fz_refund_requires_ofd = fields.Boolean(
        string="Refunds Wait for the OFD",
        default=True,
        groups="base.group_system",
        help="On (the chain's choice): a sale can only be refunded once the OFD has confirmed its "
        "fiscal document. Off: a sale the fiscal drive has fiscalised can always be refunded, "
        "also while the OFD is unreachable (54-FZ does not make the refund wait). "
        "The tills learn this setting with their next push to the central server.",
    )

    def _ru54fz_till_settings(self):
        """Company settings a till applies itself, sent with every push reply
        (controllers/central.py) and given to the tills this server serves
        (controllers/hw_proxy.py)."""
        self.ensure_one()
        return {"refund_requires_ofd_confirmation": bool(self.sudo().ru54fz_refund_requires_ofd)}
