from . import optics_cash_reconcile_wizard
from . import optics_cash_reconcile_count
from . import optics_cash_reconcile_card
from . import optics_cash_reconcile_kkt
from . import optics_cash_move_wizard
from . import optics_x_report_wizard
from . import optics_fiscal_reason_wizard
