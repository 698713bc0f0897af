import string

from odoo.tests import tagged

from ..models.problem_messages import TEMPLATES
from ..pricelist.problems import MESSAGES
from .common import HEADER, ROWS, PricelistCase, xlsx_bytes


def placeholders(text):
    return {name for _lit, name, _spec, _conv in string.Formatter().parse(str(text)) if name}


@tagged("post_install", "-at_install")
class TestImportMessages(PricelistCase):
    def test_every_library_message_has_a_translatable_template(self):
        self.assertEqual(set(TEMPLATES), set(MESSAGES))
        for key, text in MESSAGES.items():
            self.assertEqual(placeholders(TEMPLATES[key]._source), placeholders(text), key)

    def test_problems_are_reported_in_the_users_language(self):
        self.env["res.lang"]._activate_lang("ru_RU")
        self.env["ir.module.module"]._load_module_terms(["connector_b"], ["ru_RU"], overwrite=True)
        self.accountant.lang = "ru_RU"
        rows = ROWS[:1] + [["BAD", "4006381333932", "Плохой EAN", "десять", "RUB", "20%", 1, 1]]
        history = self.run_import(xlsx_bytes([HEADER] + rows), mode="partial")
        messages = {p.code: p.message for p in history.problem_ids}
        self.assertEqual(messages["ean_checksum"], "В EAN 4006381333932 неверная контрольная цифра")
        self.assertEqual(messages["not_a_number"], "Закупочная цена — не число: 'десять'")
