# Two commands do all the set-up on a machine with Python 3.11+ and make:
#   make run    runs the reporting-cycle flow on the bundled sample data (data/raw -> data/warehouse)
#   make test   runs the test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench sample clean-warehouse expectations docs

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check --upgrade pip
	@$(BIN)/python -m pip install --quiet --disable-pip-version-check -e '.[dev]'
	@touch $(STAMP)

run: $(STAMP)
	@$(BIN)/diaphuong run

test: $(STAMP)
	@$(BIN)/python -m pytest

bench: $(STAMP)
	@for b in bench/bench_*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

sample: $(STAMP)
	@$(BIN)/python scripts/make_sample.py

expectations: $(STAMP)
	@$(BIN)/diaphuong expectations --write

clean-warehouse:
	rm -rf data/warehouse/diaphuong.duckdb data/warehouse/diaphuong.duckdb.wal data/warehouse/parquet data/warehouse/reports data/warehouse/logs data/warehouse/.cache

docs: $(STAMP)
	@$(BIN)/python -m diaphuong.docs_queries docs/queries.md data/raw
