# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= sqlite:///var/complaints.db
export DATABASE_URL

.PHONY: run serve test bench install db deploy demo clean browser fuzz

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

# The bpmn-js viewer the case page serves from node_modules (pinned in web/frontend/package-lock.json).
FRONTEND := web/frontend/node_modules/.package-lock.json
$(FRONTEND): web/frontend/package.json web/frontend/package-lock.json
	cd web/frontend && npm ci --no-audit --no-fund
	touch $(FRONTEND)

install: $(STAMP) $(FRONTEND)

db: install
	$(BIN)/complaints db upgrade

deploy: db
	$(BIN)/complaints deploy processes/*.bpmn

demo: deploy
	$(BIN)/complaints org load data/organisation.toml
	$(BIN)/complaints demo cases

run: demo
	$(BIN)/complaints serve --host 127.0.0.1 --port 5000

# Scale-out (README "Running on PostgreSQL with several workers"): WORKERS gunicorn workers and SCHEDULERS
# scheduler processes against the PostgreSQL of DATABASE_URL; the schema is upgraded and processes/*.bpmn deployed.
WORKERS ?= 4
SCHEDULERS ?= 2
HOST ?= 127.0.0.1
PORT ?= 8000
serve: deploy
	@case "$(DATABASE_URL)" in postgresql*) ;; *) echo "make serve runs on PostgreSQL: set DATABASE_URL=postgresql+psycopg://USER@HOST/DB (make run is the SQLite mode)" >&2; exit 2;; esac
	$(BIN)/complaints serve --host $(HOST) --port $(PORT) --workers $(WORKERS) --schedulers $(SCHEDULERS)

# Browser tests drive Debian's chromium (never a downloaded browser); installed here when missing.
browser:
	test -x /usr/bin/chromium || (apt-get update && apt-get install -y chromium fonts-wqy-microhei)

# The suite spreads over the machine's cores (pytest-xdist): every database test has its own SQLite file or
# PostgreSQL schema, servers bind free ports. TEST_WORKERS=0 runs it in one process.
TEST_WORKERS ?= auto
test: install browser
	$(BIN)/python -m pytest -n $(TEST_WORKERS)

# The timer sweep, one complete part by part, PostgreSQL's own time per case, the instructions per case of each
# side (callgrind; about 7 minutes), whole cases through the JSON API under gunicorn (bench.http), the inbox at
# 100,000 and 1,000,000 open tasks (bench.inbox, a few minutes), conformance by replay over 100,000 stored cases
# (bench.conformance, a few minutes, most of it copying the cases), the reports over 1,000,000 cases
# (bench.reports, a few minutes to generate), the case search over 50,000 cases on both databases (bench.search,
# under a minute), then the service layer's cases/s with the
# concurrent clients and the floor, lean and ceiling tables; the last line is the ratio to the floor's ceiling.
bench: install
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench.breakdown
	$(BIN)/python -m bench.server
	$(BIN)/python -m bench.instructions
	$(BIN)/python -m bench.http
	$(BIN)/python -m bench.inbox
	$(BIN)/python -m bench.conformance
	$(BIN)/python -m bench.reports
	$(BIN)/python -m bench.search
	$(BIN)/python -m bench --clients 4

# schemathesis --checks all against the served app on SQLite and, when TEST_DATABASE_URL is set, PostgreSQL:
# FUZZ_SECONDS of fuzzing each; prints requests sent and server errors, fails on any 5xx or failed check.
FUZZ_SECONDS ?= 120
fuzz: install
	COMPLAINTS_FUZZ_SECONDS=$(FUZZ_SECONDS) $(BIN)/python -m pytest -q -s -p no:cacheprovider tests/web/test_fuzz.py

clean:
	rm -rf $(VENV) var .pytest_cache
