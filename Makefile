# Two commands on a fresh machine: `make run` and `make test`; `make` alone lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
# Node packages installed by install-dev: the socket.io-client, subsonic-api and waveform-data tests' and the TypeScript
# client's, each from its package-lock.json (so the tests never reach the npm registry).
NODE_DIRS := messaging/tests/node subsonic/tests/node processing/tests/node clients/typescript
NODE_STAMPS := $(addsuffix /node_modules/.installed,$(NODE_DIRS))
# What `make dev` watches: the Python packages of the project and the templates (never
# media/ nor .venv/, whose writes would restart the server for nothing).
WATCHED_DIRS := $(sort $(patsubst %/,%,$(dir $(wildcard */__init__.py)))) templates

.DEFAULT_GOAL := help
.PHONY: help prepare run dev admin test install install-dev lint format migrate schema client bench clean

help: ## List the targets (this)
	@echo "make <target>, with PORT=… and HOST=… for run and dev:"
	@awk 'BEGIN {FS = ":[^#]*## "} /^[a-z-]+:[^#]*## / {printf "  %-12s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

$(BIN)/python:
	@echo "Creating the virtualenv $(VENV)…"
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A new .env is the sample with a random SECRET_KEY of its own (the sample key is refused),
# readable by its owner only.
.env:
	umask 077 && key="$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" && \
	sed "s|^SECRET_KEY=.*|SECRET_KEY=$$key|" .env.sample > .env.tmp && mv .env.tmp .env

# Installs are stamped on pyproject.toml, so a second `make` skips them.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	@echo "Installing Python packages (first run takes about a minute)…"
	$(BIN)/pip install --quiet .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	@echo "Installing Python packages and the dev tools (first run takes a minute or two)…"
	$(BIN)/pip install --quiet ".[dev]"
	touch $(VENV)/.installed $@

# `npm ci` from the lock file, stamped on it; without npm the Node tests skip and say why.
%/node_modules/.installed: %/package-lock.json %/package.json
	@if command -v npm >/dev/null 2>&1; then \
	  echo "Installing Node packages in $* (npm ci)…"; \
	  (cd $* && npm ci --no-audit --no-fund --loglevel=error >/dev/null) && touch $@; \
	else \
	  echo "npm not found: skipping $* (apt install nodejs npm); its tests will be skipped."; \
	fi

install: $(VENV)/.installed .env ## Install the app's Python packages into .venv
install-dev: $(VENV)/.installed-dev $(NODE_STAMPS) .env ## Install everything the tests need (Python dev tools, Node packages)

migrate: install ## Apply the database migrations
	$(BIN)/python manage.py migrate --noinput

# What run and dev do before serving: static files, the demo catalog, the admin hint.
prepare: migrate
	@echo "Collecting static files and loading the demo catalog…"
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo_catalog
	$(BIN)/python manage.py seed_demo_playlists
	@$(BIN)/python manage.py admin_hint

# Before the server: a job worker beside it when DATABASE_URL is PostgreSQL (`jobs_worker` ends
# at once on SQLite, where jobs run in the server process; docs/JOBS.md), stopped with the
# server, on Ctrl-C too (the shell's exit trap).
WITH_JOB_WORKER = $(BIN)/python manage.py jobs_worker & worker=$$!; \
	trap 'kill $$worker 2>/dev/null; wait $$worker' EXIT; trap 'exit 130' INT TERM;

run: prepare ## Install, migrate, load the demo catalog and serve http://127.0.0.1:8000 (and a job worker on PostgreSQL)
	$(WITH_JOB_WORKER) $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT)

dev: prepare ## As run, restarting on every change to the code or templates
	$(WITH_JOB_WORKER) $(BIN)/uvicorn config.asgi:application --host $(HOST) --port $(PORT) --reload \
	  $(addprefix --reload-dir ,$(WATCHED_DIRS)) --reload-include '*.html'

admin: migrate ## Create an admin account (asks for an email and a password)
	$(BIN)/python manage.py createsuperuser

# REDIS_URL is emptied: the tests never use the developer's Redis (a .env may set it); the
# Redis tests start a redis-server of their own, or use TEST_REDIS_URL.
test: install-dev ## Run ruff, the import rules and the whole test suite
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo
	REDIS_URL= $(BIN)/pytest

# lint-imports checks the layers of docs/ARCHITECTURE.md (contracts in pyproject.toml).
lint: install-dev ## Check the code with ruff and the import rules
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-logo

format: install-dev ## Fix what ruff can and format the code
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install ## Write openapi.json from the code
	$(BIN)/python manage.py export_openapi_schema --api config.api.api --output openapi.json --indent 2

# The TypeScript client's types, clients/typescript/schema.d.ts, from openapi.json with the
# openapi-typescript pinned in clients/typescript/package-lock.json (installed by install-dev).
client: schema clients/typescript/node_modules/.installed ## Regenerate the TypeScript client's types from openapi.json
	cd clients/typescript && node scripts/generate.mjs ../../openapi.json schema.d.ts

# The project alone from a clone; ../shared/bench, when present, adds a comparison (bench/README.md).
SONGS ?= 10000
bench: install ## Benchmark the hot reads at SONGS songs on PostgreSQL with wrk (bench/README.md)
	bench/sizes.sh $(SONGS)

clean: ## Remove .venv, the Node packages, the built client, the collected static files and the tool caches
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache .import_linter_cache clients/typescript/dist $(addsuffix /node_modules,$(NODE_DIRS))
