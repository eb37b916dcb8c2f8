# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: run demo test lint install docs clean

$(BIN)/finews: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/finews

## run: the always-on aggregator on the embedded SQLite store (Ctrl-C stops)
run: install
	$(BIN)/finews run

## demo: the whole pipeline on bundled real flashes, no network needed (Ctrl-C stops)
demo: install
	$(BIN)/finews demo

## lint: ruff (lint + format check) and mypy on the package
lint: install
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy

## test: lint, types and the whole test suite
# The package's bytecode is written first: where PYTHONDONTWRITEBYTECODE is set (our CI
# machines set it), each of the few hundred `finews` processes the suite starts compiled
# the whole package again (0.2 s each).
test: lint
	$(BIN)/python -m compileall -q src
	$(BIN)/pytest

## docs: regenerate the generated parts of docs/
docs: install
	$(BIN)/python scripts/update_config_doc.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
