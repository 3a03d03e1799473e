# The two commands: `make demo` and `make test`. Each sets itself up idempotently on a fresh machine:
# a venv in .venv, the Python packages, the Neo4j jars (Maven Central), Debian's redis-server.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all venv services console browser demo test bench lint typecheck down clean

all: test

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

venv: $(STAMP)

services: venv
	$(BIN)/skypath services up

# The web console (frontend/) built into backend/static/console, rebuilt only when a source is newer.
CONSOLE := backend/static/console/index.html
CONSOLE_SOURCES := $(shell find frontend/src -type f 2>/dev/null) frontend/index.html frontend/package.json \
	frontend/package-lock.json frontend/vite.config.ts frontend/tsconfig.json

$(CONSOLE): $(CONSOLE_SOURCES)
	cd frontend && npm ci --no-audit --no-fund && npm run build
	touch $(CONSOLE)

console: $(CONSOLE)

# Debian's chromium for the browser tests (tests/browser drive it with Playwright; no browser download)
browser:
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)

demo: services console
	$(BIN)/skypath demo

test: services console browser
	$(BIN)/pytest -q tests

bench: services
	cd bench && ../$(BIN)/python run_all.py

lint: venv
	$(BIN)/ruff check backend graph_schema loaders checks tests bench

typecheck: venv
	$(BIN)/mypy backend graph_schema loaders checks

down: venv
	$(BIN)/skypath services down

clean: down
	rm -rf .skypath
