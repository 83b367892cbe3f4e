# synthmill: the two set-up commands are `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: venv venv-gpu protos docs lint browser postgres test test-fast demo bench gpu-check clean

# torch as pinned in pyproject, and the index of its CUDA build for `make venv-gpu` (docs/gpu.md: the
# CUDA 13.0 build needs NVIDIA driver >= 580; on an older driver pick the index of an older CUDA).
TORCH := $(shell sed -n 's/.*"torch==\([^"]*\)".*/\1/p' pyproject.toml | head -n 1)
TORCH_INDEX ?= https://download.pytorch.org/whl/cu130

# The environment: torch 2.13.0 (pinned in pyproject; the CPU build where the index offers it), every
# extra, and the dev tools.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

# The environment on a GPU host: the CUDA build of the pinned torch first, then the rest as `venv`;
# ends by saying whether CUDA answers ("CPU-only torch", "driver too old", ... otherwise, and fails).
venv-gpu:
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "torch==$(TORCH)" --index-url $(TORCH_INDEX)
	$(PY) -m pip install -q -e '.[dev]'
	touch $(STAMP)
	$(PY) -m tools.gpu_check --skip families,servers,figures,tests

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

# Two workers, a test file each at a time (pytest-xdist): the servers a file starts are its own.
test: lint postgres browser
	$(PY) -m pytest -q -n 2 --dist loadfile

test-fast: $(STAMP) postgres
	$(PY) -m pytest -q -m "not e2e"

# Starts the local stack on the embedded default models, makes a small dataset, stops the stack.
demo: $(STAMP)
	$(PY) -m tools.demo

bench: $(STAMP)
	$(PY) -m benchmarks

# The acceptance run on a GPU host (docs/gpu.md); non-zero on a CPU-only torch, a CUDA that does not
# answer, or any failed check or skipped gpu test. GPU_CHECK_ARGS="--models tiny-sd,/models/sdxl ..."
gpu-check: $(STAMP)
	$(PY) -m tools.gpu_check $(GPU_CHECK_ARGS)

clean:
	rm -rf $(VENV) generated_data .pytest_cache .ruff_cache
