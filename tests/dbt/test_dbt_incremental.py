"""Incremental models rebuild only their partition window, and end where a full refresh ends.

On each backend: build everything once, then change two raw partitions (a quantity edited, an
order canceled, an order added, and a return that takes back a sale from an earlier day), rebuild
one partition and check that only it moved; then rebuild the other together with changes to the
feature table's other inputs (weather, a late event, late feedback, a renamed product) a week
later, and compare every intermediate and mart table row by row with a `dbt build --full-refresh`
of the same raw data. Finally the two backends' marts are compared with each other. Four builds
per backend: each costs ~15 s of dbt start-up before any SQL runs.
"""

import datetime as dt
import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
import pytest
from conftest import _rows, load_duckdb, load_postgres, run_dbt_build
from raw_sample import BAKERY, CROISSANT, INGESTED_AT, RUN_DATE, SATURDAYS, SOURDOUGH, UNION

# The partitions the test edits: two Saturdays at Union Square, a month apart, both well past
# the other's lookback, and a sale day before both that the return on EDITED_DAY takes from.
EDITED_DAY = dt.date(2024, 6, 8)
LATER_DAY = dt.date(2024, 6, 29)
RETURNED_SALE_DAY = dt.date(2024, 5, 25)

REBUILT_TABLES = [
    "intermediate.int_sale_lines",
    "intermediate.int_product_sales_daily",
    "intermediate.int_vendor_market_days",
    "marts.fct_product_sales",
]
MARTS = ["marts.dim_markets", "marts.dim_products", "marts.market_calendar"]
FEATURES = "marts.feature_product_market_day"


@dataclass
class Warehouse:
    backend: str
    execute: Callable[[str, tuple], None]
    query: Callable[[str, tuple], list[dict]]
    build: Callable[..., list[dict]]

    def table(self, name: str) -> list[dict]:
        rows = self.query(f"select * from {name}", ())
        return sorted(rows, key=lambda row: tuple(_sort_key(value) for value in row.values()))

    def snapshot(self) -> dict[str, list[dict]]:
        return {name: self.table(name) for name in [*REBUILT_TABLES, *MARTS, FEATURES]}


def _sort_key(value) -> str:
    """One order for both backends: numbers by value, timestamps in UTC, NULL last."""
    if value is None:
        return "~"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float | Decimal):
        return f"{float(value):+.12e}"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat()
    return str(value)


def _duckdb_warehouse(work_dir: Path, raw_data) -> Warehouse:
    path = work_dir / "warehouse.duckdb"
    load_duckdb(path, raw_data)
    env = {"MARKETPREP_DBT_TARGET": "duckdb", "MARKETPREP_DBT_DUCKDB_PATH": str(path)}

    def execute(sql: str, params: tuple) -> None:
        with duckdb.connect(str(path)) as con:
            con.execute(sql, list(params))

    def query(sql: str, params: tuple) -> list[dict]:
        with duckdb.connect(str(path), read_only=True) as con:
            cursor = con.execute(sql, list(params))
            return _rows(cursor.description, cursor.fetchall())

    return Warehouse("duckdb", execute, query, _builder(env, work_dir))


def _postgres_warehouse(work_dir: Path, raw_data, database: dict[str, str]) -> Warehouse:
    conninfo = psycopg.conninfo.make_conninfo(**database)
    load_postgres(conninfo, raw_data)
    env = {
        "MARKETPREP_DBT_TARGET": "postgres",
        "MARKETPREP_DBT_PG_HOST": database["host"],
        "MARKETPREP_DBT_PG_PORT": database["port"],
        "MARKETPREP_DBT_PG_USER": database["user"],
        "MARKETPREP_DBT_PG_PASSWORD": database["password"],
        "MARKETPREP_DBT_PG_DBNAME": database["dbname"],
    }

    def execute(sql: str, params: tuple) -> None:
        with psycopg.connect(conninfo) as con:
            con.execute(sql.replace("?", "%s"), params)

    def query(sql: str, params: tuple) -> list[dict]:
        with psycopg.connect(conninfo) as con, con.cursor() as cur:
            cur.execute(sql.replace("?", "%s"), params)
            return _rows(cur.description, cur.fetchall())

    return Warehouse("postgres", execute, query, _builder(env, work_dir))


def _builder(env: dict[str, str], work_dir: Path) -> Callable[..., list[dict]]:
    def build(
        window: tuple[dt.date, dt.date] | None = None,
        full_refresh: bool = False,
        extra_vars: dict[str, object] | None = None,
    ):
        window_vars = (
            {"window_start": window[0].isoformat(), "window_end": window[1].isoformat()}
            if window
            else {}
        )
        run_dir = work_dir / f"run_{uuid.uuid4().hex[:8]}"
        return run_dbt_build(
            env, run_dir, extra_vars=window_vars | (extra_vars or {}), full_refresh=full_refresh
        )

    return build


def _one_order(warehouse: Warehouse, day: dt.date, offset: int = 0) -> str:
    rows = warehouse.query(
        "select order_id from raw.square_orders where vendor_id = ? and market_date = ? "
        "and state = 'COMPLETED' order by order_id limit 1 offset ?",
        (BAKERY, day, offset),
    )
    return rows[0]["order_id"]


def _edit_partition(warehouse: Warehouse, day: dt.date, return_from: dt.date | None) -> None:
    """Edit raw partition `day` as a late Square update would: every change is dated `day`."""
    edited, canceled = _one_order(warehouse, day, 0), _one_order(warehouse, day, 1)
    warehouse.execute(
        "update raw.square_order_line_items set quantity = quantity + 2 "
        "where vendor_id = ? and order_id = ?",
        (BAKERY, edited),
    )
    for table in ("raw.square_orders", "raw.square_order_line_items"):
        warehouse.execute(
            f"update {table} set state = 'CANCELED' where vendor_id = ? and order_id = ?",
            (BAKERY, canceled),
        )
    # a new order: a copy of the edited one under a new id
    added = f"{edited}-late"
    for table in ("raw.square_orders", "raw.square_order_line_items"):
        columns = [row["column_name"] for row in _columns(warehouse, table)]
        select = ", ".join("?" if name == "order_id" else name for name in columns)
        warehouse.execute(
            f"insert into {table} ({', '.join(columns)}) select {select} from {table} "
            "where vendor_id = ? and order_id = ?",
            (added, BAKERY, edited),
        )
    if return_from is not None:
        _return_a_sale(warehouse, sold_on=return_from, returned_on=day)


def _return_a_sale(warehouse: Warehouse, sold_on: dt.date, returned_on: dt.date) -> None:
    sold = warehouse.query(
        "select * from raw.square_order_line_items where vendor_id = ? and market_date = ? "
        "and state = 'COMPLETED' and catalog_object_id is not null "
        "order by order_id, line_uid limit 1",
        (BAKERY, sold_on),
    )[0]
    return_order = f"{BAKERY}-{UNION}-return-{returned_on:%Y%m%d}"
    closed_at = dt.datetime.combine(returned_on, dt.time(18), tzinfo=dt.UTC)
    order = {
        "vendor_id": BAKERY,
        "order_id": return_order,
        "order_version": 1,
        "location_id": sold["location_id"],
        "state": "COMPLETED",
        "created_at": closed_at,
        "updated_at": closed_at,
        "closed_at": closed_at,
        "market_date": returned_on,
        "total_amount": 0,
        "currency": "USD",
        "raw_payload": json.dumps({"id": return_order}),
        "ingested_at": closed_at,
    }
    returned = {
        "vendor_id": BAKERY,
        "order_id": return_order,
        "line_uid": "R1",
        "return_uid": "RET1",
        "source_order_id": sold["order_id"],
        "source_line_uid": sold["line_uid"],
        "location_id": sold["location_id"],
        "state": "COMPLETED",
        "closed_at": closed_at,
        "market_date": returned_on,
        "catalog_object_id": sold["catalog_object_id"],
        "item_type": "ITEM",
        "line_name": sold["line_name"],
        "quantity": Decimal(1),
        "quantity_unit": None,
        "base_price_amount": sold["base_price_amount"],
        "gross_return_amount": sold["base_price_amount"],
        "currency": "USD",
        "ingested_at": closed_at,
    }
    for table, row in (("raw.square_orders", order), ("raw.square_order_returns", returned)):
        columns = [c["column_name"] for c in _columns(warehouse, table)]
        missing = set(columns) - set(row)
        assert not missing, f"test row for {table} lacks {missing}"
        warehouse.execute(
            f"insert into {table} ({', '.join(columns)}) values ({', '.join('?' for _ in columns)})",
            tuple(row[name] for name in columns),
        )


# The last incremental run: a week later, and products unsold for 60 days lose their series.
LATER_RUN = {"run_date": (RUN_DATE + dt.timedelta(days=7)).isoformat(), "product_lookback_days": 60}


def _feature_input_changes() -> list[tuple[str, tuple]]:
    """What changes the feature table without changing sales: revised archive weather, an event
    found late, feedback entered late (each on its own old day), a renamed product."""
    return [
        (
            "update raw.weather_daily set temp_max_c = temp_max_c + 5 "
            "where market_id = ? and weather_date = ? and source = 'open_meteo_archive'",
            (UNION, SATURDAYS[1]),
        ),
        (
            "insert into raw.events (market_id, event_id, title, category, start_date, "
            "end_date, attendance, rank, state, fetched_at) "
            "values (?, 'EV_LATE', 'Late', 'community', ?, ?, 5000, 50, 'active', ?)",
            (UNION, SATURDAYS[2], SATURDAYS[2], INGESTED_AT),
        ),
        (
            "insert into raw.vendor_feedback (vendor_id, market_id, product_id, market_date, "
            "units_brought, units_sold, sold_out, source_file, imported_at) "
            "values (?, ?, ?, ?, 40, 40.0, true, 'late.csv', ?)",
            (BAKERY, UNION, CROISSANT, SATURDAYS[3], INGESTED_AT),
        ),
        (
            # the item's name: a sole variation's own name ("Regular") is not shown
            "update raw.square_catalog set item_name = item_name || ' (large)' "
            "where vendor_id = ? and variation_id = ?",
            (BAKERY, SOURDOUGH),
        ),
    ]


def _columns(warehouse: Warehouse, table: str) -> list[dict]:
    schema, name = table.split(".")
    return warehouse.query(
        "select column_name from information_schema.columns "
        "where table_schema = ? and table_name = ? order by ordinal_position",
        (schema, name),
    )


def _days(rows: list[dict]) -> set[dt.date]:
    return {row["market_date"] for row in rows}


def _changed_days(before: list[dict], after: list[dict]) -> set[dt.date]:
    def by_day(rows):
        days: dict[dt.date, list] = {}
        for row in rows:
            days.setdefault(row["market_date"], []).append(row)
        return days

    old, new = by_day(before), by_day(after)
    return {day for day in old.keys() | new.keys() if old.get(day) != new.get(day)}


def _state(warehouse: Warehouse, suffix: str) -> list[dict]:
    return warehouse.table(f"{FEATURES}__{suffix}")


def _incremental_then_full_refresh(warehouse: Warehouse) -> dict[str, list[dict]]:
    warehouse.build()  # the first build: every incremental model is built in full
    built = warehouse.snapshot()

    _edit_partition(warehouse, EDITED_DAY, return_from=RETURNED_SALE_DAY)
    _edit_partition(warehouse, LATER_DAY, return_from=None)

    # rebuilding EDITED_DAY's partition moves EDITED_DAY and the day its return took from, only
    results = warehouse.build(window=(EDITED_DAY, EDITED_DAY))
    assert all(result["status"] in ("success", "pass") for result in results)
    once = warehouse.snapshot()
    fct = "marts.fct_product_sales"
    assert _changed_days(built[fct], once[fct]) == {EDITED_DAY, RETURNED_SALE_DAY}
    assert _changed_days(
        built["intermediate.int_sale_lines"], once["intermediate.int_sale_lines"]
    ) == {EDITED_DAY, RETURNED_SALE_DAY}
    # the feature table kept the rows before the edited days and rewrote the others
    assert _changed_days(built[FEATURES], once[FEATURES]) <= {
        day for day in _days(built[FEATURES]) | _days(once[FEATURES]) if day >= RETURNED_SALE_DAY
    }

    # The other partition, together with inputs of the feature table that no sales partition
    # covers, changed on old days, and a week later with a shorter product lookback. One run
    # rewrites from the earliest changed day, so the end state alone would not show a missed
    # change on a later day: the saved fingerprints must name every changed day, and the
    # renamed product's series must be among those rebuilt whole.
    days_before = _state(warehouse, "day_state")
    for sql, params in _feature_input_changes():
        warehouse.execute(sql, params)
    results = warehouse.build(window=(LATER_DAY, LATER_DAY), extra_vars=LATER_RUN)
    assert all(result["status"] in ("success", "pass") for result in results)
    incremental = warehouse.snapshot()
    assert _changed_days(once[fct], incremental[fct]) == {LATER_DAY}
    fingerprinted = {
        row["fingerprint_day"]
        for row in _symmetric_difference(days_before, _state(warehouse, "day_state"))
        if row["fingerprint_day"] < RUN_DATE
    }
    assert fingerprinted == {SATURDAYS[1], SATURDAYS[2], SATURDAYS[3], LATER_DAY}
    rebuilt = {(row["vendor_id"], row["product_id"]) for row in _state(warehouse, "rebuilt_series")}
    assert (BAKERY, SOURDOUGH) in rebuilt
    assert incremental[FEATURES] != once[FEATURES]

    warehouse.build(full_refresh=True, extra_vars=LATER_RUN)
    full = warehouse.snapshot()
    for table, rows in full.items():
        assert incremental[table] == rows, f"{warehouse.backend}: {table} differs after partitions"
    assert EDITED_DAY in _days(full[fct]) and LATER_DAY in _days(full[fct])
    return full


def _symmetric_difference(before: list[dict], after: list[dict]) -> list[dict]:
    def keyed(rows):
        return {tuple(sorted(row.items())) for row in rows}

    return [dict(row) for row in keyed(before) ^ keyed(after)]


@pytest.fixture(scope="module")
def duckdb_marts(tmp_path_factory, raw_data) -> dict[str, list[dict]]:
    warehouse = _duckdb_warehouse(tmp_path_factory.mktemp("incremental_duckdb"), raw_data)
    return _incremental_then_full_refresh(warehouse)


@pytest.fixture(scope="module")
def postgres_marts(tmp_path_factory, raw_data, postgres_database) -> dict[str, list[dict]]:
    # the session's database already holds the built_postgres warehouse: use a schema-free copy
    database = {**postgres_database, "dbname": f"{postgres_database['dbname']}_inc"}
    admin_settings = {k: v for k, v in postgres_database.items() if k != "dbname"}
    with psycopg.connect(dbname="postgres", autocommit=True, **admin_settings) as admin:
        admin.execute(f'create database "{database["dbname"]}"')
    try:
        warehouse = _postgres_warehouse(
            tmp_path_factory.mktemp("incremental_postgres"), raw_data, database
        )
        yield _incremental_then_full_refresh(warehouse)
    finally:
        with psycopg.connect(dbname="postgres", autocommit=True, **admin_settings) as admin:
            admin.execute(f'drop database if exists "{database["dbname"]}" with (force)')


def test_rebuilding_changed_partitions_on_duckdb_equals_a_full_refresh(duckdb_marts):
    assert duckdb_marts["marts.fct_product_sales"], "the sample builds sales facts"


@pytest.mark.postgres
def test_rebuilding_changed_partitions_on_postgres_equals_a_full_refresh(postgres_marts):
    assert postgres_marts["marts.fct_product_sales"], "the sample builds sales facts"


def _same(left, right) -> bool:
    if isinstance(left, float | Decimal) or isinstance(right, float | Decimal):
        return left is not None and right is not None and math.isclose(left, right, abs_tol=1e-9)
    return left == right


@pytest.mark.postgres
def test_duckdb_and_postgres_build_the_same_marts(duckdb_marts, postgres_marts):
    for table in [*REBUILT_TABLES, *MARTS, FEATURES]:
        left, right = duckdb_marts[table], postgres_marts[table]
        assert len(left) == len(right), table
        differences = [
            (table, column, a[column], b[column])
            for a, b in zip(left, right, strict=True)
            for column in a
            if not _same(a[column], b[column])
        ]
        assert not differences[:5], f"{len(differences)} cells differ"
