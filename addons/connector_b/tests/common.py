import base64
import csv
import io

import openpyxl

from odoo.tests import TransactionCase, new_test_user

EAN = [
    "4006381333931",
    "5901234123457",
    "4600702011111",
    "4607004650642",
    "9780201379624",
    "96385074",
    "036000291452",
]
HEADER = ["Артикул", "Штрихкод", "Наименование", "Цена", "Валюта", "НДС", "Остаток", "Срок"]
COLUMNS = {
    "article": "Артикул",
    "ean": "Штрихкод",
    "name": "Наименование",
    "price": "Цена",
    "currency": "Валюта",
    "vat": "НДС",
    "stock": "Остаток",
    "lead_time": "Срок",
}
ROWS = [
    ["RB-5154", EAN[0], "Оправа Ray-Ban RB5154 2000", "4 990,00", "RUB", "Без НДС", 5, 3],
    ["VO-5286", EAN[1], "Оправа Vogue VO5286 W44", "3 990,50", "руб.", "20%", "Много", 5],
    ["CASE-01", "", "Футляр жёсткий", "150", "RUB", "20%", "Нет", 1],
]


def xlsx_bytes(rows, merges=()):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(list(row))
    for rng in merges:
        ws.merge_cells(rng)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def csv_bytes(rows, encoding="cp1251", delimiter=";"):
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return text.getvalue().encode(encoding)


class PricelistCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supplier = cls.env["res.partner"].create({"name": "ООО Оптик-Опт", "is_company": True})
        cls.accountant = new_test_user(
            cls.env,
            login="cb_accountant",
            name="Бухгалтер",
            groups="base.group_user,optics_core.group_optics_accountant",
        )
        cls.cashier = new_test_user(
            cls.env,
            login="cb_cashier",
            name="Кассир",
            groups="base.group_user,optics_core.group_optics_cashier",
        )
        cls.profile = cls.make_profile(COLUMNS)

    @classmethod
    def make_profile(cls, columns, **vals):
        return cls.env["connector_b.import.profile"].create(
            dict(
                {
                    "name": "Оптик-Опт XLSX",
                    "partner_id": cls.supplier.id,
                    "file_type": "xlsx",
                    "column_ids": [(0, 0, {"field": f, "header": h}) for f, h in columns.items()],
                },
                **vals,
            )
        )

    def wizard(self, data, mode="all", profile=None, user=None, name="price.xlsx"):
        user = user or self.accountant
        env = self.env(user=user, context=dict(self.env.context, lang=user.lang))  # as the web client does
        return env["connector_b.import.wizard"].create(
            {
                "profile_id": (profile or self.profile).id,
                "file": base64.b64encode(data),
                "file_name": name,
                "mode": mode,
            }
        )

    def run_import(self, data, mode="all", profile=None, name="price.xlsx"):
        wizard = self.wizard(data, mode, profile, name=name)
        wizard.action_preview()
        action = wizard.action_import()
        return self.env["connector_b.import.history"].browse(action["res_id"])

    def supplier_prices(self):
        infos = self.env["product.supplierinfo"].search([("partner_id", "=", self.supplier.id)])
        return {
            i.product_code: (
                i.price,
                i.currency_id.name,
                i.delay,
                i.connector_b_stock_qty,
                i.connector_b_availability,
                i.connector_b_vat,
                i.product_tmpl_id.id,
            )
            for i in infos
        }

    def catalog_state(self):
        """Everything an import may touch, with write dates, for before/after comparisons."""
        self.env.flush_all()
        cr = self.env.cr
        cr.execute("SELECT id, name, default_code, list_price, write_date FROM product_template ORDER BY id")
        tmpl = cr.fetchall()
        cr.execute(
            "SELECT id, barcode, default_code, standard_price, write_date FROM product_product ORDER BY id"
        )
        prod = cr.fetchall()
        cr.execute("""SELECT id, product_code, price, currency_id, delay, connector_b_stock_qty,
                             connector_b_availability, connector_b_vat, write_date
                        FROM product_supplierinfo ORDER BY id""")
        return tmpl, prod, cr.fetchall()
