from . import test_cash_accounts
from . import test_gross_profit
from . import test_security_sweep
