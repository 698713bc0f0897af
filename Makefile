# OpticsERP.  Quick start (Odoo 18.0 importable by python3, PostgreSQL reachable):
#   make run    - install Python deps, create the database with the demo chain, start Odoo
#                 with the queue_job runner, the KKT emulators and the mock OFD
#   make test   - run every test (plain-Python always; Odoo tests when odoo imports)
PY        ?= python3
DB        ?= opticserp
PGHOST    ?= 127.0.0.1
PGPORT    ?= 5432
ADDONS    := optics_core,optics_pos_ru54fz,connector_b,ru_accounting_extras
QUEUE_JOB_DIR = $(shell $(PY) -c 'import importlib.util as u, os; s = u.find_spec("odoo.addons.queue_job"); print(os.path.dirname(os.path.dirname(s.origin)) if s else "")' 2>/dev/null)
ODOO      = $(PY) bin/odoo -c odoo.conf --db_host=$(PGHOST) --db_port=$(PGPORT) --addons-path=$(CURDIR)/addons,$(QUEUE_JOB_DIR)
VAR       := $(CURDIR)/var

.PHONY: run deps test-deps db devices test test-plain bench clean-db

run: deps db devices
	$(ODOO) -d $(DB)

deps:
	$(PY) -m pip install -q $$(grep -v -e '^#' -e queue_job requirements.txt)
	$(PY) -m pip install -q --no-deps "$$(grep "^odoo-addon-queue_job" requirements.txt)"

test-deps:
	$(PY) -m pip install -q -r requirements-test.txt

# Create the database with the four addons and demo data, once.
db:
	@if $(PY) -c "import psycopg2,sys; c=psycopg2.connect(host='$(PGHOST)',port=$(PGPORT),dbname='$(DB)'); cr=c.cursor(); cr.execute(\"select 1 from ir_module_module where name='ru_accounting_extras' and state='installed'\"); sys.exit(0 if cr.fetchone() else 1)" 2>/dev/null; \
	then echo "database $(DB) is ready"; \
	else $(ODOO) -d $(DB) -i $(ADDONS) --stop-after-init --workers=0 --max-cron-threads=0; fi

# The till side of the demo: one emulated KKT per store and the mock OFD, on loopback.
devices:
	@mkdir -p $(VAR)
	@$(PY) tests/tools/demo_devices.py start --var $(VAR) || echo "demo devices not started (see $(VAR)/devices.log)"

test: test-deps
	$(PY) tests/run_tests.py

test-plain:
	OPTICS_SKIP_ODOO=1 $(PY) tests/run_tests.py

bench:
	@for b in tests/bench/bench_*.py; do echo "== $$b"; $(PY) $$b || exit 1; done

clean-db:
	dropdb --if-exists -h $(PGHOST) -p $(PGPORT) $(DB)
