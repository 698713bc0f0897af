"""Smoke variant of the chain load run (tests/load/chain_day.py, issue 18): four tills
through a short compressed day against the real server processes — central in prefork
with the queue_job runner on this test database, the mock OFD, KKT emulators — with the
OFD down for a while, one store offline and catching up, a price-list import and the GP
report in the middle.  It asserts what the full run asserts: every fiscal document of the
four FN archives is known to its journal, on central exactly once and acknowledged by the
OFD.  What the day creates is removed again at the end.
"""

import importlib.util
import logging
from pathlib import Path

from odoo.tests import TransactionCase, tagged
from odoo.tools import config

_logger = logging.getLogger(__name__)
CHAIN_DAY = Path(__file__).resolve().parents[3] / "tests" / "load" / "chain_day.py"


def _chain_day_module():
    spec = importlib.util.spec_from_file_location("optics_load_chain_day", CHAIN_DAY)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@tagged("post_install", "-at_install")
class TestChainDaySmoke(TransactionCase):
    def test_four_tills_through_a_short_day(self):
        chain_day = _chain_day_module()
        # 36 business minutes at 40x: under a minute of selling, about 70 receipts (a till's
        # FN hands out one OFD message at a time: much faster selling only builds a backlog)
        plan = chain_day.DayPlan(
            tills=4,
            hours=0.6,
            compress=40.0,
            receipts_per_hour=30.0,
            offline_at=0.2,
            offline_hours=0.15,
            ofd_down_at=0.55,
            ofd_down_minutes=5.0,
            import_at=0.4,
            import_rows=300,
            gp_at=(0.3, 0.7),
            drain_timeout=180.0,
        )
        # the production topology: the tills push to a node of their own (docs/deployment.md)
        central = chain_day.Central(
            self.env.cr.dbname, workers=2, data_dir=config["data_dir"], push_workers=1
        )
        try:
            result = chain_day.run_day(plan, central, cleanup=True, log=_logger.info)
        finally:
            central.stop()
        report = "\n".join(result["lines"])
        rec = result["reconcile"]
        self.assertGreater(result["receipts"], 30, report)
        self.assertEqual(rec["lost_central"], [], report)
        self.assertEqual(rec["lost_ofd"], [], report)
        self.assertEqual(rec["not_acknowledged"], [], report)
        self.assertEqual(rec["unknown_to_journal"], [], report)
        self.assertEqual((rec["dup_central"], rec["dup_uuid"]), (0, 0), report)
        # every receipt, every shift opening: one FD each, all accounted for
        self.assertEqual(rec["fn"], result["receipts"] + plan.tills, report)
        self.assertTrue(result["ok"], report)
        pushes = result["pushes_by_node"]
        self.assertGreater(pushes["push"], 0, report)
        self.assertEqual(pushes["central"], 0, f"every push went to the push node: {pushes}")
