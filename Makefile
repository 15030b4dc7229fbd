# Everything runs in a virtualenv this Makefile creates from the pinned constraints.
#   make demo            example DAGs through real Airflow against the local emulator
#   make test            the test suite on Airflow 3.3 (what CI runs first)
#   make test-airflow2   the same suite on Airflow 2.11, in its own venv
#   make test-airflow-V  the same suite on Airflow V (3.0.6, 3.1.8, 3.2.2), in .venv-airflow-V
#   make test-matrix     the suite and the package check on every Airflow version we support
#   make test-python3.13 the suite on Airflow 3.3 with CPython 3.13, built from Debian's source package
#   make package-check   build wheel and sdist, twine check, install the wheel alone (with the pinned
#                        constraints, and again with plain pip) and check Airflow sees it
#   make bench           benchmarks, rewrites BENCHMARKS.md
#   make ui-test         browser test of the Airflow 3 UI (headless Chromium) against the emulator
#   make ui-screenshots  the same, and refresh the README's screenshots in docs/img/
#   make deployment-test real Airflow 3.3 deployment on 127.0.0.1 (PostgreSQL, Redis, CeleryExecutor with
#                        2 workers, scheduler, DAG processor, triggerer, API server): N deferred reruns
#                        and SIGKILL drills; make deployment-test N=200 for more
#   make lint            ruff

PYTHON ?= python3.11
AIRFLOW_VERSION ?= 3.3.2
VENV ?= .venv
CONSTRAINTS := constraints/airflow-$(AIRFLOW_VERSION).txt
STAMP := $(VENV)/.installed
PY := $(VENV)/bin/python

# Every Airflow version we declare, newest patch of each minor; each has constraints/airflow-V.txt.
AIRFLOW_MATRIX := 3.3.2 3.2.2 3.1.8 3.0.6 2.11.2

.PHONY: venv test test-airflow2 test-matrix test-python3.13 package-check package-check-airflow2 deployment-test demo bench \
	ui-test ui-screenshots lint clean

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

test-airflow-%:
	$(MAKE) test AIRFLOW_VERSION=$* VENV=.venv-airflow-$*

package-check: $(STAMP)
	$(PY) scripts/check_package.py

package-check-airflow2:
	$(MAKE) package-check AIRFLOW_VERSION=2.11.2 VENV=.venv-airflow2

package-check-airflow-%:
	$(MAKE) package-check AIRFLOW_VERSION=$* VENV=.venv-airflow-$*

# One cell of the matrix: the whole suite, then the package check, in that version's own venv.
venv_for = $(if $(filter 3.3.2,$(1)),.venv,$(if $(filter 2.11.2,$(1)),.venv-airflow2,.venv-airflow-$(1)))

matrix-cell-%:
	@start=$$(date +%s); \
	$(MAKE) --no-print-directory test package-check AIRFLOW_VERSION=$* VENV=$(call venv_for,$*) && \
	echo "matrix cell Airflow $*: suite and package check passed in $$(( $$(date +%s) - start )) s"

test-matrix: $(foreach v,$(AIRFLOW_MATRIX),matrix-cell-$(v)) test-python3.13

# Debian 12 ships only Python 3.11; 3.13 is built (about 5 minutes on 2 cores) from Debian 13's
# source package, the one legitimate source of another CPython these machines reach.
PY313 := .python/3.13/bin/python3.13

$(PY313):
	scripts/python_from_debian.sh 3.13 .python/3.13

test-python3.13: $(PY313)
	$(MAKE) --no-print-directory test PYTHON=$(PY313) VENV=.venv-py3.13 CONSTRAINTS=constraints/airflow-3.3.2-py3.13.txt

N ?= 20

deployment-test:
	N=$(N) deployment/run.sh

demo: $(STAMP)
	$(PY) scripts/demo.py

bench: $(STAMP)
	$(PY) benchmarks/run.py

ui-test: $(STAMP)
	$(PYTHON) ui/run_ui_test.py

ui-screenshots: $(STAMP)
	$(PYTHON) ui/run_ui_test.py --update-docs

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

clean:
	rm -rf .venv .venv-* build dist *.egg-info .demo .ui-run .deploy-run
