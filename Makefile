# Quick start: `make demo` and `make test` on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/cartscope demo --out cartscope-demo

# Two worker processes, one test file each at a time (files share module fixtures).
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2 --dist loadfile

clean:
	rm -rf $(VENV) cartscope-demo

# Benchmarks against R and Python peers; rewrites docs/benchmarks.md and the raw run it is rendered from, docs/benchmarks.json.
# lifelines pins pandas<3, which would downgrade the project's pandas: its own dependencies
# are installed first and lifelines itself without them (it runs on pandas 3).
.PHONY: bench
bench: $(STAMP)
	$(BIN)/python -m pip install --quiet 'scikit-learn>=1.3' 'autograd>=1.5' 'autograd-gamma>=0.3' 'formulaic>=0.2.2'
	$(BIN)/python -m pip install --quiet --no-deps 'lifelines>=0.27'
	$(BIN)/cartscope bench --out docs/benchmarks.md --json docs/benchmarks.json
