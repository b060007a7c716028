# The README's two commands: `make demo` and `make test`. Both create or reuse .venv.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: demo test lint format bench clean venv

venv: $(STAMP)

# Reinstall whenever pyproject.toml changes (the stamp is older than it).
$(STAMP): pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	@touch $(STAMP)

## Run the product end to end on the embedded default (simulator + local data).
demo: venv
	$(PY) -m pipeline demo

## Run the whole test suite.
test: venv
	$(PY) -m pytest

lint: venv
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

format: venv
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

## Reproducible benchmarks (figures go in the README).
bench: venv
	$(PY) -m bench.ingest_bench
	$(PY) -m bench.pipeline_bench
	$(PY) -m bench.app_bench

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
