# relcrm: `make run` sets up and serves; `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip -q --disable-pip-version-check

.PHONY: run serve test lint format install install-dev migrate bench-data bench clean

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements-dev.txt requirements.txt | $(VENV)/bin/python
	$(PIP) install -r requirements-dev.txt
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

# With DEBUG off the settings refuse to load without a SECRET_KEY. The suite, the linters,
# the migrations and the benchmarks sign nothing that outlives them, so they get a fixed
# one unless SECRET_KEY is set; `make run` keeps a random one in var/ (bin/serve).
TOOL_KEY := SECRET_KEY=$${SECRET_KEY:-not-secret-for-tests-linters-and-benchmarks-only}

migrate: install
	$(TOOL_KEY) $(PY) manage.py migrate --noinput

## Set up everything and serve on http://127.0.0.1:8000 with a Celery worker and beat
## (bin/serve starts the embedded PostgreSQL first when DATABASE_URL is unset, migrates
## and seeds an empty database, and stops the server again when it stops).
run: install
	DEBUG=$${DEBUG-1} PY=$(PY) bin/serve

## Run the whole suite: on the embedded PostgreSQL when DATABASE_URL is unset (in a
## throwaway test database); the Redis tests need REDIS_URL.
test: install-dev
	$(TOOL_KEY) $(VENV)/bin/pytest $(PYTEST_ARGS)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	@# The django-stubs plugin imports the settings; a placeholder DATABASE_URL keeps it from
	@# starting the embedded server (mypy never connects).
	$(TOOL_KEY) DATABASE_URL=$${DATABASE_URL:-postgres://mypy@localhost/mypy} $(VENV)/bin/mypy .
	$(TOOL_KEY) $(PY) manage.py makemigrations --check --dry-run
	$(TOOL_KEY) $(PY) manage.py spectacular --validate --fail-on-warn --file /dev/null

format: install-dev
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	[ ! -x $(PY) ] || $(PY) -m relcrm.embedded stop
	rm -rf var/ staticfiles/ .pytest_cache .ruff_cache

## Load the reference data set (docs/architecture.md, "Performance") into the PostgreSQL of
## DATABASE_URL (its project tables are emptied). SCALE=0.1 for a tenth of it.
bench-data: install
	$(TOOL_KEY) $(PY) -m benchmarks.generate

## Time every scenario next to its floor: prints the table and writes it to
## benchmarks/results/ (needs bench-data at the same SCALE, and wrk).
bench: install
	$(TOOL_KEY) $(PY) -m benchmarks.run
