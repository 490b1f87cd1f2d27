# Two commands on a fresh machine: `make run` and `make test`. Each sets up its own
# virtual environment first; nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run simulator test lint typecheck bench clean nginx

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

test: lint typecheck nginx
	$(BIN)/pytest -n $(TEST_WORKERS)

# The proxy tests run Debian's nginx with deploy/nginx.conf (tests/standins/proxy.py). It is
# installed here when missing, if this runs as root with apt-get (as CI does); otherwise those
# tests skip with one line saying so, and fail under CI=true.
nginx:
	@if ! command -v nginx >/dev/null && [ ! -x /usr/sbin/nginx ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing Debian's nginx for the proxy tests"; \
	    apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null; \
	  else \
	    echo "nginx is missing and only root with apt-get installs it: the proxy tests will skip"; \
	  fi; \
	fi

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
