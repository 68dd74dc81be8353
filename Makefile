# Two commands for a fresh machine: `make run` and `make test` (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATABASE_URL ?= sqlite:///var/complaints.db
export DATABASE_URL

.PHONY: run test bench install db deploy demo clean

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

db: install
	$(BIN)/complaints db upgrade

deploy: db
	$(BIN)/complaints deploy processes/*.bpmn

demo: deploy
	$(BIN)/complaints org load data/organisation.toml

run: demo
	$(BIN)/complaints serve --host 127.0.0.1 --port 5000

test: install
	$(BIN)/python -m pytest

bench: install
	$(BIN)/python -m bench.sweep
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) var .pytest_cache
