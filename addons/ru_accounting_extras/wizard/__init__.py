from . import ru_cash_book_wizard
from . import ru_gross_profit_summary_wizard
