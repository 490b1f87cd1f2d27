# Two commands on a fresh machine: `make run` and `make test`. Each sets up its own
# virtual environment first; nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run simulator test lint typecheck postgresql bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/kodebayar run

simulator: $(STAMP)
	$(BIN)/kodebayar simulator

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/hadolint Dockerfile
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

# Workers for the test suite (pytest-xdist); TEST_WORKERS=0 runs it in this one process.
TEST_WORKERS ?= 4

test: lint typecheck postgresql
	$(BIN)/pytest -n $(TEST_WORKERS)

# The suite runs on PostgreSQL too, on throwaway servers of its own (tests/engines.py). Where
# PostgreSQL is missing, root with apt-get installs Debian's; anyone else goes on without it, and
# the suite says how to enable it (under CI=true it fails instead).
postgresql:
	@if ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1 || command -v pg_ctl >/dev/null; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing PostgreSQL from Debian's packages for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends postgresql >/dev/null \
			|| echo "Could not install PostgreSQL: the tests will run on SQLite only"; \
	fi

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
