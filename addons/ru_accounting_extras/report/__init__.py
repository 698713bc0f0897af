from . import ru_cash_book_report
from . import ru_gross_profit_summary_report
