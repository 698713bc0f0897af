from . import central
from . import metrics
from . import hw_proxy
