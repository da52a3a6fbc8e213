# townsim: `make demo` runs the built-in Pingtan scenarios, `make test` runs the test suite.
PY ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint bench docs clean

$(STAMP): pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/townsim run scenarios/pingtan/baseline.yaml --out runs/baseline
	$(BIN)/townsim run scenarios/pingtan/merged_2021.yaml --out runs/merged_2021
	$(BIN)/townsim compare runs/baseline runs/merged_2021
	$(BIN)/townsim compare scenarios/pingtan/baseline.yaml scenarios/pingtan/merged_2021.yaml --days 91 --replications 5

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check sim tests benchmarks
	$(BIN)/ruff format --check sim
	$(BIN)/mypy sim

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_year.py cli
	$(BIN)/python benchmarks/bench_year.py scale --scales 1,10

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 DISABLE_MKDOCS_2_WARNING=true $(BIN)/mkdocs build --strict --site-dir site

clean:
	rm -rf site runs .pytest_cache .mypy_cache .ruff_cache
