# readerfund: `make demo` to try it, `make test` to check it. Nothing else is needed on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VAR := var
DEMO_PORT ?= 8000

.PHONY: install demo demo-reset test test-fast test-pg test-one fmt lint typecheck test-python test-js bench chaos system-deps clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,demo]'
	touch $(STAMP)

install: $(STAMP)

# Browser tests drive Debian's chromium; benchmarks use wrk. Installed once, if missing.
system-deps:
	@command -v chromium >/dev/null && command -v wrk >/dev/null && command -v node >/dev/null || \
	  { echo "installing chromium, wrk and node from Debian (needs root)"; \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium wrk nodejs; }

# Keeps var/ (the demo's database, the emulator's state, the outbox) between runs; demo-reset starts afresh.
demo: install
	mkdir -p $(VAR)
	$(BIN)/readerfund demo --port $(DEMO_PORT)

demo-reset: install
	mkdir -p $(VAR)
	$(BIN)/readerfund demo --port $(DEMO_PORT) --reset

lint: install
	$(BIN)/ruff check --output-format concise readerfund tests bench
	$(BIN)/ruff format --check readerfund tests bench

typecheck: install
	$(BIN)/mypy readerfund

test-js:
	node --test readerfund/embed/tests/

test-python: install system-deps
	$(BIN)/python -m pytest -q

test: install system-deps lint typecheck test-js test-python

# Daily work (CONTRIBUTING.md): everything but the browser and chaos suites, on SQLite.
test-fast: install
	$(BIN)/python -m pytest -q -m "not browser" --ignore=tests/chaos

# The whole pytest suite on the local PostgreSQL (PG_URL), in a throw-away database of its own.
PG_URL ?= postgres://postgres@127.0.0.1:5432/postgres
PG_TEST_DB ?= test_readerfund
test-pg: install system-deps
	DATABASE_URL=$(PG_URL) TEST_DATABASE_NAME=$(PG_TEST_DB) $(BIN)/python -m pytest -q

# One test, a file or a -k expression: make test-one T=tests/core/test_money.py::test_add
test-one: install
	@test -n "$(T)" || { echo "say which: make test-one T=tests/x.py::test_y"; exit 2; }
	$(BIN)/python -m pytest -q $(T)

fmt: install
	$(BIN)/ruff check --fix readerfund tests bench
	$(BIN)/ruff format readerfund tests bench

# The long fault-injection runs (pytest marker `chaos`, left out of `make test`): 2,000 webhook deliveries
# with duplicates, forgeries and lost answers while the worker is killed and, on PostgreSQL (set
# DATABASE_URL), the database's connections are dropped. A few minutes on a 2-core machine.
chaos: install
	$(BIN)/python -m pytest -q -s -m chaos tests/chaos

bench: install system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(VAR)
