# `make run` launches the app, `make test` runs the default test suite headless.
# Each creates .venv when missing and installs the project (editable) with what it needs.
# EXTRAS adds optional extras to the test environment, e.g. `make test EXTRAS=test,bench`.
PYTHON ?= python3
VENV   ?= .venv
EXTRAS ?= test
PY      = $(VENV)/bin/python
PYTEST_ARGS ?=

.PHONY: run test lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)

# One stamp per set of extras, redone when pyproject.toml changes.
$(VENV)/.installed-%: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e ".[$*]"
	touch $@

$(VENV)/.installed-app: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --disable-pip-version-check -e .
	touch $@

run: $(VENV)/.installed-app
	$(VENV)/bin/nn-playground

test: $(VENV)/.installed-$(EXTRAS)
	QT_QPA_PLATFORM=offscreen $(PY) -m pytest -q $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

bench: $(VENV)/.installed-test,bench
	for f in benchmarks/*.py; do $(PY) $$f; done

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
