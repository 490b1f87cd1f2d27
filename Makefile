# Two commands on a fresh machine: `make run` and `make test`. Each sets up its own
# virtual environment first; nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run simulator test lint typecheck debian-packages bench clean

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

test: lint typecheck debian-packages
	$(BIN)/pytest -n $(TEST_WORKERS)

# The suite runs on PostgreSQL too, on throwaway servers of its own (tests/engines.py), and
# puts the real nginx with deploy/nginx.conf in front of several bots (tests/standins/proxy.py).
# Where either is missing, root with apt-get installs Debian's; anyone else goes on without it,
# and the suite says in one line how to enable what it left out (under CI=true it fails instead).
# $(call debian_package,<command that finds it>,<package>,<what the tests do without it>)
define debian_package
	@if { $(1); } >/dev/null 2>&1; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing $(2) from Debian's packages for the tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $(2) >/dev/null \
			|| echo "Could not install $(2): $(3)"; \
	fi
endef

debian-packages:
	$(call debian_package,ls /usr/lib/postgresql/*/bin/pg_ctl || command -v pg_ctl,postgresql,the tests run on SQLite only)
	$(call debian_package,command -v nginx || ls /usr/sbin/nginx,nginx,the proxy tests skip)

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
