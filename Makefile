# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1

.PHONY: run test install install-dev lint format migrate schema client clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# A new .env is the sample with a random SECRET_KEY of its own (the sample key is refused),
# readable by its owner only.
.env:
	umask 077 && key="$$($(PYTHON) -c 'import secrets; print(secrets.token_urlsafe(50))')" && \
	sed "s|^SECRET_KEY=.*|SECRET_KEY=$$key|" .env.sample > .env.tmp && mv .env.tmp .env

# Installs are stamped on pyproject.toml, so a second `make` skips them.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed .env
install-dev: $(VENV)/.installed-dev .env

migrate: install
	$(BIN)/python manage.py migrate --noinput

run: migrate
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo_catalog
	$(BIN)/python manage.py seed_demo_playlists
	$(BIN)/uvicorn core.asgi:application --host $(HOST) --port $(PORT)

test: install-dev
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/pytest

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: install
	$(BIN)/python manage.py export_openapi_schema --api core.api.api --output openapi.json --indent 2

# The TypeScript client's types, clients/typescript/schema.d.ts, from openapi.json
# with the openapi-typescript pinned in clients/typescript/package-lock.json.
client: schema
	cd clients/typescript && npm ci --loglevel=error --no-audit --no-fund >/dev/null && node scripts/generate.mjs ../../openapi.json schema.d.ts

clean:
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache
