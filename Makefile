# anonmsg: `make run` starts the product, `make test` runs the suite. Both set themselves up.
#
#   make run                  web server + task worker on http://127.0.0.1:8000/ (Ctrl-C stops both)
#   make test                 the whole suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
#   PORT=8080 make run        another port;  DATABASE_URL=postgres://... make run   PostgreSQL
#   make test PYTEST_ARGS="tests/anonmsg -x"
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
export PORT HOST

.PHONY: run test fuzz lint format install install-dev bench bench-tracking bench-ingest bench-floor bench-delivery bench-metrics bench-slow-clients clean help

help:  ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | expand -t 14

run: install  ## Migrate, seed the demo, start the web server and the task worker (Ctrl-C stops both)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  anonmsg is starting at http://$(HOST):$(PORT)/  (log in with the demo login above)"
	@echo "  Demo website with an anonymous message: http://$(HOST):$(PORT)/demo/pricing/"
	@echo "  Ctrl-C stops the web server and the worker."
	@echo ""
	@# The access log on, as developers expect in their terminal (off by default in production).
	@WEB_ACCESS_LOG=$${WEB_ACCESS_LOG-1} $(BIN)/honcho start -f Procfile

test: install-dev  ## Run the whole suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
	$(BIN)/pytest $(PYTEST_ARGS)

FUZZ_MAX_EXAMPLES ?= 100
FUZZ_MAX_TIME ?= 600
FUZZ_SEED ?= random

fuzz: install-dev  ## Fuzz the APIs against their OpenAPI document for FUZZ_MAX_TIME s (PostgreSQL)
	FUZZ_MAX_EXAMPLES=$(FUZZ_MAX_EXAMPLES) FUZZ_MAX_TIME=$(FUZZ_MAX_TIME) FUZZ_SEED=$(FUZZ_SEED) \
	  $(BIN)/pytest -p no:cacheprovider -s tests/anonmsg/test_openapi_fuzz.py $(PYTEST_ARGS)

lint: install-dev  ## Lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev  ## Fix lint and formatting
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

BENCH_DATABASE_URL ?= $(or $(DATABASE_URL),postgres://postgres@127.0.0.1:5432/anonmsg)

bench: bench-tracking bench-delivery  ## Tracking and delivery benchmarks on PostgreSQL; see bench/README.md

bench-tracking: install-dev
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/tracking.py $(BENCH_ARGS)

bench-ingest: install-dev  ## Batch ingestion: events/s and server CPU per event (PostgreSQL)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/event_ingest.py $(BENCH_ARGS)

bench-floor: install-dev  ## Storing an event at the least (COPY) next to the product's write: CPU per event, no HTTP
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/event_floor.py $(BENCH_ARGS)

bench-delivery: install-dev  ## wrk against the Procfile's web command: no-op, new and returning visitors (needs wrk, hey)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/delivery.py $(BENCH_ARGS)

bench-metrics: install-dev  ## 10M-event metrics benchmark (long; BENCH_ARGS="--events 300000" for a quick run)
	DATABASE_URL=$(BENCH_DATABASE_URL) $(BIN)/python bench/metrics.py $(BENCH_ARGS)

bench-slow-clients: install  ## Slow-header clients vs gunicorn, alone and behind deploy/nginx (needs nginx; ~35 s)
	$(BIN)/python bench/slow_clients.py $(BENCH_ARGS)

$(BIN)/python:
	@PY="$$(bin/find-python)" || exit 1; \
	echo "Creating $(VENV) with $$PY"; \
	"$$PY" -m venv $(VENV) || { rm -rf $(VENV); \
	  echo "Could not create $(VENV). On Debian/Ubuntu: apt-get install python3-venv" >&2; exit 1; }
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python bin/requirements > $(VENV)/requirements.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements.txt
	@touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python bin/requirements dev > $(VENV)/requirements-dev.txt
	$(BIN)/pip install --quiet -r $(VENV)/requirements-dev.txt
	@touch $(VENV)/.installed $@

clean:  ## Remove the virtualenv and generated files (keeps db.sqlite3)
	rm -rf $(VENV) staticfiles .pytest_cache .ruff_cache build *.egg-info
