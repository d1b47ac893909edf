# p2pcommons task runner. `make` lists the targets.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PY := $(BIN)/python

.DEFAULT_GOAL := help
.PHONY: help run test lint format migrate seed bench mutate schema audit reliability clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

$(PY):
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "Python 3.11 is needed (set PYTHON=/path/to/python3.11)"; exit 1; }
	$(PYTHON) -m venv $(VENV)

$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

# `make run PORT=8123` (or `PORT=8123 make run`) serves on another port. honcho gives
# each process type its own PORT counted from -p (web gets PORT itself), and links in
# emails follow the port unless SITE_URL is set (in the environment or in .env).
PORT ?= 8000

run: $(STAMP) ## Migrate, seed the demo neighborhood, serve http://127.0.0.1:$PORT/ (default 8000) with a worker and beat
	$(PY) manage.py migrate --noinput
	$(PY) manage.py seed_demo
	$(PY) manage.py collectstatic --noinput --verbosity 0
	SITE_URL="$${SITE_URL:-http://127.0.0.1:$(PORT)}" $(BIN)/honcho start -f Procfile -p $(PORT)

test: $(STAMP) ## Lint, check migrations, run the whole test suite
	$(BIN)/ruff check .
	DJANGO_SETTINGS_MODULE=p2pcommons.settings.test $(PY) manage.py makemigrations --check --dry-run
	$(BIN)/pytest

lint: $(STAMP) ## ruff check and format check
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP) ## Format the code with ruff
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

migrate: $(STAMP) ## Apply migrations
	$(PY) manage.py migrate --noinput

seed: $(STAMP) ## Seed (or top up) the demo neighborhood
	$(PY) manage.py seed_demo

bench: $(STAMP) ## Every benchmark on PostgreSQL + Redis at city scale, one report (docs/performance.md); not part of `make test`
	$(PY) -m bench.run

# The tests of docs/reliability.md; their figures close the run and go to
# var/reliability.txt (tests/reliability.py). Run them with DATABASE_URL and REDIS_URL
# set, as CI does, or the ones needing servers skip.
RELIABILITY_TESTS := tests/faults tests/simulation tests/permissions tests/test_api_stateful.py \
	tests/api/test_schema_links.py tests/platform/test_health.py tests/platform/test_logging.py \
	tests/platform/test_backup_restore.py tests/platform/test_audit.py \
	tests/notifications/test_delivery_lease.py tests/privacy/test_export_reclaim.py

reliability: $(STAMP) ## Faults, simulation, permission matrix, stateful API: their figures to var/reliability.txt (part of `make test` too)
	$(BIN)/pytest -p no:cacheprovider -q $(RELIABILITY_TESTS)

mutate: $(STAMP) ## Mutation testing of the trust-critical code, score per module (not part of `make test`; 5-15 min)
	nice -n 10 $(PY) -m mutation.run $(MUTATE_ARGS)

schema: $(STAMP) ## Write the OpenAPI schema to openapi.yaml
	DJANGO_SETTINGS_MODULE=p2pcommons.settings.test $(PY) manage.py spectacular --file openapi.yaml --validate --fail-on-warn

audit: $(STAMP) ## pip-audit the installed packages (fails on a known vulnerability; says so and passes when offline)
	$(PY) scripts/audit.py

clean: ## Remove the virtualenv, local database and run-time files
	rm -rf $(VENV) var db.sqlite3 db.sqlite3-wal db.sqlite3-shm
