# Two entry points, both safe to run twice:  `make demo`  and  `make test`.
# `make setup` makes .venv (pinned by constraints.txt) and builds the Neo4j launcher once;
# `make lint` runs ruff and mypy (`make typecheck`: mypy alone).
VENV ?= .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# docker compose users keep NEO4J_URI / NEO4J_PASSWORD in .env (see .env.example)
-include .env
export

.PHONY: setup demo test lint typecheck FORCE
setup: $(VENV)/.installed neo4j-launcher/target/neo4j-launcher.jar

# A strict editable install: build/__editable__.lmgnn-*/lmgnn/ is a tree of links into app/,
# loaders/ and cypher/ that mypy, pyright and IDEs can read (the default mode maps lmgnn -> app/
# through an import hook no analyser runs). Links are per file, so the install is redone
# whenever the list of files changes (.sources below): after adding or renaming a module, run
# `make setup` (make test/lint/demo do it too) before importing it.
# (setuptools announces that link directory as a warning on every install: that notice, and
# only it, is filtered.)
$(VENV)/.installed: pyproject.toml constraints.txt $(VENV)/.sources
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	PYTHONWARNINGS='ignore:Editable installation' \
	  $(PY) -m pip install -q -c constraints.txt -e '.[dev]' --config-settings editable_mode=strict
	touch $@

SOURCES := $(shell find app loaders cypher -type f ! -name '*.pyc' ! -path '*/__pycache__/*' \
                    2>/dev/null | LC_ALL=C sort)
$(VENV)/.sources: FORCE
	@mkdir -p $(VENV)
	@echo '$(SOURCES)' | cmp -s - $@ || echo '$(SOURCES)' > $@

neo4j-launcher/target/neo4j-launcher.jar: neo4j-launcher/pom.xml $(wildcard neo4j-launcher/src/main/java/lmgnn/launcher/*.java) $(VENV)/.installed
	$(PY) -c "from lmgnn.db import server; server.build()"

demo: setup
	$(VENV)/bin/lmgnn demo

test: setup
	$(PY) -m pytest -q

lint: setup
	$(VENV)/bin/ruff check app loaders tests benchmarks
	$(VENV)/bin/mypy

typecheck: setup   # mypy over app/ and loaders/ ([tool.mypy] in pyproject.toml)
	$(VENV)/bin/mypy
