from . import optics_lab_order_remake
