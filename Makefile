# Two commands for a new machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 2
export HOST PORT

.PHONY: install run dev prod test test-tables migrate seed worker create-admin logs clean lint format \
	typecheck bench compose-check

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "Python 3.11 or newer is required (found $$($(PYTHON) --version))"; exit 1; }
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

run: $(STAMP) ## migrate the SQLite database, load demo data, serve on HOST:PORT
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	$(BIN)/restaurant serve

dev: $(STAMP) ## like run, with auto-reload
	$(BIN)/restaurant migrate
	$(BIN)/restaurant seed-demo
	$(BIN)/restaurant serve --reload

prod: $(STAMP) ## gunicorn with uvicorn workers
	$(BIN)/restaurant migrate
	$(BIN)/gunicorn 'app.main:create_app()' -k uvicorn.workers.UvicornWorker \
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

compose-check: ## validate docker-compose.yml (and the override) without starting anything
	@if docker compose version >/dev/null 2>&1; then docker compose config --quiet; \
	else docker-compose config --quiet; fi && echo "docker-compose.yml: valid"

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: $(STAMP) ## load test against a server this target starts (see bench/README)
	$(BIN)/python -m bench $(BENCH_ARGS)

clean:
	find . -path ./$(VENV) -prune -o -type d -name __pycache__ -exec rm -rf {} +
	rm -rf .pytest_cache .mypy_cache .ruff_cache .hypothesis build *.egg-info
