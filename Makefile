# One task runner: make install | demo | test | lint | bench
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: install demo test lint bench

$(BIN)/nordcert: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(BIN)/nordcert

demo: install
	$(BIN)/nordcert demo

test: install
	$(BIN)/python -m pytest -n 2 -q

lint: install
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/ruff check nordcert tests bench
	$(BIN)/mypy nordcert

bench: install
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/taxii.py
	$(BIN)/python bench/lookup.py
	$(BIN)/python bench/federation.py --store sqlite
