
from . import test_hw_proxy
