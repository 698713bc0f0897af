import re

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError
from odoo.tools import SQL


class ResPartner(models.Model):
    _inherit = "res.partner"

    optics_prescription_ids = fields.One2many(
        "optics.prescription",
        "partner_id",
        string="Prescriptions",
        domain=[("snapshot_lab_order_id", "=", False)],
    )
    optics_lab_order_ids = fields.One2many("optics.lab.order", "partner_id", string="Lab orders")
    optics_prescription_count = fields.Integer(compute="_compute_optics_counts")
    optics_lab_order_count = fields.Integer(compute="_compute_optics_counts")
    optics_sms_consent = fields.Boolean(
        string="Consent to SMS",
        tracking=True,
        help="The customer agreed to receive SMS (order ready, reminders).",
    )
    optics_email_consent = fields.Boolean(
        string="Consent to e-mail",
        tracking=True,
        help="The customer agreed to receive e-mails (order ready, reminders).",
    )

    @api.depends("optics_prescription_ids", "optics_lab_order_ids")
    def _compute_optics_counts(self):
        rx_counts = dict(
            self.env["optics.prescription"]._read_group(
                [("partner_id", "in", self.ids), ("snapshot_lab_order_id", "=", False)],
                ["partner_id"],
                ["__count"],
            )
        )
        lo_counts = dict(
            self.env["optics.lab.order"]._read_group(
                [("partner_id", "in", self.ids)], ["partner_id"], ["__count"]
            )
        )
        for partner in self:
            partner.optics_prescription_count = rx_counts.get(partner, 0)
            partner.optics_lab_order_count = lo_counts.get(partner, 0)

    def action_view_optics_prescriptions(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.optics_prescription_action")
        action.update(domain=[("partner_id", "=", self.id)], context={"default_partner_id": self.id})
        return action

    def action_view_optics_lab_orders(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("optics_core.optics_lab_order_action")
        action.update(domain=[("partner_id", "=", self.id)], context={"default_partner_id": self.id})
        return action

    # ------------------------------------------------------------------ POS: customer by phone
    @api.model
    def _optics_normalize_phone(self, raw):
        """'+7XXXXXXXXXX' from what a cashier types (8…, 9…, spaces, brackets, dashes)."""
        value = (raw or "").strip()
        if not value or not re.fullmatch(r"[+\d\s()-]+", value):
            raise UserError(self.env._("Enter the phone number as +7 followed by 10 digits."))
        digits = re.sub(r"\D", "", value)
        if len(digits) == 11 and digits[0] == "8":
            digits = "7" + digits[1:]
        if len(digits) == 10 and digits[0] == "9":
            digits = "7" + digits
        if len(digits) != 11 or digits[0] != "7":
            raise UserError(self.env._("A phone number must be +7 followed by 10 digits."))
        return "+" + digits

    @api.model
    def _optics_search_by_phone(self, phone, limit=20):
        """Partners whose phone or mobile has the same digits (any formatting), through the
        caller's access rules."""
        digits = self._optics_normalize_phone(phone)[2:]
        self.env["res.partner"].flush_model(["phone", "mobile"])
        self.env.cr.execute(
            SQL(
                "SELECT id FROM res_partner WHERE active AND (right(regexp_replace(coalesce(phone, ''), "
                "'\\D', '', 'g'), 10) = %s"
                " OR right(regexp_replace(coalesce(mobile, ''), '\\D', '', 'g'), 10) = %s) ORDER BY id LIMIT "
                "%s",
                digits,
                digits,
                limit,
            )
        )
        ids = [row[0] for row in self.env.cr.fetchall()]
        return self.search([("id", "in", ids)])

    @api.model
    def optics_pos_find_customers(self, phone):
        """POS: the customers with this phone, each with prescriptions and open lab orders."""
        return [partner._optics_pos_customer_info() for partner in self._optics_search_by_phone(phone)]

    @api.model
    def optics_pos_create_customer(self, vals):
        """POS: a new customer (name, phone +7…, e-mail, SMS / e-mail consent); refused when
        the phone already belongs to a customer."""
        name = (vals.get("name") or "").strip()
        if not name:
            raise UserError(self.env._("Enter the customer's name."))
        phone = self._optics_normalize_phone(vals.get("phone"))
        email = (vals.get("email") or "").strip()
        if email and not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", email):
            raise UserError(self.env._("%(email)s is not a valid e-mail address.", email=email))
        existing = self._optics_search_by_phone(phone, limit=1)
        if existing:
            raise UserError(
                self.env._(
                    "The phone %(phone)s already belongs to %(name)s.", phone=phone, name=existing.name
                )
            )
        if not self.env.user.has_group("optics_core.group_optics_cashier"):
            raise AccessError(self.env._("Only store staff may register customers."))
        # store staff register customers at the counter without the general "Contact Creation"
        # right; only these whitelisted values are written
        partner = self.sudo().create(
            {
                "name": name,
                "phone": phone,
                "email": email or False,
                "optics_sms_consent": bool(vals.get("sms_consent")),
                "optics_email_consent": bool(vals.get("email_consent")),
            }
        )
        return self.browse(partner.id)._optics_pos_customer_info()

    def _optics_pos_customer_info(self):
        self.ensure_one()
        prescriptions = self.env["optics.prescription"].search(
            [("partner_id", "=", self.id), ("snapshot_lab_order_id", "=", False), ("kind", "=", "spectacles")]
        )
        orders = self.env["optics.lab.order"].search(
            [
                ("partner_id", "=", self.id),
                "|",
                ("state", "not in", ("issued", "cancelled")),
                "&",
                ("state", "=", "cancelled"),
                ("amount_prepaid", ">", 0),
            ]
        )
        return {
            "id": self.id,
            "name": self.name,
            "phone": self.phone or self.mobile or "",
            "email": self.email or "",
            "sms_consent": self.optics_sms_consent,
            "email_consent": self.optics_email_consent,
            "prescriptions": [rx._optics_pos_info() for rx in prescriptions],
            "lab_orders": [order._optics_pos_info() for order in orders],
        }
