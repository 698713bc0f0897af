"""The diff planner: exact creates/updates, and nothing at all on a re-import."""

from decimal import Decimal

from pricelist import CatalogIndex, DiffPlanner, Profile, analyse
from pricelist_testfiles import EAN13, xlsx_bytes

COLUMNS = {
    "article": "Артикул",
    "ean": "EAN",
    "name": "Наименование",
    "price": "Цена",
    "retail_price": "РРЦ",
    "stock": "Остаток",
    "lead_time": "Срок",
}
HEADER = ["Артикул", "EAN", "Наименование", "Цена", "РРЦ", "Остаток", "Срок"]
PROFILE = Profile(columns=COLUMNS)


def catalog_after(rows, catalog):
    """What the Odoo writer would store for a plan: used to simulate the second import."""
    products = {p["id"]: p for p in catalog}
    next_id = [1000]
    stored = []

    def on_plan(plan):
        for row in plan.creates:
            next_id[0] += 1
            v = row.values
            stored.append(
                {
                    "id": next_id[0],
                    "tmpl_id": next_id[0],
                    "name": v["name"],
                    "barcode": v["ean"],
                    "default_code": v["article"],
                    "list_price": float(v.get("retail_price") or 0),
                    "supplier": _supplier(next_id[0], v),
                }
            )
        for product, row in plan.supplier_creates:
            products[product["id"]]["supplier"] = _supplier(product["id"] + 5000, row.values)
        for sid, vals, _row in plan.supplier_updates:
            for p in products.values():
                if p["supplier"] and p["supplier"]["id"] == sid:
                    p["supplier"].update(
                        {k: (float(v) if isinstance(v, Decimal) else v) for k, v in vals.items()}
                    )
        for product, vals, _row in plan.product_updates:
            products[product["id"]].update(
                {k: (float(v) if isinstance(v, Decimal) else v) for k, v in vals.items()}
            )

    analyse(xlsx_bytes([HEADER] + rows), PROFILE, catalog=catalog, on_plan=on_plan)
    return list(products.values()) + stored


def _supplier(sid, v):
    return {
        "id": sid,
        "product_code": v["article"],
        "product_name": v["name"],
        "price": float(v["price"]),
        "currency": v["currency"],
        "delay": v.get("lead_time") or 0,
        "stock_qty": float(v["stock_qty"]) if v.get("stock_qty") is not None else None,
        "availability": v.get("availability", ""),
        "vat": v.get("vat", ""),
    }


ROWS = [
    ["A1", EAN13[0], "Оправа Ray-Ban", "4 990,00", 7990, 5, 3],
    ["A2", EAN13[1], "Оправа Vogue", 3990.5, None, "Много", "3-5"],
    ["A3", None, "Футляр", 150, 300, 0, 1],
]


def test_first_import_creates_then_reimport_changes_nothing():
    first = analyse(xlsx_bytes([HEADER] + ROWS), PROFILE, catalog=[])
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    catalog = catalog_after(ROWS, [])
    second = analyse(xlsx_bytes([HEADER] + ROWS), PROFILE, catalog=catalog)
    assert (second.created, second.updated, second.unchanged) == (0, 0, 3)


def test_monthly_update_plans_exactly_the_changed_fields():
    catalog = catalog_after(ROWS, [])
    changed = [list(r) for r in ROWS]
    changed[0][3] = "5 190,00"  # price up
    changed[1][6] = 10  # lead time
    plans = []
    result = analyse(xlsx_bytes([HEADER] + changed), PROFILE, catalog=catalog, on_plan=plans.append)
    assert (result.created, result.updated, result.unchanged) == (0, 2, 1)
    updates = {row.values["article"]: vals for plan in plans for _sid, vals, row in plan.supplier_updates}
    assert updates == {"A1": {"price": Decimal("5190.00")}, "A2": {"delay": 10}}


def test_match_order_article_then_ean_then_name():
    existing = [
        {
            "id": 1,
            "tmpl_id": 1,
            "name": "Оправа Ray-Ban",
            "barcode": EAN13[0],
            "default_code": "X",
            "list_price": 7990.0,
            "supplier": None,
        },
        {
            "id": 2,
            "tmpl_id": 2,
            "name": "футляр",
            "barcode": "",
            "default_code": "",
            "list_price": 300.0,
            "supplier": None,
        },
    ]
    plans = []
    result = analyse(xlsx_bytes([HEADER] + ROWS), PROFILE, catalog=existing, on_plan=plans.append)
    [plan] = plans
    matched = {row.values["article"]: product["id"] for product, row in plan.supplier_creates}
    assert matched == {"A1": 1, "A3": 2}  # A1 by EAN, A3 by name (case-insensitive)
    assert [r.values["article"] for r in plan.creates] == ["A2"]
    assert result.created == 1 and result.updated == 2
    # name-only matching can be switched off by the profile
    no_name = Profile(columns=COLUMNS, match_keys=("article", "ean"))
    result = analyse(xlsx_bytes([HEADER] + ROWS), no_name, catalog=existing)
    assert result.created == 2


def test_ambiguous_name_match_is_an_error():
    existing = [
        {
            "id": i,
            "tmpl_id": i,
            "name": "Футляр",
            "barcode": "",
            "default_code": "",
            "list_price": 0.0,
            "supplier": None,
        }
        for i in (1, 2)
    ]
    result = analyse(xlsx_bytes([HEADER, ROWS[2]]), PROFILE, catalog=existing)
    assert [(p.row, p.code) for p in result.problems] == [(2, "ambiguous_match")]
    assert result.created == 0 and result.rows_error == 1


def test_planner_directly_on_index():
    index = CatalogIndex([])
    assert len(index) == 0
    assert not DiffPlanner(PROFILE, index).plan([])
