
from . import central
from . import metrics
