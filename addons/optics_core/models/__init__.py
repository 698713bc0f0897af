from . import optics_store
from . import res_users
from . import pos_config
from . import pos_order
