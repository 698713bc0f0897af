"""Marked goods on the server: the product flag and group (both needed, goods only),
what the POS loads, and who may point a till's marking check at an address."""

from odoo.exceptions import AccessError, ValidationError
from odoo.tests import TransactionCase, tagged

from odoo.addons.optics_core.tests.common import create_store_user


@tagged("post_install", "-at_install")
class TestMarkingProduct(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        env = cls.env
        company = env.company
        cls.store = env["optics.store"].create({"name": "Arbat", "code": "ARB", "company_id": company.id})
        cls.pos_config = env["pos.config"].create({"name": "Arbat Till", "optics_store_id": cls.store.id})
        # a store manager who manages this store's points of sale (POS manager rights)
        cls.manager = create_store_user(
            env,
            "marking_store_manager",
            ["optics_core.group_optics_store_manager", "point_of_sale.group_pos_manager"],
            cls.store,
            company,
            name="Store Manager",
        )

    def test_marked_product_needs_its_group_and_must_be_goods(self):
        with self.assertRaises(ValidationError) as exc:
            self.env["product.template"].create({"name": "Eye drops", "ru54fz_marked": True})
        self.assertIn("marked product group", str(exc.exception))
        with self.assertRaises(ValidationError):
            self.env["product.template"].create(
                {"name": "Eye exam", "type": "service", "ru54fz_marked": True, "ru54fz_marking_group": "bio"}
            )
        drops = self.env["product.template"].create(
            {"name": "Eye drops", "ru54fz_marked": True, "ru54fz_marking_group": "chemistry"}
        )
        self.assertTrue(drops.product_variant_id.ru54fz_marked)

    def test_the_pos_loads_the_flag_group_and_line_code(self):
        fields = self.env["product.product"]._load_pos_data_fields(self.pos_config.id)
        self.assertIn("ru54fz_marked", fields)
        self.assertIn("ru54fz_marking_group", fields)
        self.assertIn(
            "ru54fz_marking_code", self.env["pos.order.line"]._load_pos_data_fields(self.pos_config.id)
        )

    def test_store_manager_cannot_point_the_marking_check_elsewhere(self):
        """Attack: a POS manager sends the till's marking check (and so every scanned
        code and the FN number) to a host of his choosing: refused, nothing changed."""
        as_manager = self.pos_config.with_user(self.manager)
        self.assertEqual(as_manager.name, "Arbat Till")  # he may read the till
        with self.assertRaises(AccessError):
            as_manager.write({"ru54fz_marking_local_url": "http://203.0.113.7:80"})
        with self.assertRaises(AccessError):
            as_manager.read(["ru54fz_marking_online_token"])
        self.assertFalse(self.pos_config.ru54fz_marking_local_url)
        self.assertNotIn("marking", self.pos_config._get_ru54fz_device_config())

    def test_marking_address_outside_the_allow_list_is_refused(self):
        self.env["ir.config_parameter"].set_param(
            "optics_pos_ru54fz.kkt_address_allowlist", "tcp://127.0.0.1:7781, http://127.0.0.1:5995"
        )
        with self.assertRaises(ValidationError), self.env.cr.savepoint():
            self.pos_config.write({"ru54fz_marking_local_url": "http://10.0.0.5:5995"})
        self.pos_config.invalidate_recordset()
        self.assertFalse(self.pos_config.ru54fz_marking_local_url)
        self.pos_config.write({"ru54fz_marking_local_url": "http://127.0.0.1:5995"})
        self.assertEqual(
            self.pos_config._get_ru54fz_device_config()["marking"],
            {"local": {"url": "http://127.0.0.1:5995"}},
        )
