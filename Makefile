# Two set-up commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev
# CrewAI and Strands Agents need mcp 1.x, which the dev extra excludes: their adapters'
# tests run in a second, smaller environment (docs/adapters.md)
ALT_VENV := .venv-adapters-alt
ALT_STAMP := $(ALT_VENV)/.installed
ALT_TESTS := tests/adapters/test_crewai.py tests/adapters/test_strands.py

.PHONY: demo test test-adapters-alt lint test-deps bench bench-security clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade "pip>=24"

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev,bench,security]"
	touch $(DEV_STAMP) $(RUN_STAMP)

demo: $(RUN_STAMP)
	$(BIN)/proctor demo

lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy
	$(BIN)/lint-imports

# Non-Python parts the tests drive (Chromium, Node MCP servers, Node 22 and the MCP
# conformance suite): scripts/test-deps/
test-deps: $(DEV_STAMP)
	bash scripts/install-test-deps.sh

$(ALT_STAMP): pyproject.toml
	$(PYTHON) -m venv $(ALT_VENV)
	$(ALT_VENV)/bin/pip install --quiet --upgrade "pip>=24"
	$(ALT_VENV)/bin/pip install --quiet -e ".[adapters-alt-test]"
	touch $(ALT_STAMP)

test: lint test-deps
	$(BIN)/pytest
	$(MAKE) test-adapters-alt

# Only the frameworks' own tests, and they must not skip: a framework missing there fails.
test-adapters-alt: $(ALT_STAMP)
	PROCTOR_ADAPTERS_ALT=1 $(ALT_VENV)/bin/pytest $(ALT_TESTS)

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.audit_log

# Content scanning on AgentDojo and generated corpora (offline, a few minutes)
bench-security: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.security

clean:
	rm -rf $(VENV) $(ALT_VENV) .mypy_cache .pytest_cache .ruff_cache
