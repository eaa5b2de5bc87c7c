"""The whole graph, materialized for real on DuckDB and on PostgreSQL, against the sandbox servers."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from data_contracts import contract
from marketprep.runner import run_daily
from marketprep.serving import export, prep_sheet
from marketprep.warehouse import Warehouse
from sandbox.simulator import SimConfig, build_world

pytestmark = pytest.mark.integration

MARKET_MORNING = dt.date(2025, 7, 1)
CONFIG = SimConfig(
    end=MARKET_MORNING, history_days=150, n_vendors=3, n_markets=3, products_per_vendor=4
)
SERVING_COLUMNS = contract("serving.recommendations").column_names


# Row counts of the DuckDB run, shared with the PostgreSQL test so the pipeline runs once per backend.
DUCKDB_COUNTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def world():
    return build_world(CONFIG)


def _run_pipeline(
    world, warehouse_url: str, sandboxed, full_refresh: bool = False
) -> tuple[Warehouse, str]:
    with sandboxed(world, warehouse_url) as (_, warehouse, settings):
        outcome = run_daily(
            settings,
            MARKET_MORNING,
            history_days=CONFIG.history_days,
            instance=dg.DagsterInstance.ephemeral(),
            full_refresh=full_refresh,
        )
    assert outcome.success, (
        f"failed steps {outcome.failed_steps}, failed checks {outcome.failed_checks}"
    )
    return warehouse, outcome.run_id


def _serving_counts(warehouse: Warehouse) -> dict[str, int]:
    tables = [
        "raw.square_orders",
        "raw.square_order_line_items",
        "raw.weather_daily",
        "marts.fct_product_sales",
        "marts.feature_product_market_day",
        "serving.recommendations",
    ]
    return {t: int(warehouse.query(f"select count(*) as n from {t}")["n"].iloc[0]) for t in tables}


def _assert_serving_contract(warehouse: Warehouse, world, run_id: str) -> pd.DataFrame:
    serving = warehouse.query("select * from serving.recommendations")
    assert list(serving.columns) == SERVING_COLUMNS
    assert len(serving) > 0
    assert (serving["run_id"] == run_id).all()
    assert (serving["recommended_units"] >= 0).all()
    assert (serving["units_low"] <= serving["recommended_units"]).all()
    assert (serving["recommended_units"] <= serving["units_high"]).all()
    assert serving["explanation"].str.len().gt(0).all()
    dates = pd.to_datetime(serving["market_date"]).dt.date
    assert dates.min() >= MARKET_MORNING
    assert dates.max() < MARKET_MORNING + dt.timedelta(days=14)
    # Every vendor the simulator runs has recommendations for the markets it attends.
    assert set(serving["vendor_id"]) == {v.vendor_id for v in world.vendors}
    expected = warehouse.query(
        "select vendor_id, market_id, product_id, market_date from marts.feature_product_market_day where is_future"
    )
    assert len(expected) == len(serving)
    return serving


def test_pipeline_on_duckdb_publishes_the_serving_contract(world, tmp_path, sandboxed):
    url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    warehouse, run_id = _run_pipeline(world, url, sandboxed)
    serving = _assert_serving_contract(warehouse, world, run_id)
    first_counts = _serving_counts(warehouse)
    DUCKDB_COUNTS.update(first_counts)

    # A vendor reads it back: export and prep sheet.
    vendor = world.vendors[0].vendor_id
    out = tmp_path / "export.csv"
    assert export(warehouse, vendor, "csv", out) == int((serving["vendor_id"] == vendor).sum())
    assert pd.read_csv(out)["vendor_id"].eq(vendor).all()
    sheet = prep_sheet(warehouse, vendor)
    assert "Prep sheet" in sheet and "Total" in sheet

    # Re-running the same logical date replaces, never duplicates (dbt's incremental models
    # rebuild the run's partitions in place).
    _run_pipeline(world, url, sandboxed)
    assert _serving_counts(warehouse) == first_counts


@pytest.mark.postgres
def test_pipeline_on_postgres_matches_duckdb(world, tmp_path, sandboxed, postgres_url):
    if not DUCKDB_COUNTS:
        duck, _ = _run_pipeline(world, f"duckdb:///{tmp_path / 'warehouse.duckdb'}", sandboxed)
        DUCKDB_COUNTS.update(_serving_counts(duck))
    # the operator's full refresh (`marketprep run --full-refresh`) reaches dbt
    pg, run_id = _run_pipeline(world, postgres_url, sandboxed, full_refresh=True)
    _assert_serving_contract(pg, world, run_id)
    assert _serving_counts(pg) == DUCKDB_COUNTS
