# Two commands on a fresh machine: `make run` and `make test`. Each sets up its own
# virtual environment first; nothing has to be installed by hand.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: run simulator test lint typecheck bench clean

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

# The proxy tests run Debian's nginx with deploy/nginx.conf (tests/standins/proxy.py). Where it
# is missing, root with apt-get installs it; anyone else goes on without it, and those tests skip
# with one line saying how to enable them (under CI=true they fail instead).
.PHONY: nginx
nginx:
	@if command -v nginx >/dev/null || [ -x /usr/sbin/nginx ]; then \
		:; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		echo "Installing nginx from Debian's packages for the proxy tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends nginx >/dev/null \
			|| echo "Could not install nginx: the proxy tests will skip"; \
	fi

BENCH_STAMP := $(VENV)/.installed-bench

$(BENCH_STAMP): $(STAMP)
	$(BIN)/pip install --quiet -e '.[test,bench]'
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache .import_linter_cache
