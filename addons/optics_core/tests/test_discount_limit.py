from psycopg2 import IntegrityError

from odoo import Command
from odoo.tests import TransactionCase, tagged
from odoo.tools import mute_logger

from .common import create_store_user


@tagged("post_install", "-at_install")
class TestDiscountLimit(TransactionCase):
    """Cashiers and store managers give discounts within their role's limit."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.store = cls.env["optics.store"].create({"name": "Limit store", "code": "LIM"})
        cls.config = cls.env["pos.config"].create(
            {
                "name": "Limit till",
                "optics_store_id": cls.store.id,
                "optics_cashier_discount_limit": 5,
                "optics_manager_discount_limit": 20,
            }
        )

        cls.cashier = create_store_user(cls.env, "lim_cashier", "optics_core.group_optics_cashier", cls.store)
        cls.manager = create_store_user(
            cls.env, "lim_manager", "optics_core.group_optics_store_manager", cls.store
        )
        cls.admin = create_store_user(cls.env, "lim_admin", "optics_core.group_optics_admin", cls.store)

    def test_limit_by_role(self):
        self.assertEqual(self.config._get_optics_discount_limit(self.cashier), 5)
        self.assertEqual(self.config._get_optics_discount_limit(self.manager), 20)
        self.assertEqual(self.config._get_optics_discount_limit(self.admin), 100)

    def test_limit_reaches_the_pos(self):
        """The POS receives the logged-in user's limit with its data."""
        data = {
            "pos.config": {
                "data": [
                    {
                        "id": self.config.id,
                        "group_pos_manager_id": self.env.ref("point_of_sale.group_pos_manager").id,
                    }
                ]
            }
        }
        loaded = self.env["res.users"].with_user(self.cashier)._load_pos_data(data)
        self.assertEqual(loaded["data"][0]["optics_discount_limit"], 5)
        loaded = self.env["res.users"].with_user(self.manager)._load_pos_data(data)
        self.assertEqual(loaded["data"][0]["optics_discount_limit"], 20)

    def test_limits_must_be_percentages(self):
        with self.assertRaises(IntegrityError), mute_logger("odoo.sql_db"), self.cr.savepoint():
            self.config.optics_cashier_discount_limit = 150
            self.config.flush_recordset()

    def test_orders_over_the_limit_are_flagged_and_found_by_the_manager(self):
        """An order that reached the server with a discount over its cashier's limit (an old
        client, an import) is flagged; the store manager sees the flag in the orders list and
        finds such orders with the "Discount Over Limit" filter."""
        product = self.env["product.product"].create(
            {"name": "Limit frame", "list_price": 1000, "taxes_id": False}
        )
        self.config.open_ui()
        session = self.config.current_session_id

        def order(user, discount):
            return self.env["pos.order"].create(
                {
                    "session_id": session.id,
                    "user_id": user.id,
                    "company_id": self.config.company_id.id,
                    "amount_tax": 0.0,
                    "amount_total": 1000 * (100 - discount) / 100,
                    "amount_paid": 0.0,
                    "amount_return": 0.0,
                    "lines": [
                        Command.create(
                            {
                                "product_id": product.id,
                                "qty": 1,
                                "price_unit": 1000,
                                "discount": discount,
                                "price_subtotal": 1000 * (100 - discount) / 100,
                                "price_subtotal_incl": 1000 * (100 - discount) / 100,
                            }
                        )
                    ],
                }
            )

        within = order(self.cashier, 5)
        over = order(self.cashier, 10)
        manager_gives_10 = order(self.manager, 10)
        self.assertFalse(within.optics_discount_over_limit)
        self.assertTrue(over.optics_discount_over_limit)
        self.assertFalse(manager_gives_10.optics_discount_over_limit)

        Order = self.env["pos.order"].with_user(self.manager)
        views = Order.get_views(
            [
                (self.env.ref("point_of_sale.view_pos_order_tree").id, "list"),
                (self.env.ref("point_of_sale.view_pos_order_filter").id, "search"),
            ]
        )["views"]
        self.assertIn('name="optics_discount_over_limit"', views["list"]["arch"])
        search_arch = views["search"]["arch"]
        self.assertIn('name="optics_discount_over_limit"', search_arch)
        domain = [("optics_discount_over_limit", "=", True), ("session_id", "=", session.id)]
        self.assertEqual(Order.search(domain), over)
