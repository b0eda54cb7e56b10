# Customer-value warehouse. Quick start: `make run`, then `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed
EXPORTS ?= data/exports
CUSTOMERS ?= 10000
SEED ?= 42

# Prefect's local state stays in the project unless you point Prefect elsewhere.
export PREFECT_HOME ?= $(CURDIR)/.prefect
export PREFECT_SERVER_ANALYTICS_ENABLED ?= false
export DBT_SEND_ANONYMOUS_USAGE_STATS ?= false

.PHONY: help install browser run report test test-fast test-spark spark-install java lint format exports build metrics freshness clean benchmark serve

help:
	@echo "make run        install, generate sample exports if none exist, load + build + validate + publish"
	@echo "make test       install, lint and run the whole test suite (pytest on 2 workers; dbt, GX, Prefect)"
	@echo "make test-fast  the unit tests alone (no dbt, GX or Prefect; seconds)"
	@echo "make test-spark the project on local Apache Spark, every mart compared with DuckDB's (not in make test:"
	@echo "                installs Java 17 and a Spark virtualenv SPARK_VENV=$(SPARK_VENV) first; see README)"
	@echo "make lint       ruff (lint + format check) and sqlfluff on the dbt project; make format fixes"
	@echo "make exports    (re)generate sample exports: CUSTOMERS=$(CUSTOMERS) SEED=$(SEED) EXPORTS=$(EXPORTS)"
	@echo "make report     rewrite the customer report (report/index.html beside the published file) from the"
	@echo "                current publication (PUBLISHED=..., REPORT_DIR=... to choose; make run does it too)"
	@echo "make build      dbt build on the existing warehouse (no load, no publish)"
	@echo "make metrics    MetricFlow on the build warehouse: METRICS=$(METRICS) by GROUP_BY=$(GROUP_BY),"
	@echo "                or SAVED_QUERY=audit_figures_by_year (models/semantic/; after make run)"
	@echo "make freshness  dbt source freshness of the loaded exports (vars freshness_*)"
	@echo "make serve      serve the nightly, intraday and full-refresh Prefect deployments (starts a local"
	@echo "                Prefect server on 127.0.0.1:4200 unless PREFECT_API_URL is set; Ctrl-C stops)"
	@echo "make benchmark  time at 1M orders a full run, one with DuckDB memory_limit=2GB, the hand-written DuckDB"
	@echo "                baseline (cells compared with the mart), incremental runs adding 0.1/1/10 % new orders"
	@echo "                and a nothing-new run on a running Prefect server, with peak RSS (see README). ARGS:"
	@echo "                --scale 10 (10M orders), --shares 0.1,1,10, --memory-limit 2GB ('' skips),"
	@echo "                --json FILE (every figure), --clv-only; scripts/benchmark.py --help for all"
	@echo "make clean      remove the warehouse, generated data and dbt artefacts (keeps the venv)"

install: $(INSTALLED)

# The lock file pins every package; a fresh machine gets exactly the tested versions.
$(INSTALLED): requirements.lock pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.lock
	@$(MAKE) --no-print-directory browser
	@touch $(INSTALLED)

# Chromium for the browser test (Playwright drives the system's Chromium; it never downloads one).
# Installed with apt where this user may (root, apt-get present); elsewhere the test is skipped with
# the reason, and the README says how to install it.
CHROMIUM ?= /usr/lib/chromium/chromium
browser:
	@if [ -x "$(CHROMIUM)" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing chromium with apt-get (for the browser test)"; \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) \
			|| echo "chromium could not be installed: the browser test will be skipped (see README)"; \
	else echo "no chromium at $(CHROMIUM) and no root apt-get: the browser test will be skipped (see README)"; fi

exports: install
	$(PY) -m flows generate --out $(EXPORTS) --customers $(CUSTOMERS) --seed $(SEED) --messy

run: install
	@if [ -z "$$(ls -A $(EXPORTS) 2>/dev/null)" ]; then \
		$(PY) -m flows generate --out $(EXPORTS) --customers $(CUSTOMERS) --seed $(SEED) --messy; \
	fi
	$(PY) -m flows run --exports $(EXPORTS)

# The customer report rewritten from the current publication (every run writes it into its release;
# PUBLISHED: the published file; REPORT_DIR: where index.html goes, default report/ in the current release).
report: install
	$(PY) -m flows report $(if $(PUBLISHED),--published "$(PUBLISHED)") $(if $(REPORT_DIR),--out "$(REPORT_DIR)")

# Three pytest-xdist workers on two cores (much of a run waits: for a server, a lock, a retry), one
# test file each at a time (module fixtures are built once); the session's sample run is shared by all
# (tests/python/conftest.py, which also orders the files longest first: FILE_ORDER, kept by
# pyproject.toml's --no-loadscope-reorder).
test: install lint
	$(PY) -m pytest -n 3 --dist loadfile

# The unit tests alone (no dbt, GX or Prefect): seconds.
test-fast: install
	$(PY) -m pytest -m unit

# The same project on local Apache Spark (README "Running on Spark"), not part of `make test`: a
# generated sample loaded by the project's loader and built on DuckDB (python -m flows run), then on
# Spark (flows/spark_build.py), every mart compared (tests/spark). Java 17 from apt where this user may;
# pyspark and dbt-spark in their own virtualenv (requirements-spark.lock), never in .venv: pyspark's
# source archive is built into a wheel once (minutes), which pip's cache keeps for the next install.
SPARK_VENV ?= $(HOME)/.cache/customer-value-warehouse/spark-venv
SPARK_INSTALLED := $(SPARK_VENV)/.installed
java:
	@if command -v java >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "installing openjdk-17-jre-headless with apt-get (for Spark)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq openjdk-17-jre-headless >/dev/null; \
	else echo "Spark needs Java 17: install a JRE (Debian/Ubuntu: sudo apt-get install openjdk-17-jre-headless)"; exit 1; fi

$(SPARK_INSTALLED): requirements.lock requirements-spark.lock
	@test -x $(SPARK_VENV)/bin/python || $(PYTHON) -m venv $(SPARK_VENV)
	$(SPARK_VENV)/bin/python -m pip install --quiet --upgrade pip
	@echo "installing pyspark and dbt-spark into $(SPARK_VENV) (the first time pip builds pyspark: minutes)"
	$(SPARK_VENV)/bin/python -m pip install --quiet -r requirements.lock -r requirements-spark.lock
	@touch $(SPARK_INSTALLED)

spark-install: java $(SPARK_INSTALLED)

test-spark: spark-install
	TZ=UTC $(SPARK_VENV)/bin/python -m pytest tests/spark -p no:cacheprovider -q -s

# ruff (lint and format) over the Python; sqlfluff (dbt templater, .sqlfluff) over the dbt SQL. The
# templater opens a warehouse to decide is_incremental(): an empty throwaway one (full-build branches).
LINT_WAREHOUSE := $(shell mktemp -u /tmp/cvw-lint-XXXXXX).duckdb
lint: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	CVW_WAREHOUSE=$(LINT_WAREHOUSE) $(VENV)/bin/sqlfluff lint models macros tests/dbt --processes 2; \
		status=$$?; rm -f $(LINT_WAREHOUSE); exit $$status

format: install
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .
	CVW_WAREHOUSE=$(LINT_WAREHOUSE) $(VENV)/bin/sqlfluff fix models macros tests/dbt --processes 2; rm -f $(LINT_WAREHOUSE)

build: install
	$(VENV)/bin/dbt build

# MetricFlow (models/semantic/) on the build warehouse (CVW_WAREHOUSE, default warehouse/customer_value.duckdb):
# `dbt parse` writes target/semantic_manifest.json, which mf reads; the time spine is built by make run.
METRICS ?= revenue,net_new_customers
GROUP_BY ?= metric_time__year
metrics: install
	$(VENV)/bin/dbt parse --quiet
	$(if $(SAVED_QUERY),$(VENV)/bin/mf query --saved-query $(SAVED_QUERY) --decimals 2,\
		$(VENV)/bin/mf query --metrics $(METRICS) --group-by $(GROUP_BY) --order $(GROUP_BY) --decimals 2)

# How old the newest load of each export entity is (warn / error after the vars freshness_* days).
freshness: install
	$(VENV)/bin/dbt source freshness

# Schedules and paths: NIGHTLY_CRON, INTRADAY_CRON, TIMEZONE (or $CVW_*), EXPORTS; see README "Scheduling with Prefect".
serve: install
	$(PY) -m flows serve --exports $(EXPORTS) \
		$(if $(NIGHTLY_CRON),--nightly-cron "$(NIGHTLY_CRON)") \
		$(if $(INTRADAY_CRON),--intraday-cron "$(INTRADAY_CRON)") \
		$(if $(TIMEZONE),--timezone "$(TIMEZONE)")

benchmark: install
	$(PY) scripts/benchmark.py $(ARGS)

clean:
	rm -rf warehouse data target logs .pytest_cache
