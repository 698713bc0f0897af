"""Marked goods (Честный ЗНАК) sold in the POS, in Chromium, in Russian: the cashier
scans the unit's DataMatrix (a keyboard-wedge 2D scanner: GS as Ctrl+]), the POS refuses
a scan without GS separators and a second scan of one unit in a receipt, the till runs
the permissive-mode check against a mock of the store's local module (ЛМ ЧЗ) on
loopback, and the KKT emulator's FN archive holds the code (tag 2000) and the check
result (2106, 2110); the next receipt with the same, now sold, unit is refused with a
Russian message and nothing is fiscalised.  Screenshots under
.test-results/screenshots/marking/."""

import shutil
import tempfile
from pathlib import Path

from odoo import Command
from odoo.tests import common, tagged
from odoo.tools import config as odoo_config

from ..ru54fz.marking import parse
from ..ru54fz.marking_mock import MockChecker
from .test_demo_db import NamedScreenshotBrowser
from .test_pos_tours import Ru54fzPosTourCommon

#: the unit of marking_tours.js (SOLD_UNIT), as the scanner types it
SOLD_UNIT = "0104607001122333215Xq!rT8aB2cD3\x1d93dGVz"


@tagged("post_install", "-at_install")
class TestMarkingPosTour(Ru54fzPosTourCommon):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        shots = Path(odoo_config["screenshots"] or tempfile.gettempdir()) / "marking"
        shutil.rmtree(shots, ignore_errors=True)
        shots.mkdir(parents=True, exist_ok=True)
        cls.shots_dir = shots
        cls.checker = MockChecker().start()
        cls.addClassCleanup(cls.checker.stop)
        env = cls.env
        env["ir.config_parameter"].sudo().set_param(
            "optics_pos_ru54fz.kkt_address_allowlist", f"{cls.emulator.url},{cls.checker.url}"
        )
        cls.pos_config.write({"ru54fz_marking_local_url": cls.checker.url})
        cls.vitamins = env["product.product"].create(
            {
                "name": "Eye Vitamins",
                "available_in_pos": True,
                "list_price": 890.0,
                "taxes_id": [Command.set(cls.tax10.ids)],
                "barcode": "4607001122333",
                "ru54fz_marked": True,
                "ru54fz_marking_group": "bio",
            }
        )
        env["res.lang"]._activate_lang("ru_RU")
        cls.cashier.lang = "ru_RU"

    def _start_with_shots(self, tour):
        NamedScreenshotBrowser.shots_dir = self.shots_dir
        self.patch(common, "ChromeBrowser", NamedScreenshotBrowser)
        self._start(tour)

    def test_sell_a_marked_item_then_refuse_its_sold_code(self):
        session = self._open_session()
        unit = parse(SOLD_UNIT)
        self.checker.set(unit.cis, "valid")
        before = self._last_fd()
        self._start_with_shots("ru54fz_tour_marking_sale")

        receipts = self._receipts(before)
        self.assertEqual(len(receipts), 1, "one marked sale, one fiscal receipt")
        items = receipts[0]["items"]
        self.assertEqual(len(items), 1, "the second scan of the unit added no line")
        tags = {int(tag): bytes.fromhex(value) for tag, value in items[0].get("tlvs", [])}
        self.assertEqual(tags[2000], SOLD_UNIT.encode(), "the code as scanned, GS kept, in tag 2000")
        self.assertEqual(tags[2110], b"\x01", "planned status: piece sold")
        self.assertEqual(tags[2106][0] & 0b1110, 0b1110, "the FN's check result: code checked and valid")
        self.assertIn(1260, tags, "the permissive-mode requisite (ПП № 1944) of the check")
        # asked at the local module, once per attempt (the POS opens the shift and retries
        # when the first receipt of the day finds it closed)
        self.assertTrue(self.checker.calls)
        self.assertEqual(
            {(api, tuple(codes)) for api, codes in self.checker.calls}, {("local", (SOLD_UNIT,))}
        )
        order = self._orders(session)
        self.assertEqual(len(order), 1)
        self.assertEqual(order.state, "paid")
        self.assertEqual(order.lines.ru54fz_marking_code, SOLD_UNIT, "the code is kept with the sale")
        entry = next(e for e in self._journal() if e["uuid"] == order.uuid)
        self.assertEqual(entry["payload"]["items"][0]["subject"], 33)
        self.assertEqual(entry["fiscal"]["extra"]["marking"]["0"]["status"], "valid")

        # Честный ЗНАК now knows the unit as sold; the next receipt with it is refused
        self.checker.set(unit.cis, "sold")
        before = self._last_fd()
        self._start_with_shots("ru54fz_tour_marking_sold_code")
        self.assertEqual(self._receipts(before), [], "nothing fiscalised for a sold code")
        refused = [e for e in self._journal() if e["uuid"] != order.uuid and e["kind"] == "sale"]
        self.assertEqual(len(refused), 1)
        self.assertEqual(refused[0]["state"], "failed")
        self.assertIn("marking_refused", str(refused[0]["error"]))
        self.assertEqual(len(self._orders(session).filtered(lambda o: o.state == "paid")), 1)
        self.assertTrue((self.shots_dir / "04_sold_code_refused.png").exists())
