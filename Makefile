# multiad: make install | make test | make demo | make bench | make docs
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed.stamp
SOURCES := pyproject.toml requirements-dev.txt $(wildcard backends/*/pyproject.toml)

.PHONY: install test lint typecheck pytest demo bench docs capabilities clean

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

# pytest-xdist: the suite's items are independent; one worker per core halves the run on two.
pytest: install
	$(BIN)/python -m pytest -q -n auto

test: lint typecheck pytest

demo: install
	$(BIN)/python -m multiad.demo

bench: install
	$(BIN)/python -m benchmarks.run

# Known failures of a backend, where it has a file of them (see docs/plugins.md).
xfails = $(if $(wildcard tests/xfails/$(1).txt),--multiad-xfails=tests/xfails/$(1).txt)

# Conformance reports of the in-tree backends (torch.compile takes seconds per case: its items
# are opt-in, --multiad-compile=sample or all) (CPU; CUDA where a GPU is present) and the matrix built from them.
capabilities: install
	$(BIN)/python -m pytest -q --pyargs multiad.conformance --multiad-backend=torch $(call xfails,torch) --multiad-compile=none --multiad-dtypes=float64,float32 --multiad-report=docs/conformance/torch.json
	$(BIN)/python -m pytest -q --pyargs multiad.conformance --multiad-backend=jax $(call xfails,jax) --multiad-dtypes=float64,float32 --multiad-report=docs/conformance/jax.json
	$(BIN)/python -m pytest -q --pyargs multiad.conformance --multiad-backend=autograd $(call xfails,autograd) --multiad-report=docs/conformance/autograd.json
	$(BIN)/python -m pytest -q --pyargs multiad.conformance --multiad-backend=numpy $(call xfails,numpy) --multiad-report=docs/conformance/numpy.json
	$(BIN)/python -m multiad.testing.report docs/conformance/torch.json docs/conformance/jax.json docs/conformance/autograd.json docs/conformance/numpy.json -o docs/capabilities.md

docs: install
	$(BIN)/mkdocs build --strict

clean:
	rm -rf $(VENV) site build *.egg-info backends/*/*.egg-info
