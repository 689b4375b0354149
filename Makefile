# gridmap: `make demo` sets everything up and serves the app; `make test` sets up and runs the suite.
# Everything is installed by the project itself: Debian packages (PostgreSQL 15, PostGIS 3,
# pgRouting, Redis, Chromium) when missing, a Python venv, npm front-end assets, a private database
# cluster under .gridmap/ on port $(GRIDMAP_PGPORT) and a private Redis (rate-limit counters shared
# by all web workers) on port $(GRIDMAP_REDIS_PORT).

SHELL := /bin/bash
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
GRIDMAP_PGPORT ?= 54329
export GRIDMAP_PGPORT
GRIDMAP_REDIS_PORT ?= 54330
export GRIDMAP_REDIS_PORT
STATE := .gridmap
ENVFILE := $(STATE)/env
PORT ?= 5000

.PHONY: help setup system-deps venv assets translations env db redis migrate demo-data demo serve test lint bench clean

help:
	@echo "make demo   set up everything, load the demo data, serve on http://127.0.0.1:$(PORT)"
	@echo "make test   set up everything and run the whole test suite on a real PostGIS"
	@echo "make lint   ruff, mypy --strict and the import-linter contracts"
	@echo "make bench  benchmarks on the city-scale data (see bench/README.md)"
	@echo "make clean  stop the private database and Redis, remove .gridmap/, .venv/, node_modules/"

setup: system-deps venv assets translations db redis migrate

system-deps:
	@scripts/install-system-deps.sh

$(BIN)/.installed: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -e '.[dev]'
	touch $@

venv: $(BIN)/.installed

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

assets: node_modules/.installed

translations: venv
	@set -o pipefail; $(BIN)/pybabel compile -d gridmap/translations 2>&1 | { grep -v "^compiling catalog" || true; }

# The database URLs below are for clusters made before passwords (trust, one superuser role);
# on a new cluster scripts/devdb.sh replaces them with the owner and app roles' (and passwords).
$(ENVFILE):
	mkdir -p $(STATE)
	@install -m 600 /dev/null $@.tmp  # holds the secret key: readable by its owner only
	@echo "GRIDMAP_DATABASE_URL=postgresql://postgres@127.0.0.1:$(GRIDMAP_PGPORT)/gridmap" > $@.tmp
	@echo "GRIDMAP_TEST_DATABASE_URL=postgresql://postgres@127.0.0.1:$(GRIDMAP_PGPORT)/gridmap_test" >> $@.tmp
	@echo "GRIDMAP_SECRET_KEY=$$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')" >> $@.tmp
	mv $@.tmp $@

# Settings added after a checkout's env file was written are appended once, keeping its secret.
env: $(ENVFILE)
	@chmod 600 $(ENVFILE)  # also for checkouts made before the file was created private
	@grep -q '^GRIDMAP_RATELIMIT_STORAGE_URL=' $(ENVFILE) || \
		echo "GRIDMAP_RATELIMIT_STORAGE_URL=redis://127.0.0.1:$(GRIDMAP_REDIS_PORT)/0" >> $(ENVFILE)

db: env
	@scripts/devdb.sh start

redis: env
	@scripts/devredis.sh start

migrate: db venv
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap db upgrade

demo-data: setup
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap demo load --scale $${SCALE:-districts}
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap demo accounts
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap escalate
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap coverage compute --all --if-missing

demo: demo-data
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap serve --host 127.0.0.1 --port $(PORT)

serve: setup
	@set -a; source $(ENVFILE); set +a; $(BIN)/gridmap serve --host 127.0.0.1 --port $(PORT)

test: setup
	@set -a; source $(ENVFILE); set +a; $(BIN)/pytest $(PYTEST_ARGS)

lint: | venv
	$(BIN)/ruff check gridmap tests bench
	$(BIN)/mypy --strict gridmap
	$(BIN)/lint-imports

bench: setup
	@set -a; source $(ENVFILE); set +a; $(BIN)/python bench/locate_bench.py

clean:
	-scripts/devdb.sh stop
	-scripts/devredis.sh stop
	rm -rf $(STATE) $(VENV) node_modules
