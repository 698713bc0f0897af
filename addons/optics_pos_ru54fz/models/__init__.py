
from . import optics_cash_movement
from . import optics_cash_denomination
from . import optics_shift_report
from . import optics_shift_report_line
from . import pos_config_cash
from . import pos_order_cash
from . import pos_session_cash
