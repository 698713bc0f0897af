from . import product_supplierinfo
from . import import_profile
from . import import_profile_column
from . import import_problem
from . import import_history
from . import catalog_writer
from . import problem_messages
