# The two commands: `make demo` and `make test`. Each sets itself up idempotently on a fresh machine:
# a venv in .venv, the Python packages, the Neo4j jars (Maven Central), Debian's redis-server.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: all venv services demo test bench lint typecheck down clean

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

demo: services
	$(BIN)/skypath demo

test: services
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
