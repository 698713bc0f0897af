from . import test_import_wizard
from . import test_import_lens_job
