# `make demo`, `make test` and `make lint` each bootstrap .venv on first use; later
# runs only reinstall when pyproject.toml changed.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: install demo test lint bench clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $@

demo: $(STAMP)
	$(BIN)/debugloop demo
	$(BIN)/python tools/relay_demo.py

# two workers (pytest-xdist): the suite mostly waits on its servers
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# Python: ruff's checks and its formatter's verdict ([tool.ruff]); SQL: PostgreSQL's own
# parser on every file and function body, and the project's rules (tools/sql_lint.py,
# [tool.sql-lint]); all configured in pyproject.toml
LINTED := python tests bench tools db

lint: $(STAMP)
	$(BIN)/ruff check $(LINTED)
	$(BIN)/ruff format --check $(LINTED)
	$(BIN)/python tools/sql_lint.py

# every benchmark, about an hour on 2 cores; what they print goes in bench/RESULTS.md
bench: $(STAMP)
	$(BIN)/python bench/clone_vs_migrate.py
	$(BIN)/python bench/attempts.py
	$(BIN)/python bench/errors.py
	$(BIN)/python bench/stf.py
	$(BIN)/python bench/manifest.py
	$(BIN)/python bench/importer.py
	$(BIN)/python bench/search_path.py
	$(BIN)/python bench/hooks.py
	$(BIN)/python bench/ledger.py
	$(BIN)/python bench/relay.py

clean:
	rm -rf $(VENV) build dist
