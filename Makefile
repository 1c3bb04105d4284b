# Two entry points, both safe to run twice:  `make demo`  and  `make test`.
# `make setup` makes .venv (pinned by constraints.txt) and builds the Neo4j launcher once.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# docker compose users keep NEO4J_URI / NEO4J_PASSWORD in .env (see .env.example)
-include .env
export

.PHONY: setup demo test lint
setup: $(VENV)/.installed neo4j-launcher/target/neo4j-launcher.jar

$(VENV)/.installed: pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -c constraints.txt -e '.[dev]'
	touch $@

neo4j-launcher/target/neo4j-launcher.jar: neo4j-launcher/pom.xml $(wildcard neo4j-launcher/src/main/java/lmgnn/launcher/*.java) $(VENV)/.installed
	$(PY) -c "from lmgnn.db import server; server.build()"

demo: setup
	$(VENV)/bin/lmgnn demo

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check app loaders tests benchmarks
