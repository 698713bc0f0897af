"""The databases bin/create_demo_db builds: a production install and the demo chain on top.

These classes are not "standard" tests: they describe a database built a particular way, so
tests/run_tests.py runs them in a database of their own (``run_demo_db``):

* ``optics_production_db`` right after the four addons are installed ``--without-demo=all``
  (what a production server gets): nothing test-only or mock-only may be in it;
* ``optics_demo_db`` once the chain's demo is loaded on that database (what ``make run``
  gives a new user): a Russian optical chain, paid in roubles, cash / card / SBP on every till.
"""

import base64
import json
import re
import tempfile
from pathlib import Path
from xml.etree import ElementTree

from odoo.modules.module import get_manifest
from odoo.tests import HttpCase, TransactionCase, common, tagged
from odoo.tools import config as odoo_config
from odoo.tools import file_open
from odoo.tools.translate import PoFileReader

from ..ru54fz import tokens
from ..ru54fz.ofd.mock_server import MockOfdProcess
from . import test_pos_tours as pos_tours

CHAIN_ADDONS = ["optics_core", "optics_pos_ru54fz", "connector_b", "ru_accounting_extras"]
DEMO_LOGINS = ["cashier_msk", "cashier_spb", "manager_msk", "accountant"]
DEMO_TILLS = ["optics_pos_ru54fz.pos_config_tverskaya", "optics_pos_ru54fz.pos_config_nevsky"]
LOOPBACK = re.compile(r"127\.0\.0\.1|localhost|::1")


def _xml_records(addon, kind):
    for filename in get_manifest(addon).get(kind, []):
        if filename.endswith(".xml"):
            with file_open(f"{addon}/{filename}", "rb") as fh:
                yield from ElementTree.parse(fh).getroot().iter("record")


def demo_records(addon):
    """(xmlid, model, name) of the records only the demo files of ``addon`` create: not the
    records of other modules they update (the main company), nor data records they fill in."""
    data_ids = {node.get("id") for node in _xml_records(addon, "data")}
    records = []
    for node in _xml_records(addon, "demo"):
        if "." in node.get("id") or node.get("id") in data_ids:
            continue
        name = node.find("field[@name='name']")
        records.append(
            (f"{addon}.{node.get('id')}", node.get("model"), name.text if name is not None else None)
        )
    return records


@tagged("optics_production_db", "-standard", "post_install", "-at_install")
class TestProductionInstall(TransactionCase):
    """A production install (--without-demo=all) holds no demo, test or mock data."""

    def test_no_demo_record_of_the_chain(self):
        for addon in CHAIN_ADDONS:
            self.assertFalse(self.env.ref(f"base.module_{addon}").demo, addon)
            records = demo_records(addon)
            leaked = [
                xmlid for xmlid, _model, _name in records if self.env.ref(xmlid, raise_if_not_found=False)
            ]
            self.assertEqual(leaked, [], f"{addon}: demo records in a production install")
            # nor the same things made some other way (by a hook, under another id)
            for model in (
                "product.template",
                "product.product",
                "res.users",
                "res.partner",
                "pos.config",
                "pos.payment.method",
            ):
                names = [name for _xmlid, rec_model, name in records if rec_model == model and name]
                found = self.env[model].with_context(active_test=False).search([("name", "in", names)])
                self.assertFalse(found, f"{addon}: demo {model} {found.mapped('display_name')}")

    def test_ofd_is_not_the_mock(self):
        for company in self.env["res.company"].sudo().search([]):
            self.assertFalse(
                company.ru54fz_ofd_host,
                f"{company.name} delivers to {company.ru54fz_ofd_host} "
                "before anyone configured an OFD (the demo's mock OFD?)",
            )
        params = self.env["ir.config_parameter"].sudo().search([("key", "like", "optics_pos_ru54fz.%")])
        self.assertFalse(
            params.filtered(lambda p: "demo-" in (p.value or "")),
            "demo tokens or secrets in a production install",
        )
        self.assertFalse(
            params.filtered(lambda p: p.key.startswith("optics_pos_ru54fz.local_central_token."))
        )

    def test_no_demo_user_till_or_product(self):
        Users = self.env["res.users"].with_context(active_test=False)
        self.assertFalse(Users.search([("login", "in", DEMO_LOGINS)]))
        configs = self.env["pos.config"].with_context(active_test=False).search([])
        self.assertFalse(configs.filtered(lambda c: c.ru54fz_enabled), "a fiscal till came with the install")
        self.assertFalse(
            configs.filtered(lambda c: c.ru54fz_device_address and LOOPBACK.search(c.ru54fz_device_address))
        )
        self.assertFalse(self.env["optics.store"].with_context(active_test=False).search([]))
        self.assertFalse(self.env["optics.prescription"].search([]))


@tagged("optics_demo_db", "-standard", "post_install", "-at_install")
class TestDemoChain(TransactionCase):
    """What a new user of `make run` finds: a Russian optical chain."""

    def test_russian_everywhere(self):
        self.assertTrue(self.env["res.lang"]._lang_get("ru_RU").active)
        users = self.env["res.users"].search([("login", "in", DEMO_LOGINS + ["admin"])])
        self.assertEqual(sorted(users.mapped("login")), sorted(DEMO_LOGINS + ["admin"]))
        for user in users:
            self.assertEqual((user.login, user.lang, user.tz), (user.login, "ru_RU", "Europe/Moscow"))
        # each addon's ru.po is loaded: the Russian names of its models are in the database
        for addon in CHAIN_ADDONS:
            with file_open(f"{addon}/i18n/ru.po", "rb") as fh:
                entries = [
                    e
                    for e in PoFileReader(fh)
                    if e["type"] == "model" and e["name"] == "ir.model,name" and e["value"]
                ]
            self.assertTrue(entries, addon)
            own = [(self.env.ref(f"{e['module']}.{e['imd_name']}"), e["value"]) for e in entries]
            # models the addon defines (an inherited model keeps the name its own module gives)
            own = [
                (model, value)
                for model, value in own
                if self.env["ir.model.data"]
                .search([("model", "=", "ir.model"), ("res_id", "=", model.id)], order="id", limit=1)
                .module
                == addon
            ]
            self.assertTrue(own, addon)
            for model, value in own:
                self.assertEqual(model.with_context(lang="ru_RU").name, value, addon)

    def test_company_is_russian(self):
        company = self.env.ref("base.main_company")
        self.assertEqual(self.env["res.company"].search([]), company, "only the chain's company")
        self.assertEqual(company.currency_id.name, "RUB")
        self.assertEqual(company.country_id.code, "RU")
        self.assertEqual(company.account_fiscal_country_id.code, "RU")
        self.assertEqual(company.name, "ООО «Оптика-Сеть»")
        self.assertRegex(company.vat, r"^\d{10}$")
        self.assertRegex(company.phone, r"^\+7 ")
        self.assertTrue(company.email and company.city and company.zip and company.logo)
        self.assertEqual(company.account_sale_tax_id.ffd_vat_code, "11")

    def test_tills_take_cash_card_and_sbp_in_roubles(self):
        for xmlid in DEMO_TILLS:
            till = self.env.ref(xmlid)
            self.assertEqual(till.currency_id.name, "RUB", xmlid)
            self.assertTrue(till.cash_control, f"{xmlid}: cash control")
            methods = {m.name: m for m in till.with_context(lang="ru_RU").payment_method_ids}
            self.assertEqual(sorted(methods), ["Банковская карта", "Наличные", "СБП"], xmlid)
            cash = methods["Наличные"]
            self.assertTrue(cash.is_cash_count)
            self.assertEqual(cash.journal_id.type, "cash")
            self.assertEqual(cash.config_ids, till, "each till counts its own drawer")
            # card and SBP are electronic payments (FFD tag 1081): not counted in the drawer
            for name in ("Банковская карта", "СБП"):
                self.assertFalse(methods[name].is_cash_count, name)
                self.assertEqual(methods[name].journal_id.type, "bank", name)
            self.assertNotEqual(methods["Банковская карта"].journal_id, methods["СБП"].journal_id)
            self.assertEqual(till.iface_tax_included, "total", "Russian shelf prices include VAT")
            self.assertEqual(self.env.ref("uom.product_uom_unit").with_context(lang="ru_RU").name, "шт")
            self.assertIn("КПП", till.receipt_header)
            # the till shows only optical categories, yet the POS can take a lab-order payment
            self.assertTrue(till.limit_categories, xmlid)
            loaded = {p["default_code"] for p in till.get_limited_products_loading(["default_code"])}
            self.assertIn("OPTICS-LAB-PAYMENT", loaded, f"{xmlid}: the glasses order payment line")

    def test_only_optical_goods_and_shops(self):
        configs = self.env["pos.config"].search([])
        self.assertEqual(sorted(configs.mapped("name")), ["Невский — касса 1", "Тверская — касса 1"])
        self.assertFalse(configs.filtered(lambda c: not c.optics_store_id))
        categories = self.env["pos.category"].search([])
        self.assertEqual(
            sorted(categories.with_context(lang="ru_RU").mapped("name")),
            sorted(
                ["Оправы", "Очковые линзы", "Контактные линзы", "Солнцезащитные очки", "Аксессуары", "Услуги"]
            ),
        )
        sold = self.env["product.template"].search([("available_in_pos", "=", True)])
        self.assertGreater(len(sold), 20)
        origins = self.env["ir.model.data"].search(
            [("model", "=", "product.template"), ("res_id", "in", sold.ids)]
        )
        self.assertEqual(
            set(origins.mapped("module")) - set(CHAIN_ADDONS),
            set(),
            "a product of Odoo's generic demo is sold in the POS",
        )
        self.assertEqual(set(origins.mapped("res_id")), set(sold.ids), "every POS product is the chain's")
        self.assertFalse(self.env["res.partner"].search([("name", "ilike", "My Company")]))


SCREENSHOT_SIGNAL = "optics-screenshot:"


class NamedScreenshotBrowser(common.ChromeBrowser):
    """Chromium that saves a named screenshot when a tour step logs
    ``optics-screenshot:<name>``, and then tells the page (``window.__opticsShots``) so that
    the step waits for the picture before the tour moves on."""

    shots_dir = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        console = self._handlers["Runtime.consoleAPICalled"]

        def on_console(type, args=None, **kw):  # noqa: A002 - the CDP event's field name
            if type == "log" and args:
                text = str(self._from_remoteobject(args[0]))
                if text.startswith(SCREENSHOT_SIGNAL):
                    self._save_named_screenshot(text[len(SCREENSHOT_SIGNAL) :])
            return console(type, args=args, **kw)

        self._handlers["Runtime.consoleAPICalled"] = on_console

    def _save_named_screenshot(self, name):
        future = self._websocket_send("Page.captureScreenshot", with_future=True)

        def saved(done):
            try:
                png = base64.b64decode(done.result(timeout=0)["data"])
                filename = re.sub(r"[^\w-]", "_", name) + ".png"
                (self.shots_dir / filename).write_bytes(png)
            finally:
                self._websocket_send(
                    "Runtime.evaluate",
                    params={
                        "expression": "(window.__opticsShots = window.__opticsShots || "
                        f"[]).push({json.dumps(name)})"
                    },
                )

        future.add_done_callback(saved)


@tagged("optics_demo_db", "-standard", "post_install", "-at_install")
class TestDemoFirstHour(HttpCase):
    """The first hour of the demo's Tverskaya cashier, in Russian, in Chromium: open the
    shift with a float, a cash sale with change, a card sale, a cash + SBP split, a refund,
    a cash in, the X report, then the close with cash reconciliation and the Z report (by the store
    manager, as the chain's rules want).  Everything runs for real: the POS, this server's
    till controller, a KKT emulator process, and the mock OFD process confirming the sale
    before its refund.  Each screen is saved to .test-results/screenshots/demo/."""

    till_xmlid = "optics_pos_ru54fz.pos_config_tverskaya"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        shots = Path(odoo_config["screenshots"] or tempfile.gettempdir()) / "demo"
        shots.mkdir(parents=True, exist_ok=True)
        for old in shots.glob("*.png"):
            old.unlink()
        NamedScreenshotBrowser.shots_dir = cls.shots_dir = shots
        pos_tours.start_class_emulator(cls, "optics_demo_tour_")
        cls.ofd = MockOfdProcess()
        cls.addClassCleanup(cls.ofd.stop)
        cls._point_demo_at_test_devices()

    @classmethod
    def _point_demo_at_test_devices(cls):
        """The demo's till, KKT and OFD addresses are those of `make devices` (fixed ports);
        this test's server, emulator and mock OFD listen on free ports instead."""
        env = cls.env
        base_url = f"http://127.0.0.1:{odoo_config['http_port']}"
        env["ir.config_parameter"].sudo().set_param("web.base.url", base_url)
        allowlist = "optics_pos_ru54fz.kkt_address_allowlist"
        if env["ir.config_parameter"].sudo().get_param(allowlist):
            env["ir.config_parameter"].sudo().set_param(allowlist, cls.emulator.url)
        env.ref("base.main_company").write({"ru54fz_ofd_host": "127.0.0.1", "ru54fz_ofd_port": cls.ofd.port})
        cls.pos_config = env.ref(cls.till_xmlid)
        cls.till_code = cls.pos_config.ru54fz_till_code
        cls.till_token = tokens.generate()
        vals = {
            "ru54fz_proxy_url": base_url,
            "ru54fz_device_address": cls.emulator.url,
            "ru54fz_pairing_token_hash": tokens.hash_token(cls.till_token),
        }
        cls.pos_config.write(vals)

    # the till and OFD helpers of the 54-FZ tours, shared rather than written twice
    _till = pos_tours.Ru54fzPosTourCommon._till
    _journal = pos_tours.Ru54fzPosTourCommon._journal
    _fn_documents = pos_tours.Ru54fzPosTourCommon._fn_documents
    _last_fd = pos_tours.Ru54fzPosTourCommon._last_fd
    _locked = pos_tours.TestRu54fzPosToursCentral._locked
    _wait = pos_tours.TestRu54fzPosToursCentral._wait
    _confirm_by_ofd = pos_tours.TestRu54fzPosToursCentral._confirm_by_ofd

    def _tour(self, name, login):
        self.patch(common, "ChromeBrowser", NamedScreenshotBrowser)
        self.start_tour(f"/pos/ui?config_id={self.pos_config.id}", name, login=login, timeout=300)

    def test_first_hour_of_a_cashier(self):
        first_fd = self._last_fd()
        # the till journal lives on disk, beside the database: count only what this test adds
        x_reports_before = self._count_journal("x_report")
        cash_ins_before = self._count_journal("cash_in")
        # shift opened with a float; cash sale with change, card sale, cash + SBP split
        self._tour("optics_demo_first_hour_sales", login="cashier_msk")
        sales = self._orders()
        self.assertEqual([o["amount_total"] for o in sales], [950.0, 7400.0, 700.0])
        self.assertEqual({o["state"] for o in sales}, {"paid"})
        session_id = sales[0]["session_id"]
        self.assertEqual(
            self._session(session_id)["cash_register_balance_start"], 5000.0, "the opening float"
        )
        cash_sale, card_sale, split_sale = sales
        self.assertEqual(cash_sale["amount_paid"], 950.0)
        self.assertEqual(cash_sale["amount_return"], 50.0, "1 000 tendered, 50 given back")
        self.assertEqual(
            self._paid_on_receipt(cash_sale), {"cash": 95000, "electronic": 0}, "tag 1031, kopecks"
        )
        self.assertEqual(
            self._paid_on_receipt(card_sale), {"cash": 0, "electronic": 740000}, "card: tag 1081"
        )
        self.assertEqual(
            self._paid_on_receipt(split_sale), {"cash": 20000, "electronic": 50000}, "cash + SBP"
        )
        receipts = [d for d in self._fn_documents(first_fd) if d.get("type") == pos_tours.RECEIPT_FD_TYPE]
        self.assertEqual(len(receipts), 3, "three sales, three fiscal receipts in the FN")

        # the buyer brings the case back: refund once the OFD has confirmed the sale
        self._confirm_by_ofd(cash_sale["uuid"])
        self._tour("optics_demo_first_hour_refund_x", login="cashier_msk")
        refunds = [o for o in self._orders() if o["amount_total"] < 0]
        self.assertEqual([o["amount_total"] for o in refunds], [-600.0])
        entry = next(e for e in self._journal() if e["uuid"] == refunds[0]["uuid"])
        self.assertEqual(entry["kind"], "refund")
        self.assertEqual(self._count_journal("x_report"), x_reports_before + 1)
        cash_ins = [e for e in self._journal() if e["kind"] == "cash_in"][cash_ins_before:]
        self.assertEqual([e["payload"]["amount"] for e in cash_ins], [100000], "1 000 in, on the KKT")

        # the store manager closes: counted cash reconciled, Z report, session closed
        self._tour("optics_demo_first_hour_close", login="manager_msk")
        docs = self._fn_documents(first_fd)
        self.assertEqual(docs[-1]["type"], 5, "the last FN document is the Z report")
        self.assertFalse(self.emulator.control.state()["shift"]["open"])
        session = self._session(session_id)
        self.assertEqual(session["state"], "closed")
        self.assertEqual(session["cash_register_balance_end_real"], 6550.0)
        shots = sorted(p.stem for p in self.shots_dir.glob("*.png"))
        self.assertEqual(shots, DEMO_TOUR_SCREENS)

    # The till's pusher thread calls this server at any moment and shares the test cursor:
    # read the database only under the test lock, into plain values, and make HTTP calls to
    # the till outside it.
    def _orders(self):
        with self._locked():
            self.env.invalidate_all()
            orders = self.env["pos.order"].search([("config_id", "=", self.pos_config.id)], order="id")
            return orders.read(
                ["uuid", "amount_total", "state", "amount_paid", "amount_return", "session_id"], load=None
            )

    def _session(self, session_id):
        with self._locked():
            self.env.invalidate_all()
            return (
                self.env["pos.session"]
                .browse(session_id)
                .read(["state", "cash_register_balance_start", "cash_register_balance_end_real"])[0]
            )

    def _count_journal(self, kind):
        return len([e for e in self._journal() if e["kind"] == kind])

    def _paid_on_receipt(self, order):
        entry = next(e for e in self._journal() if e["uuid"] == order["uuid"])
        payments = entry["payload"]["payments"]
        return {"cash": payments["cash"], "electronic": payments["electronic"]}


#: the screens the tour saves (static/tests/tours/demo_first_hour_tours.js)
DEMO_TOUR_SCREENS = [
    "01_opening_float",
    "02_products",
    "03_cash_payment_change",
    "04_cash_receipt",
    "05_card_receipt",
    "06_split_payment",
    "07_refund_receipt",
    "08_cash_in",
    "09_x_report",
    "10_close_reconciliation",
]
