# readerfund: `make demo` to try it, `make test` to check it. Nothing else is needed on a fresh machine.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
VAR := var
DEMO_PORT ?= 8000

.PHONY: install demo test lint typecheck test-python test-js bench system-deps clean

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

demo: install
	mkdir -p $(VAR)
	$(BIN)/readerfund demo --port $(DEMO_PORT)

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

bench: install system-deps
	$(BIN)/python -m bench

clean:
	rm -rf $(VENV) $(VAR)
