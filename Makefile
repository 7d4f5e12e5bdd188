# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export HOST PORT

.PHONY: install lock run dev prod test test-python test-web test-tables migrate seed worker create-admin \
	logs clean lint format typecheck bench compose-check web web-if-node openapi

# Every dependency is installed at the version and hash requirements/dev.lock pins (the
# image installs requirements/base.lock): two machines get the same packages. `make lock`
# pins them again after pyproject.toml changes.
$(STAMP): pyproject.toml requirements/dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes -r requirements/dev.lock
	$(BIN)/python -m pip install --quiet --no-deps --no-build-isolation -e .
	@touch $(STAMP)

LOCK := $(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--all-build-deps --no-emit-index-url --no-emit-find-links
lock: $(STAMP) ## pin every dependency again (requirements/*.lock) from pyproject.toml
	$(LOCK) -o requirements/base.lock pyproject.toml
	$(LOCK) --extra dev -o requirements/dev.lock pyproject.toml

install: $(STAMP)

# The web app (web/): built when its sources changed, with Node.js 20.19+ and npm.
NODE_OK := $(shell node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null && command -v npm >/dev/null && echo yes)
WEB_SOURCES := $(shell find web/src web/public -type f 2>/dev/null) web/index.html web/vite.config.ts \
	web/tsconfig.json web/package.json
web/node_modules/.installed: web/package-lock.json
	cd web && npm ci --no-audit --no-fund
	@touch $@

web/dist/index.html: web/node_modules/.installed $(WEB_SOURCES)
	cd web && npm run build

web: web/dist/index.html ## build the web app (needs Node.js 20.19+ and npm)

web-if-node:
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory web
else
	@echo "Node.js 20.19+ and npm were not found: serving the API only (the pages at / say so)."
	@echo "For the web app install Node.js 20 or newer with npm, then run make run again."
endif

openapi: $(STAMP) web/node_modules/.installed ## regenerate web/openapi.json and web's API client
	cd web && RESTAURANT_BIN=$(CURDIR)/$(BIN)/restaurant npm run generate

run: $(STAMP) web-if-node ## build the web app, migrate SQLite, load demo data, serve (e-mails to outbox-mail/)
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	MAIL_OUTPUT_DIR=$${MAIL_OUTPUT_DIR:-outbox-mail} $(BIN)/restaurant serve

dev: $(STAMP) web-if-node ## like run, with auto-reload
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	MAIL_OUTPUT_DIR=$${MAIL_OUTPUT_DIR:-outbox-mail} $(BIN)/restaurant serve --reload

prod: $(STAMP) ## gunicorn with uvicorn workers; refuses settings unfit for production
	$(BIN)/restaurant preflight --workers $(WORKERS)
	$(BIN)/restaurant migrate
	PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/.metrics} \
		$(BIN)/gunicorn 'app.main:create_app()' -c python:app.gunicorn_conf \
		-w $(WORKERS) -b $(HOST):$(PORT)

# The web app's tests run first so that pytest's summary is the last line of a passing run.
test: $(STAMP) ## web app tests (unit, browser), then the Python suite; PostgreSQL too with TEST_POSTGRES_URL
ifeq ($(NODE_OK),yes)
	@$(MAKE) --no-print-directory test-web
else
	@echo "Node.js 20.19+ and npm were not found: the web app's tests were NOT run."
	@test -z "$(CI)" || { echo "CI needs Node.js for the web app's tests"; exit 1; }
endif
	$(BIN)/python -m pytest $(PYTEST_ARGS)

test-python: $(STAMP) ## the Python suite only
	$(BIN)/python -m pytest $(PYTEST_ARGS)

CHROMIUM_PATH ?= /usr/bin/chromium
export CHROMIUM_PATH
test-web: $(STAMP) web ## the web app's unit tests and its browser tests (Debian's chromium)
	@test -x "$(CHROMIUM_PATH)" || { echo "The browser tests need Chromium at $(CHROMIUM_PATH): \
	apt-get install chromium (or set CHROMIUM_PATH)"; exit 1; }
	cd web && npm test
	cd web && RESTAURANT_PYTHON=$(CURDIR)/$(BIN)/python npx playwright test

test-tables: $(STAMP) ## table and seat management tests only
	$(BIN)/python -m pytest tests/floor -v $(PYTEST_ARGS)

migrate: $(STAMP)
	$(BIN)/restaurant migrate

seed: $(STAMP)
	$(BIN)/restaurant seed-demo

worker: $(STAMP) ## send queued e-mails (run beside `make prod` with OUTBOX_IN_PROCESS=false)
	$(BIN)/restaurant worker

create-admin: $(STAMP) ## make EMAIL=... PASSWORD=... an admin (creates or promotes the account)
	@test -n "$(EMAIL)" -a -n "$(PASSWORD)" || \
		{ echo "usage: make create-admin EMAIL=you@example.com PASSWORD=..."; exit 2; }
	$(BIN)/restaurant create-admin --email "$(EMAIL)" --password "$(PASSWORD)"

logs: ## follow the app's logs in docker compose
	docker compose logs -f app

lint: typecheck
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(STAMP)
	$(BIN)/mypy app tests bench

compose-check: ## validate docker-compose.yml (alone, and with the dev file) without starting anything
	docker compose -f docker-compose.yml config --quiet
	docker compose -f docker-compose.yml -f docker-compose.dev.yml config --quiet
	@echo "docker-compose.yml and docker-compose.dev.yml: valid"

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## load test against a server this target starts (see bench/README)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
