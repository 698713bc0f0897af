from . import test_discount_limit
