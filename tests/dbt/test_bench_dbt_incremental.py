"""The dbt benchmark's raw history (bench/dbt_raw_history.py), four vendors over sixty days, on
DuckDB: every raw table it writes meets its contract, and dbt builds from it the sales it holds,
first by a full refresh, then with the next day added by the daily incremental build (a return
on that day nets out of the earlier day it was sold)."""

import datetime as dt
import sys
from pathlib import Path

import pandas as pd
import pytest

from data_contracts.gx import validate
from marketprep.settings import parse_warehouse_url
from marketprep.warehouse import Warehouse

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT / "bench"))

import dbt_raw_history as history  # noqa: E402
from bench_dbt_incremental import run_dbt  # noqa: E402

DAY = dt.date(2025, 6, 14)  # a Saturday: most markets are held
SALE_KEY = ["vendor_id", "market_id", "product_id", "market_date"]


def expected_sales(warehouse: Warehouse) -> pd.DataFrame:
    """Units and orders per vendor × market × product × day, worked out from the raw rows:
    completed item lines, less what linked returns took back from them."""
    lines = warehouse.query(
        "select l.vendor_id, s.market_id, l.catalog_object_id as product_id, l.market_date, "
        "l.order_id, l.line_uid, cast(l.quantity as double) as quantity "
        "from raw.square_order_line_items l join raw.square_locations s "
        "on l.vendor_id = s.vendor_id and l.location_id = s.location_id "
        "where l.state = 'COMPLETED' and l.item_type = 'ITEM'"
    )
    returned = warehouse.query(
        "select vendor_id, source_order_id as order_id, source_line_uid as line_uid, "
        "sum(cast(quantity as double)) as returned from raw.square_order_returns "
        "where source_order_id is not null group by all"
    )
    lines = lines.merge(returned, on=["vendor_id", "order_id", "line_uid"], how="left")
    lines["units"] = (lines["quantity"] - lines["returned"].fillna(0)).clip(lower=0)
    return (
        lines.groupby(SALE_KEY)
        .agg(units_sold=("units", "sum"), orders_count=("order_id", "nunique"))
        .reset_index()
        .sort_values(SALE_KEY, ignore_index=True)
    )


def built_sales(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        f"select {', '.join(SALE_KEY)}, units_sold, orders_count from marts.fct_product_sales "
        f"order by {', '.join(SALE_KEY)}"
    )


def assert_same_sales(built: pd.DataFrame, expected: pd.DataFrame) -> None:
    assert len(built) == len(expected)
    assert built[SALE_KEY].astype(str).equals(expected[SALE_KEY].astype(str))
    assert built["orders_count"].astype(int).tolist() == expected["orders_count"].tolist()
    assert (
        built["units_sold"].astype(float).round(5).tolist()
        == expected["units_sold"].round(5).tolist()
    )


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp("bench_dbt")
    url = f"duckdb:///{work_dir / 'warehouse.duckdb'}"
    warehouse = Warehouse(parse_warehouse_url(url))
    world = history.build_world(vendors=4, years=60 / 365.25, day=DAY, seed=13)
    history.write_history(warehouse, world)

    def build(variables: dict[str, str], *, full_refresh: bool):
        return run_dbt(
            REPO_ROOT / "dbt_project",
            work_dir,
            {
                "MARKETPREP_DBT_TARGET": "duckdb",
                "MARKETPREP_DBT_DUCKDB_PATH": str(work_dir / "warehouse.duckdb"),
            },
            variables,
            full_refresh=full_refresh,
            label="test",
        )

    return warehouse, world, build


def test_every_raw_table_meets_its_contract(bench):
    warehouse, _, _ = bench
    written = {}
    for table_contract in history.RAW_CONTRACTS:
        frame = warehouse.query(f"select * from {table_contract.table}")
        written[table_contract.table] = len(frame)
        problems = validate(table_contract, frame).problems
        assert problems == [], f"{table_contract.table}: {[p.describe() for p in problems]}"
    assert written["raw.square_order_line_items"] > written["raw.square_orders"] > 1000
    assert written["raw.square_order_returns"] > 0
    assert written["raw.weather_daily"] > 0 and written["raw.events_fetch_status"] > 0


def test_dbt_builds_the_generated_sales_then_adds_the_next_day(bench):
    warehouse, world, build = bench
    full = build({"run_date": DAY.isoformat()}, full_refresh=True)
    assert full.failed == []
    assert_same_sales(built_sales(warehouse), expected_sales(warehouse))

    history.write_next_day(warehouse, world)
    incremental = build(
        {
            "run_date": (DAY + dt.timedelta(days=1)).isoformat(),
            "window_start": DAY.isoformat(),
            "window_end": DAY.isoformat(),
        },
        full_refresh=False,
    )
    assert incremental.failed == []
    late_returns = warehouse.query(
        "select count(*) as n from raw.square_order_returns r join raw.square_orders o "
        "on r.vendor_id = o.vendor_id and r.source_order_id = o.order_id "
        "where r.market_date = ? and o.market_date < ?",
        [DAY, DAY],
    )
    assert late_returns["n"].iloc[0] > 0, "the new day should take back an earlier day's sale"
    expected = expected_sales(warehouse)
    assert (expected["market_date"] == DAY).sum() > 0, "the new day should have sales"
    assert_same_sales(built_sales(warehouse), expected)
    upcoming = warehouse.query(
        "select min(market_date) as first_day from marts.feature_product_market_day where is_future"
    )
    assert upcoming["first_day"].iloc[0] > DAY
