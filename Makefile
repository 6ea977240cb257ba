# Two set-up commands: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUN_STAMP := $(VENV)/.installed-run
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: demo test lint test-deps bench bench-security clean

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

test: lint test-deps
	$(BIN)/pytest

bench: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.run
	$(BIN)/python -m benchmarks.audit_log

# Content scanning on AgentDojo and generated corpora (offline, a few minutes)
bench-security: $(DEV_STAMP)
	$(BIN)/python -m benchmarks.security

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
