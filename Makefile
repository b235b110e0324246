# Every target builds .venv on first use: the core and every plugin under plugins/, editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean chaos audit soak

venv: $(STAMP)

$(STAMP): pyproject.toml $(wildcard plugins/*/pyproject.toml)
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]' $(foreach p,$(PLUGINS),-e '$(p)[test]')
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/recado demo

PLUGIN_PACKAGES = $(filter-out %.egg-info/,$(wildcard plugins/*/recado_*/))

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy hub
	$(BIN)/mypy --strict $(PLUGIN_PACKAGES)
	MYPYPATH=plugins/generic_webhook $(BIN)/mypy --strict chaos

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in bench/*.py plugins/*/bench/*.py; do \
		[ -f "$$b" ] || continue; \
		echo "== $$b"; $(BIN)/python "$$b" || exit 1; \
	done

# The crash test at full size (PostgreSQL, 10,000 calls, 20+ kills), then on SQLite.
chaos: $(STAMP)
	$(BIN)/python chaos/run.py
	$(BIN)/python chaos/run.py --database sqlite --calls 2000

# One million simulated events through the engine, the resident memory sampled: it must stay flat.
soak: $(STAMP)
	$(BIN)/python chaos/soak.py --events 1000000

# Known vulnerabilities in the installed dependencies (asks PyPI's advisory data).
audit: $(STAMP)
	$(BIN)/python -m pip install --quiet pip-audit
	$(BIN)/pip-audit --skip-editable --progress-spinner off

clean:
	rm -rf $(VENV) recado-demo
