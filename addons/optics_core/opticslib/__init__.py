"""Optical rules of OpticsERP in plain Python (no Odoo import).

Odoo models import this as ``odoo.addons.optics_core.opticslib``; the plain
test-suite imports it as ``opticslib``.  Only relative imports inside.

* :mod:`.rx`          prescription value rules (ranges, steps, axis/cylinder coupling, prism)
* :mod:`.transpose`   plus/minus cylinder transposition and principal meridians (Decimal, exact)
* :mod:`.makeability` can a lens design be made for a prescription (range table, ADD, fitting height)
* :mod:`.laborder`    lab-order state machine: transitions and the roles allowed to do each
* :mod:`.leadtime`    promised date from lead times in working days
* :mod:`.fiscal`      54-FZ settlement lines of a lab order (prepayment / hand-over, kopecks)
"""

from . import fiscal, laborder, leadtime, makeability, rx, transpose  # noqa: F401
