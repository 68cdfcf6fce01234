# Tradlyte Pipeline. `make demo` and `make test` create the virtual environment themselves.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

export DO_NOT_TRACK := 1
export RUNTIME__DLTHUB_TELEMETRY := false
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DBT_PROFILES_DIR := $(CURDIR)/profiles

.PHONY: venv demo test lint unit bench clean docs

venv: $(STAMP)

# uv resolves and installs the whole set in seconds; it is installed into the venv first,
# so a fresh machine needs nothing but Python. --compile-bytecode writes the .pyc files at
# install time: uv does not by default, and where PYTHONDONTWRITEBYTECODE is set (CI) every
# process would otherwise compile dlt, dbt and pandas from source on each start (seconds each).
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv
	$(BIN)/uv pip install --quiet --compile-bytecode --python $(BIN)/python -e '.[dev,dagster,spark]'
	touch $(STAMP)

demo: venv
	$(BIN)/tradlyte demo

lint: venv
	$(BIN)/ruff check .
	$(BIN)/lint-imports
	mkdir -p data
	cd dbt_project && ../$(BIN)/dbt deps --quiet
	TRADLYTE_DUCKDB_PATH=$(CURDIR)/data/lint.duckdb $(BIN)/python -m tests.lint_sql lint dbt_project/models dbt_project/tests

test: venv lint
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 tests

bench: venv
	$(BIN)/python bench/ingest.py

clean:
	rm -rf data dbt_project/target dbt_project/logs dbt_project/dbt_packages .pytest_cache
