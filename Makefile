# MarketPrep: every target sets itself up (uv, pinned dependencies, dbt manifest).
SHELL := /bin/bash
export DBT_SEND_ANONYMOUS_USAGE_STATS := false
export DAGSTER_DISABLE_TELEMETRY := true
export GX_ANALYTICS_ENABLED := false
export MARKETPREP_HOME ?= $(CURDIR)/.marketprep
export DAGSTER_HOME ?= $(MARKETPREP_HOME)/dagster

UV := $(shell command -v uv 2>/dev/null || echo $(CURDIR)/.tools/bin/uv)
RUN := $(UV) run --frozen
TEST_WORKERS ?= auto
MANIFEST := dbt_project/target/manifest.json

.PHONY: setup demo test bench lint ui docs clean

# uv itself comes from PyPI into a private venv when the machine has none.
$(CURDIR)/.tools/bin/uv:
	python3 -m venv .tools
	.tools/bin/pip install --quiet "uv>=0.5"

.venv/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --frozen --compile-bytecode
	touch $@

$(MANIFEST): .venv/.synced $(shell find dbt_project -name '*.sql' -o -name '*.yml' | grep -v target/)
	$(RUN) dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project
	touch $@

$(DAGSTER_HOME)/dagster.yaml:
	mkdir -p $(DAGSTER_HOME)
	printf 'telemetry:\n  enabled: false\n' > $@

setup: .venv/.synced $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

demo: setup
	$(RUN) marketprep demo

# one worker per core; tests/conftest.py keeps each module (and the shared dbt warehouses) on one
# worker and hands out the slowest groups first
test: setup
	$(RUN) pytest -q -n $(TEST_WORKERS) --dist loadgroup --no-loadscope-reorder

bench: setup
	$(RUN) python bench/run_all.py

lint: setup
	$(RUN) ruff check .
	$(RUN) ruff format --check .

ui: setup
	$(RUN) dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

# The dbt docs site, offline: the models built empty (`dbt run --empty`) on a DuckDB file holding
# the source tables, empty, so the catalog has every column's type. Kept apart from target/, whose
# manifest the orchestration reads.
DOCS_DIR := $(CURDIR)/dbt_project/target/docs
docs: setup
	rm -rf $(DOCS_DIR) && mkdir -p $(DOCS_DIR)
	$(RUN) python -m data_contracts.dbt --empty-sources $(DOCS_DIR)/warehouse.duckdb
	MARKETPREP_DBT_TARGET=duckdb MARKETPREP_DBT_DUCKDB_PATH=$(DOCS_DIR)/warehouse.duckdb \
	  $(RUN) dbt run --empty --quiet --project-dir dbt_project --profiles-dir dbt_project --target-path $(DOCS_DIR)
	MARKETPREP_DBT_TARGET=duckdb MARKETPREP_DBT_DUCKDB_PATH=$(DOCS_DIR)/warehouse.duckdb \
	  $(RUN) dbt docs generate --static --quiet --project-dir dbt_project --profiles-dir dbt_project --target-path $(DOCS_DIR)
	@echo "dbt docs: open $(DOCS_DIR)/static_index.html in a browser (one self-contained file)"

clean:
	rm -rf .venv .tools .marketprep dbt_project/target dbt_project/logs
