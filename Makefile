# The two commands a newcomer needs: `make demo` and `make test` (README.md).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: install demo test lint format migrate clean screenshot

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

migrate: install
	$(PY) manage.py migrate --noinput

# DEBUG defaults to False (a start without settings is a production one): the demo and the
# tests are development and say so. The demo's runserver then serves the static files too.
demo test migrate lint screenshot: export DEBUG ?= True

demo: migrate
	$(PY) manage.py seed_demo
	$(PY) manage.py rebuild_insights
	$(PY) manage.py ensure_demo_admin
	$(PY) manage.py runserver $(HOST):$(PORT)

test: install
	$(PY) -m pytest $(PYTEST_ARGS)

lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

screenshot: install  ## the README pictures (every page, both languages), from a running `make demo`
	$(PY) scripts/screenshot.py http://$(HOST):$(PORT) docs/screenshots

clean:
	rm -rf $(VENV) db.sqlite3* staticfiles
