from . import optics_store
from . import res_users
from . import pos_config
