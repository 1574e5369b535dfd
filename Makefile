# anonmsg: `make run` starts the product, `make test` runs the suite. Both set themselves up.
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
export PORT

.PHONY: run test lint format install install-dev browsers bench clean

run: install  ## Migrate, seed the demo, start the web server and the task worker (Ctrl-C stops both)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  anonmsg is starting on http://127.0.0.1:$(PORT)/  (Ctrl-C stops the web server and the worker)"
	@echo ""
	$(BIN)/honcho start --no-prefix -f Procfile 2>&1 || true

test: install-dev  ## Run the whole suite (PostgreSQL when DATABASE_URL is set, SQLite otherwise)
	$(BIN)/pytest

lint: install-dev  ## Lint and check formatting
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install-dev
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install-dev  ## Benchmarks (need DATABASE_URL pointing at PostgreSQL); see bench/README.md
	$(BIN)/python bench/run.py

$(BIN)/python:
	@PY=$$(bin/find-python) && echo "Creating $(VENV) with $$PY" && $$PY -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(VENV)/.installed
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet .
	@touch $@

install-dev: $(VENV)/.installed-dev
$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet ".[dev]"
	@touch $(VENV)/.installed $@

clean:
	rm -rf $(VENV) staticfiles .pytest_cache build *.egg-info
