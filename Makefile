# OpticsERP.  Quick start (Odoo 18.0 importable by python3, PostgreSQL reachable):
#   make run    - install Python deps, create the database with the demo chain (bin/create_demo_db:
#                 Odoo without its generic demo, Russian, RUB, the chain's own demo; docs/demo.md),
#                 start Odoo with the queue_job runner, the KKT emulators and the mock OFD
#   make test   - run every test (plain-Python always; Odoo tests when odoo imports)
#   make lint   - the OCA 18.0 linters: ruff check, ruff format --check, pylint-odoo (mandatory checks)
#   make load   - the chain load run (tests/load/chain_day.py; LOAD_TILLS, LOAD_COMPRESS, LOAD_HOURS)
# Without an importable Odoo 18.0 both say what is missing and how to get it (bin/odoo_check.py).
PY        ?= python3
DB        ?= opticserp
PGHOST    ?= 127.0.0.1
PGPORT    ?= 5432
QUEUE_JOB_DIR = $(shell $(PY) -c 'import importlib.util as u, os; s = u.find_spec("odoo.addons.queue_job"); print(os.path.dirname(os.path.dirname(s.origin)) if s else "")' 2>/dev/null)
ODOO      = $(PY) bin/odoo -c odoo.conf --db_host=$(PGHOST) --db_port=$(PGPORT) --addons-path=$(CURDIR)/addons,$(QUEUE_JOB_DIR)
VAR       := $(CURDIR)/var

.PHONY: run odoo-check deps test-deps db devices test test-plain lint bench clean-db pot

run: odoo-check deps db devices
	$(ODOO) -d $(DB)

odoo-check:
	@$(PY) bin/odoo_check.py

deps:
	$(PY) -m pip install -q $$(grep -v -e '^#' -e queue_job requirements.txt)
	$(PY) -m pip install -q --no-deps "$$(grep "^odoo-addon-queue_job" requirements.txt)"

test-deps:
	$(PY) -m pip install -q -r requirements-test.txt

# Create the demo database once: Odoo without its generic demo, the four addons, the chain's demo.
db: odoo-check
	@if $(PY) -c "import psycopg2,sys; c=psycopg2.connect(host='$(PGHOST)',port=$(PGPORT),dbname='$(DB)'); cr=c.cursor(); cr.execute(\"select 1 from ir_module_module where name='ru_accounting_extras' and state='installed'\"); sys.exit(0 if cr.fetchone() else 1)" 2>/dev/null; \
	then echo "database $(DB) is ready"; \
	else $(PY) bin/create_demo_db $(DB) -c odoo.conf --db_host=$(PGHOST) --db_port=$(PGPORT) --addons-path=$(CURDIR)/addons,$(QUEUE_JOB_DIR); fi

# The till side of the demo: one emulated KKT per store and the mock OFD, on loopback.
devices:
	@mkdir -p $(VAR)
	@$(PY) tests/tools/demo_devices.py start --var $(VAR) || echo "demo devices not started (see $(VAR)/devices.log)"

test: test-deps
	$(PY) tests/run_tests.py

test-plain:
	OPTICS_SKIP_ODOO=1 $(PY) tests/run_tests.py

# The OCA 18.0 linters (.ruff.toml, .pylintrc-mandatory; versions pinned in requirements-test.txt,
# the hooks documented in .pre-commit-config.yaml).  Fails on any finding.  bin/odoo and
# bin/create_demo_db are Python without a .py suffix: named so that ruff checks them too.
# JavaScript is not linted here (prettier/eslint would be fetched from npm on each run).
LINT_PY_SCRIPTS = bin/odoo bin/create_demo_db
LINT_ADDONS     = $(addprefix addons/,$(ADDONS))
lint:
	$(PY) -m ruff check . $(LINT_PY_SCRIPTS)
	$(PY) -m ruff format --check . $(LINT_PY_SCRIPTS)
	$(PY) -m pylint --rcfile=.pylintrc-mandatory --output-format=parseable --score=n $(LINT_ADDONS)

bench:
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

# A compressed business day of the chain on the real server processes (issue 18; not part of
# `make test`): central prefork + queue_job runner, mock OFD, LOAD_TILLS tills with KKT emulators.
# Creates and drops its own database (about 3 minutes to install).  docs/deployment.md has figures.
LOAD_TILLS    ?= 40
LOAD_COMPRESS ?= 10
LOAD_HOURS    ?= 8
LOAD_ARGS     ?=
load:
	$(PY) tests/load/chain_day.py --tills $(LOAD_TILLS) --compress $(LOAD_COMPRESS) --hours $(LOAD_HOURS) $(LOAD_ARGS)

# Translation templates: i18n/<addon>.pot of each addon, exported by Odoo from a scratch database
# with the four addons installed (no demo); translators merge them into i18n/ru.po (msgmerge).
POT_DB   ?= $(DB)_pot
ADDONS   = optics_core optics_pos_ru54fz connector_b ru_accounting_extras
pot: odoo-check
	dropdb --if-exists -h $(PGHOST) -p $(PGPORT) $(POT_DB)
	$(ODOO) -d $(POT_DB) -i $$(echo $(ADDONS) | tr ' ' ,) --without-demo=all --stop-after-init --log-level=warn
	@for a in $(ADDONS); do \
	    $(ODOO) -d $(POT_DB) --i18n-export=addons/$$a/i18n/$$a.pot --modules=$$a --stop-after-init --log-level=warn || exit 1; \
	    echo "addons/$$a/i18n/$$a.pot"; done
	dropdb --if-exists -h $(PGHOST) -p $(PGPORT) $(POT_DB)

clean-db:
	dropdb --if-exists -h $(PGHOST) -p $(PGPORT) $(DB)
