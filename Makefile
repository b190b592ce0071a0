# Lodestar — `make demo` runs it, `make test` tests it. Idempotent; everything lives in .venv.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8501
DAGSTER_PORT ?= 3000
export DAGSTER_HOME := $(CURDIR)

.PHONY: install dev demo dashboard test clean bench-jira

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test]"
	touch $@

install: $(VENV)/.installed

demo: install
	$(BIN)/lodestar demo
	$(BIN)/lodestar alerts run
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.port $(PORT) --server.headless true

dashboard: install
	$(BIN)/streamlit run dashboards/streamlit_app.py --server.port $(PORT) --server.headless true

dev: install
	$(BIN)/dagster dev -m pipelines.definitions -p $(DAGSTER_PORT)

test: install
	$(BIN)/python -m pytest

bench-jira: install
	$(BIN)/python benchmarks/jira_sync.py --runs 5

clean:
	rm -rf $(VENV) .dagster data .pytest_cache
