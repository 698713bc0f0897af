# OpticsERP.  Quick start (Odoo 18.0 importable by python3, PostgreSQL reachable):
#   make run    - install Python deps, create the database with the demo chain (bin/create_demo_db:
#                 Odoo without its generic demo, Russian, RUB, the chain's own demo; docs/demo.md),
#                 start Odoo with the queue_job runner, the KKT emulators and the mock OFD
#   make test   - run every test (plain-Python always; Odoo tests when odoo imports)
#   make lint   - the OCA 18.0 linters: ruff check, ruff format --check, pylint-odoo (mandatory checks),
#                 prettier --check and eslint on the addons' JavaScript (Node.js and npm needed)
#   make readme - each addon's README.rst from its readme/*.md fragments (bin/gen_addon_readme.py)
#   make load   - the chain load run (tests/load/chain_day.py; LOAD_TILLS, LOAD_COMPRESS, LOAD_HOURS)
# Without an importable Odoo 18.0 both say what is missing and how to get it (bin/odoo_check.py).
PY        ?= python3
DB        ?= opticserp
PGHOST    ?= 127.0.0.1
PGPORT    ?= 5432
QUEUE_JOB_DIR = $(shell $(PY) -c 'import importlib.util as u, os; s = u.find_spec("odoo.addons.queue_job"); print(os.path.dirname(os.path.dirname(s.origin)) if s else "")' 2>/dev/null)
ODOO      = $(PY) bin/odoo -c odoo.conf --db_host=$(PGHOST) --db_port=$(PGPORT) --addons-path=$(CURDIR)/addons,$(QUEUE_JOB_DIR)
VAR       := $(CURDIR)/var

.PHONY: run odoo-check deps test-deps db devices test test-plain lint lint-py lint-js node-check readme bench clean-db pot

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

# The OCA 18.0 linters, the hooks of .pre-commit-config.yaml that the tree is kept clean
# against.  Fails on any finding.
# * Python: ruff (.ruff.toml) and pylint-odoo's mandatory checks (.pylintrc-mandatory), pinned
#   in requirements-test.txt.  bin/odoo and bin/create_demo_db are Python without a .py
#   suffix: named so that ruff checks them too.
# * JavaScript: prettier --check (prettier.config.cjs, indentation from .editorconfig) and
#   eslint (eslint.config.cjs) on the addons' static/src and static/tests, with the versions
#   the OCA 18.0 template pins, in package.json and package-lock.json.  `npm ci` installs
#   them into node_modules/ (not committed), again only when package-lock.json or
#   package.json is newer than the last install.  Without Node.js and npm the lint fails.
#   prettier is not run on the XML: formatting every view and data file with
#   @prettier/plugin-xml would rewrite 41% of their lines (62 files, +5,375/-2,255: attributes
#   one per line, whitespace added inside elements such as <h1><field/></h1>), a churn
#   against every branch in flight and a risk to QWeb text; XML stays checked by check-xml
#   and oca-checks-odoo-module (.pre-commit-config.yaml) and by Odoo's own schema checks.
LINT_PY_SCRIPTS = bin/odoo bin/create_demo_db
LINT_ADDONS     = $(addprefix addons/,$(ADDONS))
LINT_JS_FILES   = 'addons/**/static/src/**/*.js' 'addons/**/static/tests/**/*.js'
NODE_BIN        = node_modules/.bin
lint: lint-py lint-js

lint-py:
	$(PY) -m ruff check . $(LINT_PY_SCRIPTS)
	$(PY) -m ruff format --check . $(LINT_PY_SCRIPTS)
	$(PY) -m pylint --rcfile=.pylintrc-mandatory --output-format=parseable --score=n $(LINT_ADDONS)

lint-js: node-check node_modules/.package-lock.json
	$(NODE_BIN)/prettier --check $(LINT_JS_FILES)
	$(NODE_BIN)/eslint --max-warnings=0 $(LINT_JS_FILES)

# eslint 9 needs Node.js 18.18 or newer
node-check:
	@command -v node >/dev/null 2>&1 || { echo "make lint: node (Node.js >= 18.18) is not installed: the JavaScript cannot be linted (apt-get install nodejs npm)" >&2; exit 1; }
	@command -v npm >/dev/null 2>&1 || { echo "make lint: npm is not installed: the JavaScript linters cannot be installed (apt-get install npm)" >&2; exit 1; }
	@node -e 'const [a, b] = process.versions.node.split(".").map(Number); process.exit(a > 18 || (a === 18 && b >= 18) ? 0 : 1)' \
	    || { echo "make lint: Node.js $$(node --version) is too old for eslint 9 (18.18 or newer needed)" >&2; exit 1; }

# npm ci writes node_modules/.package-lock.json; touched so that its time is the install's
node_modules/.package-lock.json: package-lock.json package.json
	npm ci --no-audit --no-fund
	@touch $@

# README.rst of each addon from readme/*.md (OCA's oca-gen-addon-readme is not installable here:
# bin/gen_addon_readme.py writes the same structure); tests/unit/test_addon_readme.py fails on
# a stale one.
readme:
	$(PY) bin/gen_addon_readme.py

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
