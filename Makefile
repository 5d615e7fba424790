# The README's two commands: `make run` and `make test`. Both build .venv from scratch when
# it is missing (a fresh machine needs only Python 3.11, pip and gcc).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
export PATH := $(abspath $(VENV))/bin:$(PATH)

.PHONY: run test test-all install bench bench-quick bench-full bench-peers bench-report clean

$(VENV)/.installed: setup.cfg pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet swig setuptools wheel numpy
	# pyrfr (an optional extra) has no wheel: it builds from source with SWIG, without isolation
	$(PIP) install --quiet --no-build-isolation "pyrfr>=0.9"
	$(PIP) install --quiet -e ".[dev,pyrfr]"
	touch $@

install: $(VENV)/.installed

run: install
	$(PY) examples/quickstart.py

test: install
	$(PY) -m pytest -q -p no:cacheprovider

test-all: install
	$(PY) -m pytest -q -p no:cacheprovider -m "slow or not slow"

bench: install
	$(PY) -m benchmarks

# smacish next to its peers (docs/benchmarks.md): one venv per peer under .bench-venvs/
bench-peers: install
	$(PY) -m benchmarks setup-peers

bench-quick: install
	$(PY) -m benchmarks quick

bench-full: install
	$(PY) -m benchmarks full

bench-report: install
	$(PY) -m benchmarks report --variant full

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .hypothesis
