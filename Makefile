# Two commands: `make run` starts the app, `make test` runs every test. Both set up
# what they need from nothing (Python 3.11+ and pip), and reinstall only on change.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test browser bench clean

run: $(VENV)/.runtime-installed
	$(BIN)/python scripts/serve.py --server.headless true --server.address localhost --server.port $(PORT)

test: $(VENV)/.dev-installed browser
	$(BIN)/python -m pytest

browser:
	scripts/ensure-chromium

bench: $(VENV)/.dev-installed browser
	scripts/ensure-r
	$(BIN)/python -m bench.bench
	$(BIN)/python -m bench.large_data_bench
	$(BIN)/python -m bench.convergence_bench
	$(BIN)/python -m bench.app_bench
	$(BIN)/python -m bench.server_bench
	$(BIN)/python -m bench.bounded_bench

$(BIN)/python:
	$(PYTHON) -m venv $(VENV) || { $(PYTHON) -m pip install --user --quiet virtualenv && $(PYTHON) -m virtualenv $(VENV); }
	$(BIN)/python -m pip install --quiet --upgrade pip

# The compiled engine is built once here (one to two minutes), so no user waits for the compiler.
$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -c 'from gmm_core.engine import compile_engine; compile_engine()'
	touch $@

$(VENV)/.dev-installed: requirements-dev.txt requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet -r requirements-dev.txt
	$(BIN)/python -c 'from gmm_core.engine import compile_engine; compile_engine()'
	touch $(VENV)/.runtime-installed $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-artifacts
