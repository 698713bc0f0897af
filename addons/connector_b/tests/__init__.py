from . import test_import_wizard
