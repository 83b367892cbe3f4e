# synthmill: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv protos docs lint browser postgres test test-fast demo bench gpu-check clean

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

# Writes docs/settings.md from the settings dataclasses' field docs; a test fails when it drifts.
docs: $(STAMP)
	$(PY) -m tools.settingsdoc

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# The browser tests drive Debian's chromium through Playwright (Playwright's own download cannot run here).
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# The job-store tests start a throwaway PostgreSQL server: install one where none is.
postgres:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
		(apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql)

test: lint postgres browser
	$(PY) -m pytest -q

test-fast: $(STAMP) postgres
	$(PY) -m pytest -q -m "not e2e"

# Starts the local stack on the embedded default models, makes a small dataset, stops the stack.
demo: $(STAMP)
	$(PY) -m tools.demo

bench: $(STAMP)
	$(PY) -m benchmarks

# On a GPU host, first: device, dtype, each model's load time, one image per family, the OOM path,
# images/s; then the gpu-marked tests. GPU_CHECK_ARGS=--models stable-diffusion-v1-5/stable-diffusion-v1-5,...
gpu-check: $(STAMP)
	$(PY) -m tools.gpu_check $(GPU_CHECK_ARGS)
	$(PY) -m pytest -q -m gpu -rs

clean:
	rm -rf $(VENV) generated_data .pytest_cache .ruff_cache
