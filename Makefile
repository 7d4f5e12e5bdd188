# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export HOST PORT

.PHONY: install lock run dev prod test test-tables migrate seed worker create-admin logs clean lint format \
	typecheck bench compose-check

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

run: $(STAMP) ## migrate the SQLite database, load demo data, serve on HOST:PORT
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	$(BIN)/restaurant serve

dev: $(STAMP) ## like run, with auto-reload
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	$(BIN)/restaurant serve --reload

prod: $(STAMP) ## gunicorn with uvicorn workers; refuses settings unfit for production
	$(BIN)/restaurant preflight --workers $(WORKERS)
	$(BIN)/restaurant migrate
	PROMETHEUS_MULTIPROC_DIR=$${PROMETHEUS_MULTIPROC_DIR:-$(CURDIR)/.metrics} \
		$(BIN)/gunicorn 'app.main:create_app()' -c python:app.gunicorn_conf \
		-w $(WORKERS) -b $(HOST):$(PORT)

test: $(STAMP) ## the whole suite (PostgreSQL too when TEST_POSTGRES_URL is set)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
