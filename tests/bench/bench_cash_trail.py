#!/usr/bin/env python3
"""Benchmark: the session cash state computed from the append-only trail.

    python3 tests/bench/bench_cash_trail.py --db DB [--movements 20000] [--keep]

DB must have optics_pos_ru54fz installed and a POS whose session can be opened (a company
with a chart of accounts, e.g. the demo database of `make db`).  The script opens a session
on a copy of the first POS, appends N trail movements (cash and card sales, cash in / out)
through the ORM in batches, then times what the POS screens and the closing call:
``ru54fz_get_cash_state()`` without the trail list, the grouped sums alone, and the
idempotent re-recording of already known operations.  Everything is rolled back at the
end unless --keep.
"""

import argparse
import statistics
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def timed(fn, repeat=20):
    samples = []
    for _i in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--movements", type=int, default=20000)
    parser.add_argument("--db-host", default="127.0.0.1")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()

    import odoo
    from odoo.modules.registry import Registry

    odoo.tools.config.parse_config(
        [
            f"--db_host={args.db_host}",
            "--addons-path=" + ",".join([str(ROOT / "addons"), *odoo.addons.__path__]),
        ]
    )
    registry = Registry(args.db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        company = env.company
        if not company.chart_template:
            # a bare database: a generic chart inside this (rolled back) transaction
            env["account.chart.template"].try_loading("generic_coa", company, install_demo=False)
        cash_journal = env["account.journal"].search(
            [("type", "=", "cash"), ("company_id", "=", company.id)], limit=1
        )
        bank_journal = env["account.journal"].search(
            [("type", "=", "bank"), ("company_id", "=", company.id)], limit=1
        )
        cash_pm = env["pos.payment.method"].create({"name": "Bench cash", "journal_id": cash_journal.id})
        card_pm = env["pos.payment.method"].create({"name": "Bench card", "journal_id": bank_journal.id})
        config = env["pos.config"].create(
            {
                "name": f"bench cash {uuid.uuid4().hex[:6]}",
                "payment_method_ids": [odoo.Command.set((cash_pm | card_pm).ids)],
            }
        )
        config.open_ui()
        session = config.current_session_id
        session.set_opening_control(1000.0, "bench")
        Movement = env["optics.cash.movement"].sudo()
        kinds = [
            ("cash_sale", 1500.0, cash_pm),
            ("card_sale", 3200.5, card_pm),
            ("cash_sale", 990.0, cash_pm),
            ("cash_refund", -500.0, cash_pm),
            ("cash_in", 2000.0, cash_pm),
            ("cash_out", -1000.0, cash_pm),
        ]
        started = time.perf_counter()
        batch = []
        for i in range(args.movements):
            kind, amount, pm = kinds[i % len(kinds)]
            batch.append(
                session._ru54fz_prepare_movement(
                    kind,
                    amount,
                    str(uuid.uuid4()),
                    "till",
                    payment_method_id=pm.id,
                    payment_kind="card" if kind.startswith("card") else "cash",
                )
            )
            if len(batch) == 1000:
                Movement.create(batch)
                batch = []
        if batch:
            Movement.create(batch)
        env.flush_all()
        insert_s = time.perf_counter() - started
        sums = lambda: Movement._sums_by_session(session.ids)  # noqa: E731

        def state():
            env.invalidate_all()
            sums()
            session._ru54fz_session_figures()

        med_sums, max_sums = timed(sums)
        med_state, max_state = timed(state)
        known = [
            session._ru54fz_prepare_movement("cash_sale", 1.0, m.operation_uuid, "till")
            for m in Movement.search([("session_id", "=", session.id), ("kind", "=", "cash_sale")], limit=200)
        ]
        med_rec, max_rec = timed(lambda: Movement._record(known), repeat=5)
        balance = sums()[session.id]["cash"]
        print(f"movements in the session      : {args.movements + 1}")
        print(f"expected cash                 : {balance:.2f}")
        print(f"append (ORM, batches of 1000) : {args.movements / insert_s:.0f} movements/s")
        print(f"grouped sums (read_group)     : median {med_sums:.2f} ms, max {max_sums:.2f} ms")
        print(f"session figures, cold cache   : median {med_state:.2f} ms, max {max_state:.2f} ms")
        print(
            f"re-record 200 known operations: median {med_rec:.2f} ms, max {max_rec:.2f} ms "
            "(idempotent, nothing created)"
        )
        if args.keep:
            cr.commit()
        else:
            cr.rollback()


if __name__ == "__main__":
    main()
