from odoo import Command, fields

from odoo.addons.point_of_sale.tests.common import TestPoSCommon


class RuAccountingCommon(TestPoSCommon):
    """Two stores with one till each, their staff in the optics role groups, and products
    of known cost: a VAT-exempt frame, 22 %-taxed sunglasses (price incl. VAT), a taxed
    service.  Orders go through ``pos.order.sync_from_ui`` in sessions opened here."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        cls.company.write({"point_of_sale_update_stock_quantities": "real"})
        # the accounting test user runs the chain: the optics administrator (all stores)
        env.user.sudo().groups_id = [Command.link(env.ref("optics_core.group_optics_admin").id)]
        # the accounting test user is no optics administrator: stores and staff are set up as such
        cls.store_a = env["optics.store"].sudo().create({"name": "Store A", "code": "RUA"})
        cls.store_b = env["optics.store"].sudo().create({"name": "Store B", "code": "RUB"})
        cls.config_a = cls._create_store_config("Till A1", cls.store_a, "TLA")
        cls.config_b = cls._create_store_config("Till B1", cls.store_b, "TLB")

        cls.vat22 = env["account.tax"].create(
            {
                "name": "VAT 22% incl.",
                "amount": 22,
                "amount_type": "percent",
                "price_include_override": "tax_included",
                "type_tax_use": "sale",
            }
        )
        cls.categ_frames = env["product.category"].create({"name": "Frames"})
        cls.categ_sun = env["product.category"].create({"name": "Sunglasses"})
        cls.categ_services = env["product.category"].create({"name": "Services"})
        # corrective-glasses frames are VAT-exempt (Tax Code art. 149)
        cls.frame = cls.create_product("Frame RX-1", cls.categ_frames, 3000.0, 1000.0)
        cls.sunglasses = cls.create_product(
            "Sunglasses S-1", cls.categ_sun, 6100.0, 2000.0, tax_ids=cls.vat22.ids
        )
        cls.eye_test = env["product.product"].create(
            {
                "name": "Eye test",
                "type": "service",
                "available_in_pos": True,
                "categ_id": cls.categ_services.id,
                "lst_price": 1220.0,
                "standard_price": 300.0,
                "taxes_id": [Command.set(cls.vat22.ids)],
            }
        )

        groups = {
            "cashier": env.ref("optics_core.group_optics_cashier"),
            "manager": env.ref("optics_core.group_optics_store_manager"),
            "accountant": env.ref("optics_core.group_optics_accountant"),
        }

        def user(login, group, stores):
            return (
                env["res.users"]
                .sudo()
                .with_context(no_reset_password=True)
                .create(
                    {
                        "name": login,
                        "login": login,
                        "email": f"{login}@example.com",
                        "company_id": cls.company.id,
                        "company_ids": [Command.set(cls.company.ids)],
                        "groups_id": [Command.set((groups[group] | env.ref("base.group_user")).ids)],
                        "optics_store_ids": [Command.set(stores.ids)],
                    }
                )
            )

        cls.cashier_a = user("ru_cashier_a", "cashier", cls.store_a)
        cls.manager_a = user("ru_manager_a", "manager", cls.store_a)
        cls.manager_b = user("ru_manager_b", "manager", cls.store_b)
        cls.accountant = user("ru_accountant", "accountant", env["optics.store"])

    @classmethod
    def _create_store_config(cls, name, store, code):
        env = cls.env
        cash_journal = env["account.journal"].create(
            {"name": f"Cash {name}", "code": code, "type": "cash", "company_id": cls.company.id}
        )
        cash_pm = env["pos.payment.method"].create(
            {
                "name": f"Cash {name}",
                "journal_id": cash_journal.id,
                "receivable_account_id": cls.pos_receivable_cash.id,
                "company_id": cls.company.id,
            }
        )
        return env["pos.config"].create(
            {
                "name": name,
                "optics_store_id": store.id,
                "payment_method_ids": [Command.set(cash_pm.ids)],
                "available_pricelist_ids": cls.currency_pricelist.ids,
                "pricelist_id": cls.currency_pricelist.id,
            }
        )

    # ------------------------------------------------------------------
    def open_session(self, config):
        self.config = config
        return self.open_new_session(0)

    def sell(self, lines, refunded_lines=None):
        """Sync one order from the 'UI' into the open session; ``lines`` are
        (product, qty[, discount %]).  Refund lines (negative qty) point at
        ``refunded_lines`` in the same order."""
        data = self._order_data(lines)
        if refunded_lines:
            for (_c, _i, vals), refunded in zip(data["lines"], refunded_lines, strict=True):
                if refunded:
                    vals["refunded_orderline_id"] = refunded.id
        result = self.env["pos.order"].sync_from_ui([data])
        return self.env["pos.order"].browse(result["pos.order"][0]["id"])

    def _order_data(self, lines):
        """What the POS front end sends: line totals net of discount, with and without
        VAT as the product's taxes compute them, paid in cash."""
        currency = self.pos_session.currency_id
        order_lines = []
        for product, qty, *rest in lines:
            discount = rest[0] if rest else 0.0
            price_unit = product.lst_price
            price_after_discount = price_unit * (1 - discount / 100.0)
            taxes = product.taxes_id
            if taxes:
                computed = taxes.compute_all(price_after_discount, currency, qty, product=product)
                excluded, included = computed["total_excluded"], computed["total_included"]
            else:
                excluded = included = currency.round(price_after_discount * qty)
            order_lines.append(
                Command.create(
                    {
                        "product_id": product.id,
                        "qty": qty,
                        "price_unit": price_unit,
                        "discount": discount,
                        "price_subtotal": excluded,
                        "price_subtotal_incl": included,
                        "tax_ids": [Command.set(taxes.ids)],
                        "pack_lot_ids": [],
                    }
                )
            )
        total_incl = sum(line[2]["price_subtotal_incl"] for line in order_lines)
        total_excl = sum(line[2]["price_subtotal"] for line in order_lines)
        cash_pm = self.config.payment_method_ids.filtered(lambda m: m.is_cash_count)[:1]
        uid = self.create_random_uid()
        return {
            "uuid": uid,
            "name": f"Order {uid}",
            "session_id": self.pos_session.id,
            "pricelist_id": self.config.pricelist_id.id,
            "user_id": self.env.uid,
            "date_order": fields.Datetime.to_string(fields.Datetime.now()),
            "amount_paid": total_incl,
            "amount_return": 0,
            "amount_tax": total_incl - total_excl,
            "amount_total": total_incl,
            "fiscal_position_id": False,
            "partner_id": False,
            "sequence_number": 1,
            "last_order_preparation_change": "{}",
            "to_invoice": False,
            "lines": order_lines,
            "payment_ids": [
                Command.create(
                    {"amount": total_incl, "name": fields.Datetime.now(), "payment_method_id": cash_pm.id}
                )
            ],
        }

    def close_session(self, session):
        cash = sum(
            session.order_ids.payment_ids.filtered(lambda p: p.payment_method_id.is_cash_count).mapped(
                "amount"
            )
        )
        session.post_closing_cash_details(cash)
        session.close_session_from_ui()
