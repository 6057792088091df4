# Two commands for a newcomer:  `make run` (set up + default benchmark)  and  `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.bench-installed
RAY    := $(VENV)/.bench-ray-installed

.PHONY: setup run test test-slow test-browser chromium clean

setup: $(STAMP)

# torch first, pinned to the CPU build this machine ships, so nothing pulls a multi-GB CUDA
# build; torchattacks without dependencies (its metadata breaks pip's resolver); bench last.
# --no-compile: Python compiles what it imports on first use instead of every module of every
# package now (the set-up takes about 1 minute instead of 2.5 on 2 cores).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile torch==2.13.0
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile -r requirements.txt
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --no-deps torchattacks==3.5.1
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --no-deps --no-build-isolation -e .
	touch $(STAMP)

# bench's optional Ray extra (`--executor ray`, about 80 MB): the tests exercise it; `make run` does not need it.
$(RAY): $(STAMP)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-compile --no-build-isolation -e ".[ray]"
	touch $(RAY)

# Two worker processes, one per core of the 2-core machine the default study is sized for
# (478 s there, benchmarks/executor_speed.py).
run: setup
	$(BIN)/python -m bench run --jobs 2

test: $(RAY)
	$(BIN)/python -m pytest

# The long evidence tests (marked slow), which .ci/run runs after `make test`.
test-slow: $(RAY)
	$(BIN)/python -m pytest -m slow

# The MLflow UI opened in headless Chromium (marked browser), which .ci/run runs last.
test-browser: $(RAY) chromium
	$(BIN)/python -m pytest -m browser

# Debian's chromium for the browser tests; skipped when one is already on PATH.
chromium:
	@command -v chromium >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium; }

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
