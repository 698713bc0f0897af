"""Every user-facing string of the chain's addons has its Russian translation.

The terms are those Odoo itself exports for translation (TranslationModuleReader, the code
behind ``--i18n-export`` and ``make pot``): Python ``_()``, JS ``_t()``, QWeb and view
texts, field labels and help, selection values, model names.  A cashier who meets an
English string on a Russian screen is what this test stops."""

import os
import re

import polib

from odoo.modules.module import get_module_path
from odoo.tests import TransactionCase, tagged
from odoo.tools.translate import TranslationModuleReader

CHAIN_ADDONS = ("optics_core", "optics_pos_ru54fz", "connector_b", "ru_accounting_extras")
#: terms that are not words: an example address or phone number in a placeholder
NOT_WORDS = re.compile(r"^\s*(https?://\S+|\+?[\d\s()-]+)\s*$")


@tagged("post_install", "-at_install")
class TestRussianTranslations(TransactionCase):
    def test_every_term_of_the_chain_has_a_russian_translation(self):
        installed = (
            self.env["ir.module.module"]
            .search([("name", "in", CHAIN_ADDONS), ("state", "=", "installed")])
            .mapped("name")
        )
        self.assertIn("optics_core", installed)
        for addon in installed:
            po = polib.pofile(os.path.join(get_module_path(addon), "i18n", "ru.po"))
            translated = {e.msgid for e in po if e.msgstr and not e.obsolete and "fuzzy" not in e.flags}
            missing = sorted(
                {
                    source
                    for module, _type, _name, _res_id, source, _value, _comments in TranslationModuleReader(
                        self.env.cr, modules=[addon]
                    )
                    if module == addon
                    and re.search("[A-Za-z]", source or "")
                    and not NOT_WORDS.match(source)
                    and source not in translated
                }
            )
            with self.subTest(addon=addon):
                self.assertFalse(missing, f"{addon}/i18n/ru.po lacks {len(missing)} term(s): {missing[:20]}")
