# perovscope — developer commands.  `make test` works on a machine with only python3, pip and make.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test lint install bench-install bench demo clean

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

bench-install: $(STAMP)
	$(PY) -m pip install --quiet -e ".[dev,bench]"

bench: bench-install
	$(PY) -m benchmarks.run_all

clean:
	rm -rf $(VENV) build *.egg-info src/*.egg-info .pytest_cache
