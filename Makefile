# papertrends: `make run` builds the warehouse from the sample digests, `make test`
# runs the tests. Both install what they need first: uv (pinned) into .tools/, then
# the locked dependencies (uv.lock) into .venv/.
PYTHON ?= python3
UV_VERSION := 0.13.9
TOOLS := .tools
UV := $(TOOLS)/bin/uv
VENV := .venv
# The oldest DuckDB that reads trends.duckdb right, for the test that has it read the file.
OLDEST_DUCKDB := $(TOOLS)/duckdb-oldest

# This machine sets PYTHONDONTWRITEBYTECODE; compiled bytecode halves import time.
export UV_COMPILE_BYTECODE := 1
export UV_PROJECT_ENVIRONMENT := $(CURDIR)/$(VENV)

.PHONY: install run test test-fast lint ui report sql clean bench mutation

$(UV):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

$(VENV)/.synced: $(UV) pyproject.toml uv.lock
	$(UV) sync --frozen --python $(PYTHON) --quiet
	touch $@

install: $(VENV)/.synced

$(OLDEST_DUCKDB)/.installed: tests/oldest-duckdb.txt
	$(PYTHON) -m venv $(OLDEST_DUCKDB)
	$(OLDEST_DUCKDB)/bin/pip install --quiet --disable-pip-version-check --no-deps --only-binary :all: --require-hashes -r $<
	touch $@

run: install
	$(VENV)/bin/papertrends build

report: install
	$(VENV)/bin/papertrends report

ui: install
	$(VENV)/bin/papertrends ui

# The DuckDB CLI (1.x, pinned in the dev group) on trends.duckdb, read-only.
sql: install
	$(VENV)/bin/duckdb -readonly "$${PAPERTRENDS_WAREHOUSE_DIR:-warehouse}/trends.duckdb"

# Lint (ruff: style and import order) and types (mypy) first: both fail `make test`.
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy

# Three pytest workers (pytest-xdist): many tests wait on child processes, so on two
# cores a third worker keeps both busy. PYTEST_ARGS="-n 0" runs in one process.
test: lint $(OLDEST_DUCKDB)/.installed
	$(VENV)/bin/python -m pytest -n 3 --dist worksteal $(PYTEST_ARGS)

# The inner loop: no Dagster runs, no browser, no fault injection, nothing slow.
test-fast: lint
	$(VENV)/bin/python -m pytest -n auto --dist worksteal -m "not slow and not browser and not dagster and not faults" $(PYTEST_ARGS)

# Not part of `make test` (slow, with a large corpus: see benchmarks/RESULTS.md):
# generates up to 10,000 digests, kept in benchmarks/corpus/, and writes RESULTS.md.
bench: install
	$(VENV)/bin/python benchmarks/bench.py $(BENCH_ARGS)

# Not part of `make test` (too slow): mutation testing (mutmut, pinned in the dev group)
# of the core modules with their fast tests, two mutants at a time; writes the score per
# module and the surviving mutants to benchmarks/MUTATION.md. MUTATION_ARGS='pipeline.read.*'
# runs only the mutants matching a glob; --keep reuses mutmut's cache in mutants/.
mutation: install
	$(VENV)/bin/python benchmarks/mutation.py $(MUTATION_ARGS)

clean:
	rm -rf warehouse/parquet warehouse/parquet-builds warehouse/staging warehouse/trends.duckdb warehouse/dagster_home warehouse/validation warehouse/report warehouse/.papertrends.lock
