# CXGear chat dock. `make run` tries it, `make test` proves it.
#
# PostgreSQL and Redis everywhere. DATABASE_URL and REDIS_URL name them; whichever is
# unset, `cxgear.devservers` starts this checkout's own from Python packages (data under
# var/, kept between runs) and stops it again when the command is done.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
VAR := var
# The servers of `make run`, and the throwaway ones of the tests, lint and benchmarks.
WITH_SERVERS := $(PY) -m cxgear.devservers --var $(VAR) run --
WITH_TEST_SERVERS := $(PY) -m cxgear.devservers --var $(VAR)/test --throwaway run --

.PHONY: setup run test lint bench screenshot browser migrate reset clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet '.[test]'
	touch $(STAMP)

# Debian's Chromium for the browser tests; Playwright cannot download its own here.
browser:
	@test -x /usr/bin/chromium || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
	  || { echo "could not install chromium (needs root and Debian's package archive)"; exit 1; }; }

migrate: setup
	$(WITH_SERVERS) $(PY) manage.py migrate --noinput

# Ctrl-C stops every process it started, the servers last.
run: setup
	@$(WITH_SERVERS) $(MAKE) --no-print-directory _run

_run:
	@$(PY) manage.py migrate --noinput
	@$(PY) manage.py bootstrap_demo
	@$(PY) manage.py rundock

lint: setup
	$(WITH_TEST_SERVERS) $(MAKE) --no-print-directory _lint

_lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) manage.py makemigrations --check --dry-run

test: setup browser
	$(WITH_TEST_SERVERS) $(MAKE) --no-print-directory _test

_test:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy .
	$(PY) -m pytest

bench: setup
	$(WITH_TEST_SERVERS) $(PY) -m bench

screenshot: setup browser
	$(WITH_TEST_SERVERS) $(PY) -m docs.screenshot

# Wipes the data of the checkout's own servers (stopping them first).
reset:
	-test -x $(PY) && $(PY) -m cxgear.devservers --var $(VAR) stop
	-test -x $(PY) && $(PY) -m cxgear.devservers --var $(VAR)/test stop
	rm -rf $(VAR)

clean:
	rm -rf $(VENV) staticfiles
