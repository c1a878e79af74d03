# GameStore — `make run` starts everything, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp

.PHONY: run test check audit bench clean

run: $(STAMP)
	$(BIN)/gamestore up --demo

test: $(STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r src

# Known vulnerabilities in the installed dependencies (needs PyPI's JSON API or OSV; fails when
# it cannot reach them rather than passing unaudited).
audit: $(STAMP)
	$(BIN)/pip-audit --strict --skip-editable --progress-spinner off

bench: $(STAMP)
	$(BIN)/python bench/eventstore.py
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/bus.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/purchase.py
	$(BIN)/python bench/sqlite_driver.py
	$(BIN)/python bench/web.py

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test,bench]'
	touch $(STAMP)

clean:
	rm -rf $(VENV) data logs .pytest_cache .mypy_cache .ruff_cache
