"""Supplier price-list reading, normalisation, validation and diff planning.

Plain Python (no ``odoo`` import): importable as ``pricelist`` in the unit tests and as
``odoo.addons.connector_b.pricelist`` inside Odoo.  The Odoo side only loads the catalog
state into plain dicts, calls :func:`pipeline.analyse` and writes the planned changes.
"""

from .profile import FIELDS, NUMERIC_FIELDS, Profile
from .problems import Problem
from .ean import ean_is_valid
from .numbers import parse_number
from .readers import iter_rows, open_rows
from .headers import HeaderMap, locate_header
from .validate import RowValidator, NormalisedRow
from .diff import CatalogIndex, DiffPlanner, Plan
from .pipeline import analyse, Analysis
from .report import write_report_xlsx

__all__ = [
    "FIELDS",
    "NUMERIC_FIELDS",
    "Profile",
    "Problem",
    "ean_is_valid",
    "parse_number",
    "iter_rows",
    "open_rows",
    "HeaderMap",
    "locate_header",
    "RowValidator",
    "NormalisedRow",
    "CatalogIndex",
    "DiffPlanner",
    "Plan",
    "analyse",
    "Analysis",
    "write_report_xlsx",
]
