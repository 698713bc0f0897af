"""What to tell someone whose Python cannot import Odoo 18.0 (used by bin/odoo, bin/create_demo_db,
the Makefile and tests/run_tests.py, so the advice is written once)."""

import importlib.util
import sys

MISSING_ODOO = """\
OpticsERP needs Odoo 18.0 (Community), and `{python}` cannot import it (`import odoo` fails).
The addons, the demo database and the Odoo tests run inside Odoo, so there is nothing to start
without it. The usual ways to get it: the official packages (nightly.odoo.com/18.0/nightly/deb/
for Debian/Ubuntu, then `make run PY=/usr/bin/python3`); the source archive or a checkout of the
18.0 branch of github.com/odoo/odoo with its requirements.txt installed, made importable by this
Python (`pip install -e <odoo dir>` or a .pth file pointing at it); or the official Docker image
odoo:18.0 through this repository's docker/ (`docker compose -f docker/docker-compose.yml up -d
--build`, see README). PostgreSQL must be reachable as well (PGHOST/PGPORT, default
127.0.0.1:5432). The plain-Python tests run without Odoo: `make test-plain`."""


def odoo_importable():
    return importlib.util.find_spec("odoo") is not None


def missing_odoo_message():
    return MISSING_ODOO.format(python=sys.executable or "python3")


def main():
    """Exit 0 when Odoo imports; otherwise print the paragraph above and exit 3."""
    if odoo_importable():
        return 0
    print(missing_odoo_message(), file=sys.stderr)
    return 3


if __name__ == "__main__":
    sys.exit(main())
