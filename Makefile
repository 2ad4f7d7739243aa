# perovscope — developer commands.  `make test` works on a machine with only python3, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

BVENV  := .venv-bench
BPY    := $(BVENV)/bin/python
BSTAMP := $(BVENV)/.installed

.PHONY: test lint install bench-install bench bench-test demo clean browser

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP) browser
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -q --timeout=600

# Headless Chromium and its driver for the viewer's browser tests (tests/viewer); needs root or apt rights.
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver >/dev/null)

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks

# The reference tools pin older numpy/zarr, so they live in their own environment (.venv-bench);
# perovscope is installed there too and benchmarks run both tools in one process.
$(BSTAMP): pyproject.toml
	test -x $(BPY) || $(PYTHON) -m venv $(BVENV)
	$(BPY) -m pip install --quiet --upgrade pip
	$(BPY) -m pip install --quiet -e ".[dev,bench]"
	touch $(BSTAMP)

bench-install: $(BSTAMP)

bench: $(BSTAMP)
	$(BPY) -m benchmarks.run_all

bench-test: $(BSTAMP)
	$(BPY) -m pytest -q -m bench --timeout=1800

# The main job on simulated data with ground truth: an operando PeLED session written as instrument
# files (one HyperSpy file per modality per frame, a bias-log CSV, session.toml), analysed by
# `perovscope run` into results + report.html, and a CsPbI3/ZIF-62 composite session (paper 000).
# Each run prints the report's path and a table of recovered against true quantities.
DEMO := out/demo
PS   := $(VENV)/bin/perovscope
demo: $(STAMP)
	rm -rf $(DEMO)
	$(PS) simulate device --as-files $(DEMO)/device --seed 0 --quiet
	$(PS) run $(DEMO)/device/session.toml
	mkdir -p $(DEMO)/composite
	$(PS) simulate composite --out $(DEMO)/composite/composite.zarr --seed 0 --quiet
	cp examples/composite/session.toml $(DEMO)/composite/session.toml
	$(PS) run $(DEMO)/composite/session.toml
	@echo "browse the device session: $(PS) view $(DEMO)/device/results"

clean:
	rm -rf $(VENV) $(BVENV) build *.egg-info src/*.egg-info .pytest_cache
