"""Plan the catalog changes: which products and supplier prices to create or update.

The existing catalog is passed in as plain dicts, one per product variant::

    {"id": 12, "tmpl_id": 9, "name": "...", "barcode": "4006381333931",
     "default_code": "A-1", "list_price": 990.0,
     "supplier": {"id": 31, "product_code": "A-1", "product_name": "...", "price": 512.5,
                  "currency": "RUB", "delay": 5, "stock_qty": 12.0,
                  "availability": "in_stock", "vat": "20"} or None}

``supplier`` is this supplier's price of the product (``product.supplierinfo``).  A field
is written only when its value differs, so a re-import of the same file plans nothing.
"""

from decimal import Decimal

from .problems import Problem
from .validate import gtin_key, name_key

# row value -> supplierinfo key, in the planner's vocabulary
SUPPLIER_FIELDS = (
    ("article", "product_code"),
    ("name", "product_name"),
    ("price", "price"),
    ("currency", "currency"),
    ("lead_time", "delay"),
    ("stock_qty", "stock_qty"),
    ("availability", "availability"),
    ("vat", "vat"),
)


class CatalogIndex:
    def __init__(self, products=()):
        self.by_article = {}
        self.by_ean = {}
        self.by_name = {}
        for product in products:
            self.add(product)

    def add(self, product):
        supplier = product.get("supplier")
        if supplier and supplier.get("product_code"):
            self.by_article.setdefault(supplier["product_code"], []).append(product)
        if product.get("barcode"):
            self.by_ean.setdefault(gtin_key(product["barcode"]), []).append(product)
        if product.get("name"):
            self.by_name.setdefault(name_key(product["name"]), []).append(product)

    def __len__(self):
        return len({id(p) for lst in self.by_name.values() for p in lst})


class Plan:
    """Changes for a batch of rows; ``outcome`` maps row number -> created/updated/unchanged."""

    def __init__(self):
        self.creates = []  # NormalisedRow: new product + its supplier price
        self.supplier_creates = []  # (product dict, row): existing product, new supplier price
        self.supplier_updates = []  # (supplier id, {field: value}, row)
        self.product_updates = []  # (product dict, {field: value}, row)
        self.matched = []  # (product dict, row) for every row matched to a product
        self.outcome = {}

    def count(self, what):
        return sum(1 for v in self.outcome.values() if v == what)

    def __bool__(self):
        # matched rows count too: the writer may keep data beyond the supplier price in step
        # (lens ranges) and writes only what differs
        return bool(
            self.creates
            or self.supplier_creates
            or self.supplier_updates
            or self.product_updates
            or self.matched
        )


def _same(new, old):
    """True when the file's value equals the stored one (floats compared at the file's precision)."""
    if old is False:
        old = None
    if new is None or new == "":
        return old in (None, "")
    if isinstance(new, Decimal):
        if old in (None, ""):
            return False
        old = Decimal(str(old))
        exponent = new.as_tuple().exponent
        if exponent < 0:
            old = old.quantize(Decimal(1).scaleb(exponent))
        return new == old
    return new == old


class DiffPlanner:
    def __init__(self, profile, index):
        self.profile = profile
        self.index = index

    def _match(self, row):
        """Return (product or None, problem or None) following the profile's match keys."""
        values = row.values
        for key in self.profile.match_keys:
            if key == "article":
                if not values.get("article"):
                    continue
                found = self.index.by_article.get(values["article"], [])
            elif key == "ean":
                if not values.get("ean"):
                    continue
                found = self.index.by_ean.get(gtin_key(values["ean"]), [])
            else:
                if not values.get("name"):
                    continue
                found = self.index.by_name.get(name_key(values["name"]), [])
            if len({p["id"] for p in found}) > 1:
                ids = ", ".join(str(p["id"]) for p in found[:5])
                return None, Problem.make(
                    row.row,
                    "",
                    key,
                    "ambiguous_match",
                    "ambiguous_match",
                    values[key],
                    what=key,
                    raw=values[key],
                    ids=ids,
                )
            if found:
                return found[0], None
        return None, None

    def _conflict(self, row, product):
        """Same EAN on a different product or with a different article."""
        ean = row.values.get("ean")
        article = row.values.get("article")
        if ean:
            owners = [
                p
                for p in self.index.by_ean.get(gtin_key(ean), [])
                if product is None or p["id"] != product["id"]
            ]
            if owners:
                other = owners[0]
                code = (other.get("supplier") or {}).get("product_code") or other.get("default_code") or ""
                return Problem.make(
                    row.row,
                    "",
                    "ean",
                    "ean_conflict",
                    "ean_other_product",
                    ean,
                    ean=ean,
                    name=other["name"],
                    article=code,
                )
        if product is not None and article:
            supplier = product.get("supplier")
            if supplier and supplier.get("product_code") and supplier["product_code"] != article:
                return Problem.make(
                    row.row,
                    "",
                    "ean",
                    "ean_conflict",
                    "ean_other_article",
                    ean or "",
                    ean=ean or product.get("barcode"),
                    article=supplier["product_code"],
                    file_article=article,
                )
        return None

    def plan(self, rows):
        plan = Plan()
        for row in rows:
            if row.skip or row.has_error:
                continue
            product, ambiguous = self._match(row)
            if ambiguous:
                row.problems.append(ambiguous)
                continue
            conflict = self._conflict(row, product)
            if conflict:
                row.problems.append(conflict)
                continue
            if product is None:
                plan.creates.append(row)
                plan.outcome[row.row] = "created"
                continue
            plan.matched.append((product, row))
            changed = False
            pvals = self._product_changes(row, product)
            if pvals:
                plan.product_updates.append((product, pvals, row))
                changed = True
            supplier = product.get("supplier")
            if supplier is None:
                plan.supplier_creates.append((product, row))
                changed = True
            else:
                svals = self._supplier_changes(row, supplier)
                if svals:
                    plan.supplier_updates.append((supplier["id"], svals, row))
                    changed = True
            plan.outcome[row.row] = "updated" if changed else "unchanged"
        return plan

    def _product_changes(self, row, product):
        vals = {}
        ean = row.values.get("ean")
        if ean and not product.get("barcode"):
            vals["barcode"] = ean
        retail = row.values.get("retail_price")
        if retail is not None and not _same(retail, product.get("list_price")):
            vals["list_price"] = retail
        return vals

    def _supplier_changes(self, row, supplier):
        vals = {}
        for rkey, skey in SUPPLIER_FIELDS:
            if rkey not in row.values:
                continue
            new = row.values[rkey]
            if rkey == "lead_time" and new is None:
                continue  # an empty cell keeps the lead time we know
            if not _same(new, supplier.get(skey)):
                vals[skey] = new
        return vals
