
from . import optics_cash_movement
from . import optics_cash_denomination
from . import optics_shift_report
from . import optics_shift_report_line
from . import pos_config_cash
from . import pos_order_cash
from . import pos_session_cash
from . import res_company
from . import optics_fiscal_settings
from . import optics_fiscal_document
from . import optics_fiscal_document_log
from . import optics_fiscal_dead_letter
from . import optics_fiscal_audit
from . import optics_fiscal_breaker
from . import optics_fiscal_till
from . import pos_order
from . import pos_session
