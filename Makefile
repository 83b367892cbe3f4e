# synthmill: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv protos lint test test-fast demo bench clean

# The environment: CPU torch 2.13.0 (pinned in pyproject), every extra, and the dev tools.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# Regenerates the committed stubs in protos/synthmill/v1, beside the .proto files, with the pinned grpcio-tools.
protos: $(STAMP)
	$(PY) -m tools.protogen

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

test: lint
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not e2e"

# Starts the local stack on the embedded default models, makes a small dataset, stops the stack.
demo: $(STAMP)
	$(PY) -m tools.demo

bench: $(STAMP)
	$(PY) -m benchmarks

clean:
	rm -rf $(VENV) generated_data .pytest_cache .ruff_cache
