# Every target builds .venv on first use: the core and every plugin under plugins/, editable.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PLUGINS := $(sort $(dir $(wildcard plugins/*/pyproject.toml)))
STAMP := $(VENV)/.installed

.PHONY: venv demo test lint bench clean

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

test: lint
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	@for b in bench/*.py plugins/*/bench/*.py; do \
		[ -f "$$b" ] || continue; \
		echo "== $$b"; $(BIN)/python "$$b" || exit 1; \
	done

clean:
	rm -rf $(VENV) recado-demo
