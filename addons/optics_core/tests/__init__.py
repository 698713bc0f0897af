from . import test_optics_prescription
from . import test_optics_lab_order
from . import test_optics_catalog
from . import test_optics_reports
from . import test_optics_store_scope
from . import test_optics_ui
from . import test_security_lab_order
from . import test_security_prescription
