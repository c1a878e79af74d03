# GameStore — `make run` starts everything, `make test` runs every test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-stamp
LOCK   := requirements.lock
# axe-core and Lighthouse for the browser tests and bench/lighthouse.py, pinned by package-lock.json
NODE_STAMP := node_modules/.installed-stamp

.PHONY: run test check audit lock bench reset clean

run: $(STAMP)
	$(BIN)/gamestore up --demo

test: $(STAMP) $(NODE_STAMP)
	$(BIN)/pytest

check: $(STAMP)
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench
	$(BIN)/mypy
	$(BIN)/bandit -q -c pyproject.toml -r src
	@# what is installed is what is locked (and so what `make audit` audits)
	@$(BIN)/python -m pip freeze --exclude-editable > $(VENV)/installed.txt
	@grep -v '^#' $(LOCK) | diff -u --label $(LOCK) --label '$(VENV) (pip freeze)' - \
		$(VENV)/installed.txt || { echo 'check: $(VENV) differs from $(LOCK): a dependency' \
		'changed in pyproject.toml without `make lock`, or one was installed by hand' >&2; exit 1; }

# Known vulnerabilities in the locked dependencies, from PyPI's per-release vulnerability data.
# Fails on a vulnerable pin, and on any pin it could not audit (PyPI unreachable, or an index
# that serves no vulnerability data): never a pass without an audit.
audit: $(STAMP)
	$(BIN)/pip-audit --strict --disable-pip --no-deps -r $(LOCK) --progress-spinner off \
		|| { echo 'audit: FAILED: a locked dependency is vulnerable (raise it with `make lock`),' \
		'or its vulnerability data could not be had' >&2; exit 1; }

# Re-resolve every dependency to the newest release pyproject.toml allows, in a scratch
# virtualenv, and pin them all in $(LOCK); `make` then installs exactly those.
lock:
	rm -rf .lock-venv
	$(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install -q --upgrade pip
	.lock-venv/bin/python -m pip install -q -e '.[test,bench]'
	{ echo '# Every dependency of gamestore[test,bench], pinned. `make` installs them as constraints'; \
	  echo '# (pip install -c requirements.lock -e ".[test,bench]"), `make audit` audits them.'; \
	  echo '# Regenerate with `make lock` after changing a dependency in pyproject.toml: it installs'; \
	  echo '# the newest releases allowed in a scratch venv and writes its `pip freeze --exclude-editable`.'; \
	  .lock-venv/bin/python -m pip freeze --exclude-editable; } > $(LOCK).new
	mv $(LOCK).new $(LOCK)
	rm -rf .lock-venv

# Every benchmark at full size, one after another (each prints a table and, last, one JSON line
# with its figures and the ratio it is judged by); `make test` runs each in its --smoke mode.
bench: $(STAMP) $(NODE_STAMP)
	$(BIN)/python bench/observability.py
	$(BIN)/python bench/eventstore.py
	$(BIN)/python bench/queue.py
	$(BIN)/python bench/bus.py
	$(BIN)/python bench/gateway.py
	$(BIN)/python bench/search.py
	$(BIN)/python bench/purchase.py
	$(BIN)/python bench/sqlite_driver.py
	$(BIN)/python bench/web.py
	$(BIN)/python bench/lighthouse.py

$(STAMP): pyproject.toml $(LOCK)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -c $(LOCK) -e '.[test,bench]'
	touch $(STAMP)

# The store's data and logs only: the next `make run` starts from an empty store (demo catalog
# seeded again); the installed environment stays.
reset:
	rm -rf data logs

$(NODE_STAMP): package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $(NODE_STAMP)

clean:
	rm -rf $(VENV) node_modules .lock-venv data logs .pytest_cache .mypy_cache .ruff_cache
