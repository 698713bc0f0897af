"""Plain-Python 54-FZ core of the till fiscal proxy.

Nothing in this package imports ``odoo``: it is importable as the top-level
package ``ru54fz`` (tests, the KKT emulator, the till service) and as
``odoo.addons.optics_pos_ru54fz.ru54fz`` (controllers and models).
Only relative imports are used inside it for that reason.
"""
