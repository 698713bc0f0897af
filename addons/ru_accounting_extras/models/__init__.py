from . import res_company
from . import res_config_settings
from . import ru_cash_account
from . import ru_cash_writeoff_reason
from . import ru_cash_transfer
from . import ru_report_ratio_mixin
from . import ru_pos_gross_profit_report
from . import ru_pos_sales_analytics_report
