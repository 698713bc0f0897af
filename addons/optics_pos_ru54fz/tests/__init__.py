
from . import test_hw_proxy
from . import test_ofd_pipeline
from . import test_ofd_roles
from . import test_ofd_refund
