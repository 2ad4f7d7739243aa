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

# A first session on simulated data with ground truth (the README's tour); results in out/demo.
DEMO := out/demo
PS   := $(VENV)/bin/perovscope
demo: $(STAMP)
	mkdir -p $(DEMO)
	$(PS) simulate device --out $(DEMO)/device.zarr --frames 4 --bias-log $(DEMO)/bias_log.csv
	$(PS) strain $(DEMO)/device.zarr --out $(DEMO)/strain.zarr
	$(PS) edx $(DEMO)/device.zarr --elements Cs Pb Br Cl Al --bin 2 --out $(DEMO)/edx.zarr
	$(PS) register $(DEMO)/device.zarr --cross-section --out $(DEMO)/drift.zarr
	$(PS) simulate composite --out $(DEMO)/composite.zarr
	$(PS) cl $(DEMO)/composite.zarr --out $(DEMO)/cl.zarr
	$(PS) eels $(DEMO)/composite.zarr --background-window 580 615 --out $(DEMO)/eels.zarr
	$(PS) particles $(DEMO)/composite.zarr --out $(DEMO)/particles.csv
	$(PS) inspect $(DEMO)/strain.zarr
	@echo "demo results in $(DEMO)/ (zarr stores, PNG summaries, CSV tables)"

clean:
	rm -rf $(VENV) $(BVENV) build *.egg-info src/*.egg-info .pytest_cache
