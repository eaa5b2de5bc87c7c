"""Every dbt unit test (`unit_tests:` in dbt_project/models/**/*.yml) runs and passes, on both backends.

A unit test feeds fixed rows to one model and compares its output, but dbt still reads the
column types of each input from the warehouse. So each backend gets the raw tables (no rows),
`dbt run --empty` (every model as an empty table), then `dbt test --select test_type:unit`.
Comparing the unit tests dbt ran with those defined catches one silently left out (disabled, or
no longer selected).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest
import yaml
from conftest import DBT_PROJECT_DIR, load_contracts, load_duckdb, load_postgres

pytestmark = pytest.mark.integration


def defined_unit_tests() -> set[str]:
    """unique_id of every unit test in the project's model YAML."""
    defined = set()
    for path in sorted((DBT_PROJECT_DIR / "models").rglob("*.yml")):
        for unit_test in (yaml.safe_load(path.read_text()) or {}).get("unit_tests") or []:
            defined.add(f"unit_test.marketprep.{unit_test['model']}.{unit_test['name']}")
    return defined


def run_dbt(args: list[str], env: dict[str, str], work_dir: Path) -> list[dict]:
    """One dbt command on the warehouse `env` points at; returns run_results.json's results."""
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPREP_DBT_")}
    target_path = work_dir / "target"
    completed = subprocess.run(
        [dbt, *args, "--project-dir", str(DBT_PROJECT_DIR), "--profiles-dir", str(DBT_PROJECT_DIR)],
        env={
            **clean_env,
            **env,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            "DBT_USE_COLORS": "false",
            # keep the project's own target/ (the orchestration's manifest) untouched
            "DBT_TARGET_PATH": str(target_path),
            "DBT_LOG_PATH": str(work_dir / "logs"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode in (0, 1), (
        f"dbt {args[0]} could not run:\n{completed.stdout[-8000:]}\n{completed.stderr[-4000:]}"
    )
    return json.loads((target_path / "run_results.json").read_text())["results"]


def run_unit_tests(env: dict[str, str], work_dir: Path) -> list[dict]:
    """Every model built empty, then every unit test: in `dbt build` a failing unit test would
    skip its model, and with it the unit tests of every model downstream."""
    built = run_dbt(["run", "--empty"], env, work_dir)
    not_built = [
        f"{r['unique_id']}: {r['status']} {r['message']}" for r in built if r["status"] != "success"
    ]
    assert not not_built, "\n".join(not_built)
    results = run_dbt(["test", "--select", "test_type:unit"], env, work_dir)
    # the project's on-run-start hook (the returned sale days, looked up once) reports too
    hooks = [r for r in results if r["unique_id"].startswith("operation.")]
    assert all(r["status"] == "success" for r in hooks), hooks
    return [r for r in results if not r["unique_id"].startswith("operation.")]


def empty_raw_tables() -> dict[str, list[dict]]:
    return {contract["table"]: [] for contract in load_contracts()}


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def unit_test_run(request, tmp_path) -> list[dict]:
    if request.param == "duckdb":
        path = tmp_path / "warehouse.duckdb"
        load_duckdb(path, empty_raw_tables())
        env = {"MARKETPREP_DBT_TARGET": "duckdb", "MARKETPREP_DBT_DUCKDB_PATH": str(path)}
    else:
        url = request.getfixturevalue("postgres_url")
        load_postgres(url, empty_raw_tables())
        settings = psycopg.conninfo.conninfo_to_dict(url)
        env = {
            "MARKETPREP_DBT_TARGET": "postgres",
            "MARKETPREP_DBT_PG_HOST": str(settings["host"]),
            "MARKETPREP_DBT_PG_PORT": str(settings["port"]),
            "MARKETPREP_DBT_PG_USER": str(settings["user"]),
            "MARKETPREP_DBT_PG_PASSWORD": str(settings.get("password") or ""),
            "MARKETPREP_DBT_PG_DBNAME": str(settings["dbname"]),
        }
    return run_unit_tests(env, tmp_path)


def test_project_defines_unit_tests_for_the_tricky_models():
    tested_models = {unique_id.split(".")[2] for unique_id in defined_unit_tests()}
    assert {
        "int_sale_lines",
        "int_product_sales_daily",
        "int_market_seasons",
        "int_market_weekdays",
        "int_weather_best",
        "market_calendar",
        "feature_product_market_day",
    } <= tested_models


def test_every_unit_test_runs_and_passes(unit_test_run):
    not_passed = [
        f"{result['unique_id']} ({result['status']}):\n{result['message']}"
        for result in unit_test_run
        if result["status"] != "pass"
    ]
    assert not not_passed, "\n\n".join(not_passed)
    assert {result["unique_id"] for result in unit_test_run} == defined_unit_tests()
