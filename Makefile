# Everything runs in a virtualenv this Makefile creates from the pinned constraints.
#   make demo            example DAGs through real Airflow against the local emulator
#   make test            the test suite on Airflow 3 (what CI runs)
#   make test-airflow2   the same suite on Airflow 2.11, in its own venv
#   make bench           benchmarks, rewrites BENCHMARKS.md
#   make lint            ruff

PYTHON ?= python3.11
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
CONSTRAINTS := constraints/airflow-$(AIRFLOW_VERSION).txt
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python

.PHONY: venv test test-airflow2 demo bench lint clean

$(STAMP): pyproject.toml $(CONSTRAINTS)
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -c $(CONSTRAINTS) \
		"apache-airflow==$(AIRFLOW_VERSION)" -e ".[test,bench]"
	touch $@

venv: $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q

test-airflow2:
	$(MAKE) test AIRFLOW_VERSION=2.11.2 VENV=.venv-airflow2

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .venv .venv-airflow2 build dist *.egg-info .demo
