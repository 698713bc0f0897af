"""Write a price-list plan into the catalog in bulk.

Reads the catalog once (one SQL query), then writes each planned batch with a handful of
statements whatever its size:

* new products: ``product_template`` / ``product_product`` rows inserted with SQL.  The
  column values every new product shares (category, UoM, type, POS flags, accounts,
  default taxes...) are taken from a *prototype*: one product created through the ORM in
  a savepoint that is rolled back, so every module's defaults and create-time computed
  columns are the ORM's own.  Many2many defaults (taxes) are copied the same way.
  Company-dependent columns (``standard_price``) are jsonb ``{company_id: value}`` and
  ``name`` is jsonb ``{lang: text}``.  Ids come from the tables' sequences up front.
* supplier prices: ``INSERT`` / ``UPDATE ... FROM (VALUES ...)`` of only the changed columns.
* caches: ``env.invalidate_all()`` after the SQL, so the ORM re-reads what we wrote.

Not done by the bulk path (on purpose): chatter followers/messages on the new templates.
The cost (``standard_price``) of existing products is never written: it may need a
stock revaluation, which is the ORM's job; new products get the supplier's net price.
"""

import json
from collections import defaultdict

from odoo import fields, models
from odoo.tools import SQL

BATCH = 1000

# planner key -> (column, SQL cast)
SUPPLIER_COLUMNS = {
    "product_code": ("product_code", "varchar"),
    "product_name": ("product_name", "varchar"),
    "price": ("price", "numeric"),
    "currency": ("currency_id", "int4"),
    "delay": ("delay", "int4"),
    "stock_qty": ("connector_b_stock_qty", "float8"),
    "availability": ("connector_b_availability", "varchar"),
    "vat": ("connector_b_vat", "varchar"),
}


class CatalogWriter(models.AbstractModel):
    _name = "connector_b.catalog.writer"
    _description = "Price-list catalog writer"

    # -- reading ----------------------------------------------------------------------
    def _load_catalog(self, partner, company):
        """Every active product of the company, with this supplier's price if it has one.

        Two flat queries merged here: a LATERAL join per product was 100x slower.
        """
        lang = self.env.lang or "en_US"
        self.env.flush_all()
        cr = self.env.cr
        cr.execute(
            SQL(
                """SELECT DISTINCT ON (s.product_tmpl_id, COALESCE(s.product_id, 0))
                      s.product_tmpl_id, s.product_id, s.id, s.product_code, s.product_name, s.price,
                      cur.name, s.delay, s.connector_b_stock_qty, s.connector_b_availability,
                      s.connector_b_vat
                 FROM product_supplierinfo s
                 JOIN res_currency cur ON cur.id = s.currency_id
                WHERE s.partner_id = %(partner)s AND (s.company_id IS NULL OR s.company_id = %(company)s)
             ORDER BY s.product_tmpl_id, COALESCE(s.product_id, 0), s.min_qty, s.id""",
                partner=partner.id,
                company=company.id,
            )
        )
        by_tmpl, by_variant = {}, {}
        for (
            tmpl_id,
            variant_id,
            sid,
            scode,
            sname,
            sprice,
            scur,
            sdelay,
            sstock,
            savail,
            svat,
        ) in cr.fetchall():
            supplier = {
                "id": sid,
                "product_code": scode or "",
                "product_name": sname or "",
                "price": float(sprice or 0),
                "currency": scur,
                "delay": sdelay,
                "stock_qty": sstock,
                "availability": savail or "",
                "vat": svat or "",
            }
            (by_variant if variant_id else by_tmpl)[variant_id or tmpl_id] = supplier
        cr.execute(
            SQL(
                """SELECT pp.id, pp.product_tmpl_id, COALESCE(pt.name->>%(lang)s, pt.name->>'en_US'),
                      pp.barcode, pp.default_code, pt.list_price
                 FROM product_product pp
                 JOIN product_template pt ON pt.id = pp.product_tmpl_id
                WHERE pp.active AND pt.active AND (pt.company_id IS NULL OR pt.company_id = %(company)s)""",
                lang=lang,
                company=company.id,
            )
        )
        return [
            {
                "id": pid,
                "tmpl_id": tmpl_id,
                "name": name or "",
                "barcode": barcode or "",
                "default_code": code or "",
                "list_price": float(list_price or 0),
                "supplier": by_variant.get(pid) or by_tmpl.get(tmpl_id),
            }
            for pid, tmpl_id, name, barcode, code, list_price in cr.fetchall()
        ]

    # -- writing ----------------------------------------------------------------------
    def _apply_plan(self, plan, ctx):
        """Write one batch. ``ctx``: partner, company, profile (record), history (record),
        currencies {code: id}, stats (dict of counters)."""
        if plan.creates:
            self._create_products(plan.creates, ctx)
        if plan.supplier_creates:
            self._insert_supplierinfo([(p["tmpl_id"], row) for p, row in plan.supplier_creates], ctx)
        if plan.supplier_updates:
            self._update_supplierinfo(plan.supplier_updates, ctx)
        if plan.product_updates:
            self._update_products(plan.product_updates, ctx)
        self.env.invalidate_all()
        self._write_lens_designs(plan, ctx)

    def _now_uid(self):
        return fields.Datetime.now(), self.env.uid

    def _prototype(self, ctx):
        """Column values (and many2many ids) an ORM-created product gets by default."""
        if ctx.get("prototype"):
            return ctx["prototype"]
        Template = self.env["product.template"].with_company(ctx["company"])
        with self.env.cr.savepoint(flush=True) as sp:
            tmpl = Template.create(self._prepare_prototype_vals(ctx))
            tmpl.flush_recordset()
            cr = self.env.cr
            cr.execute(SQL("SELECT * FROM product_template WHERE id = %s", tmpl.id))
            tmpl_row = dict(zip([d.name for d in cr.description], cr.fetchone(), strict=True))
            cr.execute(SQL("SELECT * FROM product_product WHERE product_tmpl_id = %s", tmpl.id))
            prod_row = dict(zip([d.name for d in cr.description], cr.fetchone(), strict=True))
            m2m = {}
            for model, rec_id in (("product.template", tmpl.id), ("product.product", prod_row["id"])):
                for field in self.env[model]._fields.values():
                    if field.type == "many2many" and field.store and field.relation:
                        cr.execute(
                            SQL(
                                "SELECT %s FROM %s WHERE %s = %s",
                                SQL.identifier(field.column2),
                                SQL.identifier(field.relation),
                                SQL.identifier(field.column1),
                                rec_id,
                            )
                        )
                        ids = [r[0] for r in cr.fetchall()]
                        if ids:
                            m2m[(model, field.relation, field.column1, field.column2)] = ids
            sp.rollback()
        self.env.invalidate_all()
        for row in (tmpl_row, prod_row):
            for key in ("id", "create_date", "write_date", "create_uid", "write_uid"):
                row.pop(key, None)
            for key, value in row.items():
                if isinstance(value, (dict, list)):  # jsonb read back as Python: send it as JSON text
                    row[key] = json.dumps(value)
        prod_row.pop("product_tmpl_id", None)
        ctx["prototype"] = (tmpl_row, prod_row, m2m)
        return ctx["prototype"]

    def _prepare_prototype_vals(self, ctx):
        """Values of the prototype product: everything new products share (profile settings)."""
        profile = ctx["profile"]
        Template = self.env["product.template"]
        vals = {
            "name": "connector_b prototype",
            "default_code": "CONNECTOR-B-PROTOTYPE",
            "list_price": 1.0,
            "standard_price": 1.0,
            "purchase_ok": True,
            "sale_ok": True,
            "type": "consu",
        }
        if profile.new_product_categ_id:
            vals["categ_id"] = profile.new_product_categ_id.id
        if "is_storable" in Template._fields:
            vals["is_storable"] = profile.new_product_storable
        if "available_in_pos" in Template._fields:
            vals["available_in_pos"] = profile.new_product_available_in_pos
        if "optics_type" in Template._fields and profile.new_product_optics_type:
            vals["optics_type"] = profile.new_product_optics_type
        return vals

    def _prepare_template_columns(self, row, ctx):
        """Per-row template columns on top of the prototype's (hook for optics fields)."""
        v = row.values
        lang = self.env.lang or "en_US"
        name = {"en_US": v["name"]}
        if lang != "en_US":
            name[lang] = v["name"]
        cols = {
            "name": json.dumps(name),
            "default_code": v.get("article") or None,
            "list_price": v.get("retail_price") if v.get("retail_price") is not None else 0,
        }
        tmpl_cols = ctx["prototype"][0]
        if "optics_type" in tmpl_cols:
            is_lens = any(v.get(k) is not None for k in ("lens_index", "sph_min", "sph_max"))
            cols["optics_type"] = "spectacle_lens" if is_lens else tmpl_cols.get("optics_type")
        if "frame_brand" in tmpl_cols and v.get("brand"):
            cols["frame_brand"] = v["brand"]
        return cols

    def _prepare_product_columns(self, row, ctx):
        v = row.values
        cols = {"default_code": v.get("article") or None, "barcode": v.get("ean") or None}
        rate = self._cost_rate(v.get("currency"), ctx)
        if v.get("price") is not None and rate:
            cost = ctx["company"].currency_id.round(float(v["price"]) * rate)
            cols["standard_price"] = json.dumps({str(ctx["company"].id): cost})
        return cols

    def _cost_rate(self, code, ctx):
        """Rate from the list's currency to the company's, today (one lookup per currency)."""
        rates = ctx.setdefault("cost_rates", {})
        if code not in rates:
            company = ctx["company"]
            currency = self.env["res.currency"].browse(ctx["currencies"].get(code))
            rates[code] = (
                currency
                and currency._get_conversion_rate(
                    currency, company.currency_id, company, fields.Date.context_today(self)
                )
                or 0.0
            )
        return rates[code]

    def _next_ids(self, table, count):
        self.env.cr.execute(SQL("SELECT nextval(%s) FROM generate_series(1, %s)", f"{table}_id_seq", count))
        return [r[0] for r in self.env.cr.fetchall()]

    def _insert_rows(self, table, rows):
        """INSERT a list of dicts (same keys) in chunks; values are passed as parameters.

        One SQL object per chunk (``(%s, ...), (%s, ...)`` and a flat parameter list):
        composing an SQL object per cell cost more than the INSERT itself.
        """
        if not rows:
            return
        columns = list(rows[0])
        head = SQL(
            "INSERT INTO %s (%s) VALUES ",
            SQL.identifier(table),
            SQL(", ").join(SQL.identifier(c) for c in columns),
        )
        row_code = "(" + ", ".join(["%s"] * len(columns)) + ")"
        for start in range(0, len(rows), BATCH):
            chunk = rows[start : start + BATCH]
            # the identifiers come from SQL above; the values are only placeholders and parameters
            self.env.cr.execute(
                head.code + ", ".join([row_code] * len(chunk)),
                head.params + [r[c] for r in chunk for c in columns],
            )

    def _create_products(self, rows, ctx):
        tmpl_proto, prod_proto, m2m = self._prototype(ctx)
        now, uid = self._now_uid()
        audit = {"create_uid": uid, "write_uid": uid, "create_date": now, "write_date": now}
        tmpl_ids = self._next_ids("product_template", len(rows))
        prod_ids = self._next_ids("product_product", len(rows))
        tmpl_rows, prod_rows = [], []
        for row, tmpl_id, prod_id in zip(rows, tmpl_ids, prod_ids, strict=True):
            t = dict(tmpl_proto, **self._prepare_template_columns(row, ctx), **audit, id=tmpl_id)
            p = dict(
                prod_proto,
                **self._prepare_product_columns(row, ctx),
                **audit,
                id=prod_id,
                product_tmpl_id=tmpl_id,
            )
            tmpl_rows.append(t)
            prod_rows.append(p)
        self._insert_rows("product_template", tmpl_rows)
        self._insert_rows("product_product", prod_rows)
        for (model, relation, col1, col2), ids in m2m.items():
            owners = tmpl_ids if model == "product.template" else prod_ids
            links = [{col1: owner, col2: rel_id} for owner in owners for rel_id in ids]
            self._insert_rows(relation, links)
        self._insert_supplierinfo(list(zip(tmpl_ids, rows, strict=True)), ctx)
        ctx["new_templates"] = dict(zip([r.row for r in rows], tmpl_ids, strict=True))
        ctx["stats"]["products_created"] = ctx["stats"].get("products_created", 0) + len(rows)

    def _prepare_supplierinfo_columns(self, tmpl_id, row, ctx):
        v = row.values
        return {
            "partner_id": ctx["partner"].id,
            "product_tmpl_id": tmpl_id,
            "company_id": ctx["company"].id,
            "sequence": 1,
            "min_qty": 0.0,
            "discount": 0.0,
            "product_code": v.get("article") or None,
            "product_name": v.get("name") or None,
            "price": float(v["price"]),
            "currency_id": ctx["currencies"][v["currency"]],
            "delay": v["lead_time"] if v.get("lead_time") is not None else ctx["profile"].default_lead_time,
            "connector_b_stock_qty": float(v["stock_qty"]) if v.get("stock_qty") is not None else None,
            "connector_b_availability": v.get("availability") or None,
            "connector_b_vat": v.get("vat") or None,
            "connector_b_history_id": ctx["history"].id if ctx.get("history") else None,
        }

    def _insert_supplierinfo(self, pairs, ctx):
        now, uid = self._now_uid()
        rows = [
            dict(
                self._prepare_supplierinfo_columns(tmpl_id, row, ctx),
                create_uid=uid,
                write_uid=uid,
                create_date=now,
                write_date=now,
            )
            for tmpl_id, row in pairs
        ]
        self._insert_rows("product_supplierinfo", rows)
        ctx["stats"]["supplierinfo_created"] = ctx["stats"].get("supplierinfo_created", 0) + len(rows)

    def _update_supplierinfo(self, updates, ctx):
        """One UPDATE per set of changed columns (a monthly update has one or two sets)."""
        now, uid = self._now_uid()
        groups = defaultdict(list)
        for sid, vals, _row in updates:
            groups[tuple(sorted(vals))].append((sid, vals))
        history_id = ctx["history"].id if ctx.get("history") else None
        for keys, items in groups.items():
            cols = [SUPPLIER_COLUMNS[k] for k in keys]
            row_code = "(%s::int4, " + ", ".join(f"%s::{cast}" for _col, cast in cols) + ")"
            names = SQL(", ").join(SQL.identifier(f"v_{c}") for c, _cast in cols)
            sets = SQL(", ").join(
                SQL("%s = v.%s", SQL.identifier(c), SQL.identifier(f"v_{c}")) for c, _cast in cols
            )
            for start in range(0, len(items), BATCH):
                chunk = items[start : start + BATCH]
                params = []
                for sid, vals in chunk:
                    params.append(sid)
                    params.extend(self._db_value(k, vals[k], ctx) for k in keys)
                query = SQL(
                    """UPDATE product_supplierinfo s
                          SET %s, write_date = %s, write_uid = %s, connector_b_history_id = %s
                         FROM (VALUES __VALUES__) AS v(v_id, %s)
                        WHERE s.id = v.v_id""",
                    sets,
                    now,
                    uid,
                    history_id,
                    names,
                )
                # the VALUES list is placeholders only; building it as SQL objects cost more than the UPDATE
                before, after = query.code.split("__VALUES__")
                n_before = before.count("%s")
                self.env.cr.execute(
                    before + ", ".join([row_code] * len(chunk)) + after,
                    query.params[:n_before] + params + query.params[n_before:],
                )
        ctx["stats"]["supplierinfo_updated"] = ctx["stats"].get("supplierinfo_updated", 0) + len(updates)

    def _db_value(self, key, value, ctx):
        if key == "currency":
            return ctx["currencies"][value]
        if value == "" and key in ("availability", "vat"):
            return None
        if hasattr(value, "as_tuple"):
            return float(value)
        return value

    def _update_products(self, updates, ctx):
        """Barcode (filled when empty) and retail price; plain columns, no stored dependents."""
        now, uid = self._now_uid()
        barcodes = [(p["id"], vals["barcode"]) for p, vals, _r in updates if "barcode" in vals]
        prices = [
            (p["tmpl_id"], float(vals["list_price"])) for p, vals, _r in updates if "list_price" in vals
        ]
        self._set_column_by_id("product_product", "barcode", barcodes, "(%s, %s)", now, uid)
        self._set_column_by_id("product_template", "list_price", prices, "(%s, %s::numeric)", now, uid)
        ctx["stats"]["products_updated"] = ctx["stats"].get("products_updated", 0) + len(updates)

    def _set_column_by_id(self, table, column, rows, row_sql, now, uid):
        """``table.column`` set from (id, value) ``rows``, BATCH rows a statement, with the write
        stamp; ``row_sql`` is the SQL of one row, "(%s, %s)" with a cast where the value needs one."""
        for start in range(0, len(rows), BATCH):
            values = SQL(", ").join(SQL(row_sql, rid, value) for rid, value in rows[start : start + BATCH])
            self.env.cr.execute(
                SQL(
                    """UPDATE %s t SET %s = v.value, write_date = %s, write_uid = %s
                     FROM (VALUES %s) AS v(id, value) WHERE t.id = v.id""",
                    SQL.identifier(table),
                    SQL.identifier(column),
                    now,
                    uid,
                    values,
                )
            )

    # -- lens designs (optics_core) ------------------------------------------------------
    def _write_lens_designs(self, plan, ctx):
        """Power ranges on optics_core's lens design of the product, through the ORM.

        Lens rows are few (one per design × index × coating); the ORM keeps optics_core's
        constraints (index, diameter, from <= to) in force.  Unchanged ranges are not
        rewritten, so a re-import does not touch them.
        """
        if "optics.lens.design" not in self.env:
            return
        pairs = [(ctx.get("new_templates", {}).get(row.row), row) for row in plan.creates]
        pairs += [(p["tmpl_id"], row) for p, row in plan.matched]
        pairs = [(t, r) for t, r in pairs if t and self._is_lens_row(r)]
        if not pairs:
            return
        Design = self.env["optics.lens.design"].sudo()
        designs = {
            d.product_tmpl_id.id: d
            for d in Design.search([("product_tmpl_id", "in", [t for t, _r in pairs])])
        }
        for tmpl_id, row in pairs:
            vals = self._prepare_lens_design_vals(row, ctx)
            ranges = self._prepare_lens_ranges(row)
            design = designs.get(tmpl_id)
            if design is None:
                vals.update(product_tmpl_id=tmpl_id, range_ids=[fields.Command.create(r) for r in ranges])
                designs[tmpl_id] = Design.create(vals)
                continue
            changed = {}
            for key, value in vals.items():
                if key == "coating_ids":
                    if set(design.coating_ids.ids) != set(value[0][2]):
                        changed[key] = value
                elif isinstance(design[key], models.BaseModel):
                    if design[key].id != value:
                        changed[key] = value
                elif design[key] != value:
                    changed[key] = value
            current = sorted(
                (r.diameter, r.sph_min, r.sph_max, r.cyl_min, r.cyl_max, r.add_min, r.add_max)
                for r in design.range_ids
            )
            wanted = sorted(
                tuple(
                    r[k]
                    for k in ("diameter", "sph_min", "sph_max", "cyl_min", "cyl_max", "add_min", "add_max")
                )
                for r in ranges
            )
            if ranges and current != wanted:
                changed["range_ids"] = [fields.Command.clear()] + [fields.Command.create(r) for r in ranges]
            if changed:
                design.write(changed)

    def _is_lens_row(self, row):
        v = row.values
        return v.get("lens_index") is not None or v.get("sph_min") is not None or v.get("sph_max") is not None

    def _prepare_lens_design_vals(self, row, ctx):
        v = row.values
        vals = {"name": v["name"], "manufacturer_id": ctx["partner"].id}
        if v.get("lens_index") is not None:
            vals["index"] = float(v["lens_index"])
        if v.get("coating") and "optics.lens.coating" in self.env:
            coatings = ctx.setdefault("coatings", {})
            key = v["coating"].casefold()
            if key not in coatings:
                Coating = self.env["optics.lens.coating"].sudo()
                coating = Coating.search(
                    ["|", ("code", "=ilike", v["coating"]), ("name", "=ilike", v["coating"])], limit=1
                ) or Coating.create({"name": v["coating"], "code": v["coating"]})
                coatings[key] = coating.id
            vals["coating_ids"] = [fields.Command.set([coatings[key]])]
        return vals

    def _prepare_lens_ranges(self, row):
        v = row.values
        if v.get("sph_min") is None or v.get("sph_max") is None:
            return []
        diameters = [
            int(d)
            for d in str(v.get("diameter") or "").replace(",", "/").replace(";", "/").split("/")
            if d.strip().isdigit()
        ] or [65]
        f = lambda k: float(v[k]) if v.get(k) is not None else 0.0  # noqa: E731
        return [
            {
                "diameter": d,
                "sph_min": f("sph_min"),
                "sph_max": f("sph_max"),
                "cyl_min": f("cyl_min"),
                "cyl_max": f("cyl_max"),
                "add_min": f("add_min"),
                "add_max": f("add_max"),
            }
            for d in diameters
        ]
