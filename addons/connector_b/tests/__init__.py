from . import test_import_wizard
from . import test_import_lens_job
from . import test_import_messages
from . import test_security_import
