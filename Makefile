# Two commands do all the set-up on a fresh machine:
#   make pipeline   build .venv from requirements.lock, run the retraining flow, register a model
#   make test       build .venv the same way, run the test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(CURDIR)/$(VENV)/bin
export PATH := $(BIN):$(PATH)
export DVC_NO_ANALYTICS := 1
export PREFECT_SERVER_ANALYTICS_ENABLED := false

.PHONY: pipeline test test-own-data services lint serve repro lock ui clean

$(VENV)/.installed: requirements.lock pyproject.toml
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -r requirements.lock
	touch $@

# ARGS passes options to the flow, e.g. make pipeline ARGS="--profile tiny --set train.epochs=2"
pipeline: $(VENV)/.installed
	$(BIN)/python -m flows.retrain $(ARGS)

# Two pytest-xdist workers, each test file whole on one of them (a module's servers and workspace copies start
# once): much of the suite waits on servers, schedules and subprocesses, so two workers use two cores' worth.
# ARGS="-n 0" runs it in one process; ARGS='-m "not slow"' skips the end-to-end tests.
test: $(VENV)/.installed services lint
	$(BIN)/python -m pytest -q -n 2 --dist loadfile $(ARGS)

# ruff (settings in pyproject.toml): no lint finding, every file formatted; `ruff format .` formats
lint: $(VENV)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Each application's default profile on a few thousand rows of another shape registers without overrides
# (tests/test_own_data.py): a few minutes each, one at a time (each training takes both cores), so not in
# `make test`.
test-own-data: $(VENV)/.installed
	$(BIN)/python -m pytest -q -m own_data tests/test_own_data.py $(ARGS)

# System packages tests need (Debian's): the PostgreSQL server binaries for the team-setup test (it starts and
# stops its own cluster), Chromium with its driver for the MLflow UI browser test, and docker-compose to check
# deploy/docker-compose.yml (`config` only: no Docker engine needed). Without them, and without root to
# install them, those tests are skipped with the reason.
services:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null 2>&1; } || \
	  echo "PostgreSQL not installed: its integration test will be skipped"
	@{ command -v chromium >/dev/null && command -v chromedriver >/dev/null; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null 2>&1; } || \
	  echo "Chromium not installed: the MLflow UI browser test will be skipped"
	@{ command -v docker-compose >/dev/null || docker compose version >/dev/null 2>&1; } || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null 2>&1; } || \
	  echo "docker-compose not installed: the compose file check will be skipped"

# `dvc repro` after building the venv when needed (its stages run `python3 -m components.stages...`)
repro: $(VENV)/.installed
	$(BIN)/dvc repro $(ARGS)

# Scheduled retraining on orchestrate.cron (needs a Prefect server: docs/operations.md, "Scheduled retraining")
serve: $(VENV)/.installed
	$(BIN)/python -m flows.serve $(ARGS)

# The MLflow UI over the embedded store: http://127.0.0.1:5000
ui: $(VENV)/.installed
	$(BIN)/mlflow ui --backend-store-uri sqlite:///mlruns/mlflow.db --host 127.0.0.1 --port 5000

# Re-resolve the pins from pyproject.toml's ranges (then review and commit requirements.lock).
lock:
	rm -rf /tmp/lock-venv && $(PYTHON) -m venv /tmp/lock-venv
	/tmp/lock-venv/bin/pip install --quiet -e '.[test]'
	{ head -2 requirements.lock; /tmp/lock-venv/bin/pip freeze --exclude-editable | sed 's/+cpu$$//'; } > requirements.lock.new
	mv requirements.lock.new requirements.lock

clean:
	rm -rf $(VENV)
