
from . import test_hw_proxy
from . import test_ofd_pipeline
from . import test_ofd_roles
from . import test_ofd_refund
from . import test_cash_trail
from . import test_cash_reconcile
from . import test_cash_z_adopt
from . import test_pos_tours
from . import test_cash_till
from . import test_backoffice_actions
from . import test_refund_policy
from . import test_till_owner_workers
from . import test_security_record_rules
from . import test_security_push_input
from . import test_security_sudo_sweep
