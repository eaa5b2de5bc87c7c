"""Builds the dbt project for real on a temporary DuckDB file and a fresh PostgreSQL database.

Each backend gets the raw sample loaded into `raw.*` (tables created from the YAML contracts,
rows bulk-loaded through Arrow / COPY), then one `dbt build` with the run vars; the tests read
the resulting tables. The build runs once per backend per session.
"""

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pytest
import yaml
from raw_sample import HORIZON_DAYS, RUN_DATE, raw_tables

REPO_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = REPO_ROOT / "dbt_project"
CONTRACTS_DIR = REPO_ROOT / "data_contracts" / "tables"

SQL_TYPES = {
    "string": "text",
    "int64": "bigint",
    "int32": "integer",
    "float64": "double precision",
    "bool": "boolean",
    "date": "date",
    "timestamp_tz": "timestamptz",
    "decimal": "numeric(18, 5)",
    "json": "text",
}
ARROW_TYPES = {
    "string": pa.string(),
    "int64": pa.int64(),
    "int32": pa.int32(),
    "float64": pa.float64(),
    "bool": pa.bool_(),
    "date": pa.date32(),
    "timestamp_tz": pa.timestamp("us", tz="UTC"),
    "decimal": pa.decimal128(18, 5),
    "json": pa.string(),
}
FEATURE_TABLE = "marts.feature_product_market_day"
FEATURE_KEY = ("vendor_id", "market_id", "product_id", "market_date")


@dataclass(frozen=True)
class BuiltWarehouse:
    """A warehouse after `dbt build`: the run results and a way to query it."""

    backend: str
    run_results: list[dict]
    query: Callable[[str], list[dict]]

    def features(self) -> list[dict]:
        return self.query(f"select * from {FEATURE_TABLE} order by {', '.join(FEATURE_KEY)}")


def load_contracts() -> list[dict]:
    return [yaml.safe_load(path.read_text()) for path in sorted(CONTRACTS_DIR.glob("raw.*.yaml"))]


def create_table_sql(contract: dict) -> str:
    columns = [
        f"{column['name']} {SQL_TYPES[column['type']]}{'' if column['nullable'] else ' not null'}"
        for column in contract["columns"]
    ]
    columns.append(f"primary key ({', '.join(contract['primary_key'])})")
    return f"create table {contract['table']} ({', '.join(columns)})"


def arrow_batch(contract: dict, rows: list[dict]) -> pa.Table:
    schema = pa.schema([(c["name"], ARROW_TYPES[c["type"]]) for c in contract["columns"]])
    return pa.Table.from_pylist(rows, schema=schema)


def load_duckdb(path: Path, tables: dict[str, list[dict]]) -> None:
    with duckdb.connect(str(path)) as con:
        con.execute("create schema raw")
        for contract in load_contracts():
            con.execute(create_table_sql(contract))
            con.register("batch", arrow_batch(contract, tables[contract["table"]]))
            con.execute(f"insert into {contract['table']} by name select * from batch")
            con.unregister("batch")


def load_postgres(conninfo: str, tables: dict[str, list[dict]]) -> None:
    with psycopg.connect(conninfo) as con, con.cursor() as cur:
        cur.execute("create schema raw")
        for contract in load_contracts():
            cur.execute(create_table_sql(contract))
            names = [column["name"] for column in contract["columns"]]
            with cur.copy(f"copy {contract['table']} ({', '.join(names)}) from stdin") as copy:
                for row in tables[contract["table"]]:
                    copy.write_row([row[name] for name in names])


def run_dbt_build(
    env: dict[str, str],
    work_dir: Path,
    extra_vars: dict[str, str] | None = None,
    full_refresh: bool = False,
) -> list[dict]:
    """`dbt build` as the orchestration runs it; returns run_results.json's results.

    `extra_vars` adds to the run vars (e.g. an incremental run's partition window)."""
    dbt = shutil.which("dbt", path=str(Path(sys.executable).parent)) or "dbt"
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith("MARKETPREP_DBT_")}
    target_path = work_dir / "target"
    completed = subprocess.run(
        [
            dbt,
            "build",
            "--project-dir",
            str(DBT_PROJECT_DIR),
            "--profiles-dir",
            str(DBT_PROJECT_DIR),
            "--vars",
            json.dumps(
                {"run_date": RUN_DATE.isoformat(), "horizon_days": HORIZON_DAYS}
                | (extra_vars or {})
            ),
            *(["--full-refresh"] if full_refresh else []),
            # as the orchestration builds: unit tests run apart, in test_dbt_unit_tests.py
            "--exclude-resource-type",
            "unit_test",
        ],
        env={
            **clean_env,
            **env,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
            # keep the project's own target/ (the orchestration's manifest) untouched
            "DBT_TARGET_PATH": str(target_path),
            "DBT_LOG_PATH": str(work_dir / "logs"),
        },
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, (
        f"dbt build failed:\n{completed.stdout[-8000:]}\n{completed.stderr[-4000:]}"
    )
    return json.loads((target_path / "run_results.json").read_text())["results"]


def _rows(cursor_description, records) -> list[dict]:
    names = [column[0] for column in cursor_description]
    return [dict(zip(names, record, strict=True)) for record in records]


@pytest.fixture(scope="session")
def raw_data() -> dict[str, list[dict]]:
    return raw_tables()


@pytest.fixture(scope="session")
def built_duckdb(tmp_path_factory, raw_data) -> BuiltWarehouse:
    work_dir = tmp_path_factory.mktemp("dbt_duckdb")
    path = work_dir / "warehouse.duckdb"
    load_duckdb(path, raw_data)
    results = run_dbt_build(
        {"MARKETPREP_DBT_TARGET": "duckdb", "MARKETPREP_DBT_DUCKDB_PATH": str(path)}, work_dir
    )

    def query(sql: str) -> list[dict]:
        with duckdb.connect(str(path), read_only=True) as con:
            cursor = con.execute(sql)
            return _rows(cursor.description, cursor.fetchall())

    return BuiltWarehouse("duckdb", results, query)


def _postgres_settings() -> dict[str, str]:
    return {
        "host": os.environ.get("MARKETPREP_DBT_PG_HOST", "127.0.0.1"),
        "port": os.environ.get("MARKETPREP_DBT_PG_PORT", "5432"),
        "user": os.environ.get("MARKETPREP_DBT_PG_USER", "postgres"),
        "password": os.environ.get("MARKETPREP_DBT_PG_PASSWORD", ""),
    }


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[dict[str, str]]:
    """A fresh database, dropped afterwards. In CI a missing server fails instead of skipping."""
    settings = _postgres_settings()
    try:
        admin = psycopg.connect(dbname="postgres", autocommit=True, connect_timeout=5, **settings)
    except psycopg.OperationalError as error:
        message = f"PostgreSQL at {settings['host']}:{settings['port']} is unreachable: {error}"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{message} (CI=true: both backends must be tested)")
        pytest.skip(message)
    dbname = f"marketprep_test_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f'create database "{dbname}"')
        try:
            yield {**settings, "dbname": dbname}
        finally:
            admin.execute(f'drop database if exists "{dbname}" with (force)')


@pytest.fixture(scope="session")
def built_postgres(tmp_path_factory, raw_data, postgres_database) -> BuiltWarehouse:
    work_dir = tmp_path_factory.mktemp("dbt_postgres")
    conninfo = psycopg.conninfo.make_conninfo(**postgres_database)
    load_postgres(conninfo, raw_data)
    results = run_dbt_build(
        {
            "MARKETPREP_DBT_TARGET": "postgres",
            "MARKETPREP_DBT_PG_HOST": postgres_database["host"],
            "MARKETPREP_DBT_PG_PORT": postgres_database["port"],
            "MARKETPREP_DBT_PG_USER": postgres_database["user"],
            "MARKETPREP_DBT_PG_PASSWORD": postgres_database["password"],
            "MARKETPREP_DBT_PG_DBNAME": postgres_database["dbname"],
        },
        work_dir,
    )

    def query(sql: str) -> list[dict]:
        with psycopg.connect(conninfo) as con, con.cursor() as cur:
            cur.execute(sql)
            return _rows(cur.description, cur.fetchall())

    return BuiltWarehouse("postgres", results, query)


@pytest.fixture(
    scope="session", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def built_warehouse(request) -> BuiltWarehouse:
    return request.getfixturevalue(f"built_{request.param}")
