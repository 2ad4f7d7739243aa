# perovscope — developer commands.  `make test` works on a machine with only python3, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

BVENV  := .venv-bench
BPY    := $(BVENV)/bin/python
BSTAMP := $(BVENV)/.installed

.PHONY: test lint install bench-install bench bench-test demo clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(STAMP): $(PY) pyproject.toml
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(PY) -m ruff check src tests benchmarks
	$(PY) -m pytest -q --timeout=600

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

clean:
	rm -rf $(VENV) $(BVENV) build *.egg-info src/*.egg-info .pytest_cache
