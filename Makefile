# multiad: make install | make test | make demo | make bench | make docs
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed.stamp
SOURCES := pyproject.toml requirements-dev.txt $(wildcard backends/*/pyproject.toml)

.PHONY: install test lint typecheck pytest demo bench docs clean

install: $(STAMP)

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)

$(STAMP): $(VENV)/bin/python $(SOURCES)
	$(BIN)/pip install -q -r requirements-dev.txt
	$(BIN)/pip install -q --no-build-isolation -e . $(addprefix -e ,$(wildcard backends/*/))
	touch $(STAMP)

lint: install
	$(BIN)/ruff check multiad backends tests benchmarks
	$(BIN)/ruff format --check multiad backends tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: install
	$(BIN)/python -m pytest -q

test: lint typecheck pytest

demo: install
	$(BIN)/python -m multiad.demo

bench: install
	$(BIN)/python -m benchmarks.run

docs: install
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site build *.egg-info backends/*/*.egg-info
