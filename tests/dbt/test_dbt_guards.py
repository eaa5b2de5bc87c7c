"""What the generated dbt YAML promises, checked on built warehouses.

Every model's YAML columns are the columns its SQL returns (the enforced contracts also check the
types at build time); the row-count guard fails a build that lost rows; `dbt source freshness`
applies the contracts' freshness rules on both backends.
"""

import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from conftest import DBT_PROJECT_DIR
from raw_sample import HORIZON_DAYS, RUN_DATE

from data_contracts import all_contracts

pytestmark = pytest.mark.integration

LAYERS = ("staging", "intermediate", "marts")
FRESHNESS_RULES = {
    f"source.marketprep.raw.{c.name}": c.audit.freshness
    for c in all_contracts().values()
    if c.dbt_source and c.audit and c.audit.freshness
}


def run_dbt(args: list[str], env: dict[str, str], work_dir: Path) -> subprocess.CompletedProcess:
    """One dbt command on the warehouse `env` points at, with the build's run vars."""
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPREP_DBT_")}
    return subprocess.run(
        [
            dbt,
            *args,
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--vars",
            json.dumps({"run_date": RUN_DATE.isoformat(), "horizon_days": HORIZON_DAYS}),
        ],
        env={
            **clean_env,
            **env,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_TARGET_PATH": str(work_dir / "target"),
            "DBT_LOG_PATH": str(work_dir / "logs"),
        },
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture(scope="module")
def manifest(tmp_path_factory) -> dict:
    work_dir = tmp_path_factory.mktemp("dbt_parse")
    parsed = run_dbt(["parse"], {}, work_dir)
    assert parsed.returncode == 0, parsed.stdout[-4000:]
    return json.loads((work_dir / "target" / "manifest.json").read_text())


@pytest.fixture
def duckdb_copy(built_duckdb, tmp_path) -> Path:
    """A copy of the built DuckDB warehouse that a test may change."""
    [database] = built_duckdb.query(
        "select path from duckdb_databases() where database_name = current_database()"
    )
    copy = tmp_path / "warehouse.duckdb"
    shutil.copyfile(database["path"], copy)
    return copy


def duckdb_env(path: Path) -> dict[str, str]:
    return {"MARKETPREP_DBT_TARGET": "duckdb", "MARKETPREP_DBT_DUCKDB_PATH": str(path)}


def test_every_model_yaml_lists_exactly_the_columns_its_table_has(built_warehouse, manifest):
    built: dict[tuple[str, str], set[str]] = {}
    for row in built_warehouse.query(
        "select table_schema, table_name, column_name from information_schema.columns "
        f"where table_schema in {LAYERS}"
    ):
        built.setdefault((row["table_schema"], row["table_name"]), set()).add(row["column_name"])
    models = [
        node
        for node in manifest["nodes"].values()
        if node["resource_type"] == "model" and node["package_name"] == "marketprep"
    ]

    differences = {}
    for node in models:
        declared = set(node["columns"])
        actual = built.get((node["schema"], node["alias"]))
        assert actual is not None, f"{node['name']} was not built"
        if declared != actual:
            differences[node["name"]] = {
                "missing from the YAML": sorted(actual - declared),
                "not in the table": sorted(declared - actual),
            }
    assert differences == {}


def test_each_build_records_the_row_count_the_guard_compares(built_warehouse):
    for table in ("marts.feature_product_market_day", "marts.fct_product_sales"):
        [count] = built_warehouse.query(f"select count(*) as n from {table}")
        recorded = built_warehouse.query(f"select row_count from {table}__row_counts")

        assert count["n"] > 0
        assert [r["row_count"] for r in recorded] == [count["n"]]  # one build so far
    ran = {r["unique_id"].split(".")[2]: r["status"] for r in built_warehouse.run_results}
    assert ran["row_count_not_dropped_feature_product_market_day"] == "pass"
    assert ran["row_count_not_dropped_fct_product_sales"] == "pass"


def test_row_count_guard_fails_when_the_build_lost_most_rows(duckdb_copy, tmp_path):
    counts = "marts.feature_product_market_day__row_counts"
    with duckdb.connect(str(duckdb_copy)) as con:
        # a build just before this one with ten times the rows: this one lost 90 % of them
        con.execute(
            f"insert into {counts} select max(built_at) - interval 1 second, 'earlier', "
            f"10 * max(row_count) from {counts}"
        )
    selected = ["--select", "row_count_not_dropped_feature_product_market_day"]

    failed = run_dbt(["test", *selected], duckdb_env(duckdb_copy), tmp_path)

    assert failed.returncode == 1, failed.stdout[-4000:]
    results = json.loads((tmp_path / "target" / "run_results.json").read_text())["results"]
    # besides the test, the project's on-run-start hook (macros/rebuilt_days.sql) reports
    [result] = [r for r in results if not r["unique_id"].startswith("operation.")]
    assert (result["status"], result["failures"]) == ("fail", 1)

    with duckdb.connect(str(duckdb_copy)) as con:
        con.execute(
            f"update {counts} set row_count = row_count // 10 where invocation_id = 'earlier'"
        )
    passed = run_dbt(["test", *selected], duckdb_env(duckdb_copy), tmp_path)

    assert passed.returncode == 0, passed.stdout[-4000:]


def _freshness(work_dir: Path) -> dict[str, dict]:
    results = json.loads((work_dir / "target" / "sources.json").read_text())["results"]
    return {r["unique_id"]: r for r in results}


def test_source_freshness_applies_the_contract_rules_on_duckdb(duckdb_copy, raw_data, tmp_path):
    assert set(FRESHNESS_RULES) >= {
        "source.marketprep.raw.square_catalog",
        "source.marketprep.raw.weather_daily",
    }
    with duckdb.connect(str(duckdb_copy)) as con:
        con.execute("update raw.square_catalog set ingested_at = current_timestamp")

    completed = run_dbt(["source", "freshness"], duckdb_env(duckdb_copy), tmp_path)

    assert completed.returncode == 1, completed.stdout[-4000:]  # the sample is from 2024: stale
    results = _freshness(tmp_path)
    assert set(results) == set(FRESHNESS_RULES)
    assert results["source.marketprep.raw.square_catalog"]["status"] == "pass"
    for unique_id, rule in FRESHNESS_RULES.items():
        assert results[unique_id]["criteria"]["error_after"] == {
            "count": rule.max_age_hours,
            "period": "hour",
        }
        if unique_id != "source.marketprep.raw.square_catalog":
            assert results[unique_id]["status"] == "error", unique_id
            newest = max(
                row[rule.column] for row in raw_data[unique_id.removeprefix("source.marketprep.")]
            )
            assert dt.datetime.fromisoformat(results[unique_id]["max_loaded_at"]) == newest


@pytest.mark.postgres
def test_source_freshness_runs_on_postgres(built_postgres, postgres_database, tmp_path):
    env = {
        "MARKETPREP_DBT_TARGET": "postgres",
        "MARKETPREP_DBT_PG_HOST": postgres_database["host"],
        "MARKETPREP_DBT_PG_PORT": postgres_database["port"],
        "MARKETPREP_DBT_PG_USER": postgres_database["user"],
        "MARKETPREP_DBT_PG_PASSWORD": postgres_database["password"],
        "MARKETPREP_DBT_PG_DBNAME": postgres_database["dbname"],
    }

    completed = run_dbt(["source", "freshness"], env, tmp_path)

    assert completed.returncode == 1, completed.stdout[-4000:]  # the sample is from 2024: stale
    results = _freshness(tmp_path)
    assert set(results) == set(FRESHNESS_RULES)
    assert {r["status"] for r in results.values()} == {"error"}
