"""The 54-FZ POS screens in headless Chromium, end to end.

Each tour runs in the real POS against the till controller of this very Odoo
(``/hw_proxy/ru54fz/*``, the one-machine-store mode: the till is the pos.config
with ``ru54fz_enabled``), which drives the KKT emulator — a separate process
speaking the Shtrih-M protocol over TCP. Assertions read the emulator's FN
archive (what a tax inspector would see), the till journal and the orders.

On failure Odoo saves a screenshot of the failing step under
``<--screenshots>/<db>/screenshots/`` (tests/run_tests.py passes
``--screenshots=.test-results/screenshots``).
"""

import base64
import json
import logging
import shutil
import tempfile
import time
import uuid as uuidlib
from urllib.parse import urlencode

from odoo import Command
from odoo.tests import tagged
from odoo.tools import config as odoo_config

from odoo.addons.account.tests.common import AccountTestInvoicingHttpCommon
from odoo.addons.optics_core.tests.common import create_store_user

from ..ru54fz import tokens
from ..ru54fz.emulator.harness import start_emulator
from ..ru54fz.ofd.client import TcpOfdTransport
from ..ru54fz.ofd.mock_server import MockOfdProcess

_logger = logging.getLogger(__name__)

RECEIPT_FD_TYPE = 3


def start_class_emulator(cls, prefix):
    """A KKT emulator process for the test class ``cls`` (``cls.emulator``, its state in a
    temporary ``cls.state_dir``), stopped when the class is done."""
    cls.state_dir = tempfile.mkdtemp(prefix=prefix)
    cls.addClassCleanup(shutil.rmtree, cls.state_dir, ignore_errors=True)
    cls.emulator = start_emulator(cls.state_dir)
    cls.addClassCleanup(_stop_emulator, cls.emulator)
    # cleanups run last-in first-out: the till services (and their pusher threads) of
    # this server stop before the emulator goes away
    cls.addClassCleanup(_stop_tills)


def _stop_tills():
    from ..controllers import hw_proxy

    hw_proxy.REGISTRY.stop_all()


def _stop_emulator(emulator):
    try:
        emulator.stop()
    except Exception:  # noqa: BLE001 - never leave the process behind
        emulator.kill()


class Ru54fzPosTourCommon(AccountTestInvoicingHttpCommon):
    """A store with one fiscal till, a cashier and a store manager."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        start_class_emulator(cls, "ru54fz_pos_tours_")
        cls._setup_store()

    @classmethod
    def _connect_the_chain(cls):
        """The whole chain behind the till: a mock OFD process the company delivers to, and
        this server as the till's central (``cls.central_token``)."""
        cls.ofd = MockOfdProcess()
        cls.addClassCleanup(cls.ofd.stop)
        company = cls.company_data["company"]
        company.write({"ru54fz_ofd_host": "127.0.0.1", "ru54fz_ofd_port": cls.ofd.port})
        cls.central_token = tokens.generate()
        cls.pos_config.write({"ru54fz_central_token_hash": tokens.hash_token(cls.central_token)})
        # the in-server till pushes to this server (controllers/hw_proxy.py, way (b))
        cls.env["ir.config_parameter"].sudo().set_param(
            f"optics_pos_ru54fz.local_central_token.{cls.till_code}", cls.central_token
        )

    @classmethod
    def _setup_store(cls):
        env = cls.env
        env.user.groups_id += env.ref("optics_core.group_optics_admin") + env.ref(
            "point_of_sale.group_pos_manager"
        )
        company = cls.company_data["company"]
        cls.tax22 = env["account.tax"].create(
            {
                "name": "VAT 22% incl",
                "amount": 22.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": company.id,
            }
        )
        cls.tax10 = env["account.tax"].create(
            {
                "name": "VAT 10% incl",
                "amount": 10.0,
                "amount_type": "percent",
                "type_tax_use": "sale",
                "price_include_override": "tax_included",
                "company_id": company.id,
            }
        )
        cls.frame = env["product.product"].create(
            {
                "name": "Frame Alpha",
                "available_in_pos": True,
                "list_price": 1000.0,
                "taxes_id": [Command.set(cls.tax22.ids)],
                "barcode": "4600000000015",
            }
        )
        cls.cleaner = env["product.product"].create(
            {
                "name": "Lens Cleaner",
                "available_in_pos": True,
                "list_price": 250.0,
                "taxes_id": [Command.set(cls.tax10.ids)],
            }
        )
        cash_journal = env["account.journal"].create(
            {
                "name": "Till Cash",
                "type": "cash",
                "code": "TCSH",
                "company_id": company.id,
            }
        )
        bank_journal = env["account.journal"].create(
            {
                "name": "Till Card",
                "type": "bank",
                "code": "TCRD",
                "company_id": company.id,
            }
        )
        cls.cash_pm = env["pos.payment.method"].create(
            {
                "name": "Cash",
                "journal_id": cash_journal.id,
                "company_id": company.id,
            }
        )
        cls.card_pm = env["pos.payment.method"].create(
            {
                "name": "Card",
                "journal_id": bank_journal.id,
                "company_id": company.id,
                "outstanding_account_id": cls.inbound_payment_method_line.payment_account_id.id,
            }
        )
        cls.store = env["optics.store"].create({"name": "Tverskaya", "code": "TVR", "company_id": company.id})
        cls.till_code = f"TST-{uuidlib.uuid4().hex[:8]}"
        cls.till_token = tokens.generate()
        cls.pos_config = env["pos.config"].create(
            {
                "name": "Optics Till",
                "company_id": company.id,
                "payment_method_ids": [Command.set([cls.cash_pm.id, cls.card_pm.id])],
                "optics_store_id": cls.store.id,
            }
        )
        base_url = f"http://127.0.0.1:{odoo_config['http_port']}"
        env["ir.config_parameter"].sudo().set_param("web.base.url", base_url)
        # administrators allow the till to reach its (emulated) KKT (docs/security.md)
        env["ir.config_parameter"].sudo().set_param(
            "optics_pos_ru54fz.kkt_address_allowlist", cls.emulator.url
        )
        till_vals = {
            "ru54fz_enabled": True,
            "ru54fz_till_code": cls.till_code,
            "ru54fz_proxy_url": base_url,
            "ru54fz_device_type": "emulator",
            "ru54fz_device_address": cls.emulator.url,
            "ru54fz_pairing_token_hash": tokens.hash_token(cls.till_token),
        }
        cls.pos_config.write(till_vals)

        # the tours log in and the manager types a password in a grant dialog: password = login
        cls.cashier = create_store_user(
            env,
            "ru54fz_cashier",
            ["optics_core.group_optics_cashier", "stock.group_stock_user"],
            cls.store,
            company,
            name="Irina Cashier",
            password="ru54fz_cashier",
            email="irina@optics.example",
        )
        cls.manager = create_store_user(
            env,
            "ru54fz_manager",
            ["optics_core.group_optics_store_manager", "stock.group_stock_user"],
            cls.store,
            company,
            name="Oleg Manager",
            password="ru54fz_manager",
            email="oleg@optics.example",
        )

    # -- helpers -------------------------------------------------------------------------------
    def _open_session(self, user=None):
        self.pos_config.with_user(user or self.cashier).open_ui()
        session = self.pos_config.current_session_id
        session.set_opening_control(0, "")
        return session

    def _start(self, tour, login="ru54fz_cashier"):
        self.start_tour(f"/pos/ui?config_id={self.pos_config.id}", tour, login=login, timeout=180)

    def _fn_documents(self, after_fd=0):
        """Fiscal documents in the emulator's FN archive after ``after_fd``."""
        last = self.emulator.control.state()["last_fd"]
        docs = []
        for fd in range(after_fd + 1, last + 1):
            doc = self.emulator.control.document(fd)
            if doc:
                docs.append({"fd": fd, **doc})
        return docs

    def _last_fd(self):
        return self.emulator.control.state()["last_fd"]

    def _receipts(self, after_fd):
        return [d for d in self._fn_documents(after_fd) if d.get("type") == RECEIPT_FD_TYPE]

    def _till(self, method, route, body=None, **query):
        """Call the till controller like any client would (real HTTP, real token)."""
        headers = {"X-Till-Token": self.till_token, "X-Till-Code": self.till_code}
        url = f"/hw_proxy/ru54fz/{route}"
        if query:
            url += "?" + urlencode(query)
        if method == "GET":
            res = self.url_open(url, headers=headers, timeout=60)
        else:
            res = self.url_open(
                url,
                data=json.dumps(body or {}),
                timeout=60,
                headers={**headers, "Content-Type": "application/json"},
            )
        return res.status_code, res.json()

    def _journal(self, **query):
        query.setdefault("limit", 1000)
        status, data = self._till("GET", "journal", **query)
        self.assertEqual(status, 200, data)
        return data["entries"]

    def _orders(self, session):
        return self.env["pos.order"].search([("session_id", "=", session.id)], order="id")


@tagged("post_install", "-at_install")
class TestRu54fzPosTours(Ru54fzPosTourCommon):
    def test_cash_sale_fiscalised(self):
        session = self._open_session()
        before = self._last_fd()
        self._start("ru54fz_tour_cash_sale")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1, "one sale, one fiscal receipt in the FN")
        order = self._orders(session)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.amount_total, 1250.0)
        fn = receipts[0]
        self.assertEqual(int(order.ru54fz_fiscal_sign), fn["fp"])
        self.assertEqual(order.ru54fz_fd_number, fn["fd"])
        self.assertTrue(order.ru54fz_fn_serial)
        self.assertTrue(order.ru54fz_qr.startswith("t="), order.ru54fz_qr)
        entry = next(e for e in self._journal() if e["uuid"] == order.uuid)
        doc = entry["payload"]
        self.assertEqual(entry["fiscal"]["fiscal_sign"], fn["fp"])
        # post-discount prices, two VAT rates, paid in cash with change given
        self.assertEqual(doc["total"], 125000)
        self.assertEqual(sorted((it["vat"], it["amount"]) for it in doc["items"]), [(2, 25000), (11, 100000)])
        self.assertEqual(doc["payments"]["cash"], 125000)

    def test_card_sale_with_email_receipt(self):
        session = self._open_session()
        before = self._last_fd()
        self._start("ru54fz_tour_card_email")
        self.assertEqual(len(self._receipts(before)), 1)
        order = self._orders(session)
        entry = next(e for e in self._journal() if e["uuid"] == order.uuid)
        self.assertEqual(entry["payload"]["buyer_contact"], "buyer@example.ru")
        self.assertEqual(entry["payload"]["payments"]["electronic"], 125000)
        self.assertEqual(entry["payload"]["payments"]["cash"], 0)

    def test_paper_out_then_retry_one_document(self):
        session = self._open_session()
        # open the shift first so that the fault hits the receipt itself
        self._till("POST", "open_shift", {"uuid": str(uuidlib.uuid4()), "cashier": "Irina Cashier"})
        before = self._last_fd()
        entries_before = len(self._journal(limit=1000))
        # the printer runs out of paper while closing this receipt (Shtrih error 0x6B, once);
        # the cashier loads a roll and presses Retry
        self.emulator.control.inject_error(0x6B, command="FF45", count=1)
        self.addCleanup(self.emulator.control.reset_faults)
        self._start("ru54fz_tour_paper_out_retry")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1, "paper out + retry must give exactly one fiscal receipt")
        orders = self._orders(session)
        self.assertEqual(len(orders), 1)
        journal = self._journal(limit=1000)
        self.assertEqual(len(journal) - entries_before, 1, "the retry reused the order uuid")
        entry = next(e for e in journal if e["uuid"] == orders.uuid)
        self.assertEqual(entry["fiscal"]["fiscal_sign"], receipts[0]["fp"])

    def test_x_report(self):
        self._open_session()
        self._start("ru54fz_tour_x_report")
        xs = [e for e in self._journal(limit=1000) if e["kind"] == "x_report"]
        self.assertEqual(len(xs), 1)
        self.assertEqual(xs[0]["state"] in ("fiscalised", "delivered", "archived"), True, xs[0])

    def test_cash_in(self):
        session = self._open_session()
        self._start("ru54fz_tour_cash_in")
        moves = [e for e in self._journal(limit=1000) if e["kind"] == "cash_in"]
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves[0]["payload"]["amount"], 50000)
        self.assertEqual(self.emulator.control.state()["cash_in_drawer"], 50000)
        # Odoo recorded the same movement (try_cash_in_out ran), keyed by the same uuid
        lines = self.env["account.bank.statement.line"].search([("pos_session_id", "=", session.id)])
        self.assertEqual(lines.mapped("amount"), [500.0])
        mv = session.ru54fz_cash_movement_ids.filtered(lambda m: m.kind == "cash_in")
        self.assertEqual(len(mv), 1)
        self.assertEqual(mv.operation_uuid, moves[0]["uuid"])

    def test_cash_out_confirmed_by_a_store_manager(self):
        """The cashier's cash out needs the store manager's grant: the POS asks for the
        manager's login and password, central checks them and the till gets the grant."""
        self._open_session()
        self._till("POST", "open_shift", {"uuid": str(uuidlib.uuid4()), "cashier": "Irina Cashier"})
        self._till("POST", "cash_in", {"uuid": str(uuidlib.uuid4()), "amount": 100000, "cashier": "Irina"})
        drawer = self.emulator.control.state()["cash_in_drawer"]
        self._start("ru54fz_tour_cash_out_manager")
        moves = [e for e in self._journal(limit=1000) if e["kind"] == "cash_out"]
        self.assertEqual(len(moves), 1)
        self.assertEqual(moves[0]["payload"]["amount"], 20000)
        self.assertEqual(moves[0]["payload"]["manager"]["user"], self.manager.name)
        self.assertEqual(self.emulator.control.state()["cash_in_drawer"], drawer - 20000)

    def test_offline_sale_lands_once(self):
        session = self._open_session()
        before = self._last_fd()
        self._start("ru54fz_tour_offline_sale")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1)
        orders = self._orders(session)
        self.assertEqual(len(orders), 1, "the queued order landed exactly once")
        self.assertEqual(orders.state, "paid")
        entry = next(e for e in self._journal() if e["uuid"] == orders.uuid)
        self.assertEqual(entry["fiscal"]["fiscal_sign"], receipts[0]["fp"])
        self.assertEqual(int(orders.ru54fz_fiscal_sign), receipts[0]["fp"])
        docs = self.env["optics.fiscal.document"].search([("uuid", "=", orders.uuid)])
        self.assertLessEqual(len(docs), 1)

    def test_z_sale_refused_while_the_kkt_cannot_sign(self):
        # named to run last in the class: the till re-reads the KKT clock only every 30 s
        session = self._open_session()
        before = self._last_fd()
        self.emulator.control.clock(offset=600)  # 10 minutes off: the FN must not sign
        self.addCleanup(self.emulator.control.clock, offset=0)
        self._start("ru54fz_tour_sale_refused_kkt_blocked")
        self.assertEqual(self._receipts(before), [], "nothing was fiscalised")
        self.assertFalse(self._orders(session).filtered(lambda o: o.state != "draft"))


@tagged("post_install", "-at_install")
class TestRu54fzPosToursCentral(Ru54fzPosTourCommon):
    """Tours that need the whole chain: the till pushes its journal to this server
    (in its own background thread, as in production), central carries documents to
    the mock OFD (a subprocess speaking the OFD protocol over TCP), and the OFD
    confirmations travel back to the till's FN in the push replies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls._connect_the_chain()

    def _locked(self):
        # the till's pusher thread hits this server at any time: share the test cursor safely
        return self.registry.test_lock if getattr(self.registry, "test_lock", None) else _nolock()

    def _wait(self, predicate, what, timeout=60.0, locked=True):
        """Poll ``predicate``; hold the test lock only for database reads (an HTTP call to
        this server made while holding it would wait for itself)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            if locked:
                with self._locked():
                    self.env.invalidate_all()
                    value = predicate()
            else:
                value = predicate()
            if value:
                return value
            time.sleep(0.5)
        self.fail(f"timed out waiting for {what}")

    def _confirm_by_ofd(self, sale_uuid):
        """Carry the sale through central and the mock OFD, and the ticket back to the till.

        The FN hands out its OFD messages one at a time, oldest first (the shift opening
        before the sale): each is delivered by central's OFD job code, and its ticket
        goes back to the FN with the till's next push, which releases the next message."""
        Doc = self.env["optics.fiscal.document"].sudo()
        deadline = time.time() + 120
        while time.time() < deadline:
            with self._locked():
                self.env.invalidate_all()
                sale = Doc.search([("uuid", "=", sale_uuid)])
                if sale.ofd_state == "acknowledged":
                    break
                ready = Doc.search(
                    [
                        ("till_code", "=", self.till_code),
                        ("ofd_message", "!=", False),
                        ("ofd_state", "in", ("pending", "failed")),
                    ],
                    order="fd_number",
                )
                # carry each FN message to the mock OFD over the OFD protocol (as central's
                # delivery job does) and record its confirmation where the till's next push
                # picks it up; the job runner itself is exercised by the OFD pipeline tests
                transport = TcpOfdTransport("127.0.0.1", self.ofd.port)
                try:
                    for doc in ready:
                        doc._ofd_acknowledge(transport.send(base64.b64decode(doc.ofd_message)))
                finally:
                    transport.close()
            time.sleep(0.5)
        else:
            self.fail("the sale never reached the OFD")

        def till_confirmed():
            _status, data = self._till("GET", "journal", limit=1000)
            return any(e["uuid"] == sale_uuid and e.get("ofd_confirmed") for e in data["entries"])

        self._wait(till_confirmed, "the OFD ticket to reach the till", locked=False)

    def _open_session(self, user=None):
        with self._locked():
            return super()._open_session(user)

    def test_refund_refused_then_allowed(self):
        session = self._open_session()
        before = self._last_fd()
        self._start("ru54fz_tour_refund_refused")
        self.assertEqual(len(self._receipts(before)), 1, "the refused refund printed nothing")
        with self._locked():
            sale = self._orders(session).filtered(lambda o: o.amount_total > 0)
            self.assertEqual(len(sale), 1)
        self._confirm_by_ofd(sale.uuid)
        self._start("ru54fz_tour_refund_allowed")
        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 2)
        with self._locked():
            self.env.invalidate_all()
            refund = self._orders(session).filtered(lambda o: o.amount_total < 0 and o.state != "draft")
            self.assertEqual(len(refund), 1)
        journal = self._journal()
        entry = next(e for e in journal if e["uuid"] == refund.uuid)
        self.assertEqual(entry["kind"], "refund")
        sale_entry = next(e for e in journal if e["uuid"] == sale.uuid)
        self.assertEqual(
            entry["payload"]["additional"],
            str(sale_entry["fiscal"]["fiscal_sign"]),
            "tag 1192 carries the original's fiscal sign",
        )

    def test_close_shift_z_flow(self):
        # The Z flow adopts the Z report the till pushed (the cash-trail step of
        # optics.fiscal.document._ingest_push); without it the back office would close the
        # shift a second time.
        session = self._open_session(self.manager)
        before = self._last_fd()
        self._start("ru54fz_tour_close_shift", login="ru54fz_manager")
        docs = self._fn_documents(before)
        self.assertEqual(docs[-1]["type"], 5, "the last FN document is the Z report (FD 5)")
        self.assertEqual(len([d for d in docs if d["type"] == 5]), 1, "one Z report, not two")
        self.assertEqual(len([e for e in self._journal() if e["kind"] == "close_shift"]), 1)
        self.assertFalse(self.emulator.control.state()["shift"]["open"])
        with self._locked():
            self.env.invalidate_all()
            self.assertEqual(session.state, "closed", "the Z flow closed the POS session")
            report = self.env["optics.shift.report"].sudo().search([("session_id", "=", session.id)])
            self.assertEqual(len(report), 1)


class _nolock:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
