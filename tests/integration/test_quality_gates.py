"""Bad data meets the quality gates: the affected vendor is held back, the others publish, one
alert goes out, and one resolve once it is fixed.

The baseline is real: the sandbox's Square, Open-Meteo and PredictHQ fakes ingested through the
ingest assets into the warehouse, yesterday's publication made by the real publish asset. The
forecast tables are written directly (forecasting is not what is under test here and Prophet
would cost a minute). Each case copies the baseline, injects one kind of bad data, runs the
blocking contract checks and the publish asset as Dagster runs, then evaluates the three alert
sensors against local webhook and SMTP receivers; then fixes the data and does it again.

Every case runs on both backends: the baseline is built once per backend, in a DuckDB file or a
PostgreSQL database, and each case gets its own copy (the file copied, or a database made with
the baseline's as its template).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest
from receivers import SmtpReceiver, WebhookReceiver

from data_contracts import audited_contracts, contract
from marketprep.settings import load_settings, parse_warehouse_url
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from orchestration.definitions import defs
from orchestration.defs.automation.schedules import DAILY_JOB
from orchestration.defs.automation.sensors import (
    failed_checks_alerts,
    failed_runs_alerts,
    stale_vendors_alerts,
)
from orchestration.defs.publish.checks import MATCHES_CONTRACT
from orchestration.defs.resources import MarketPrepResource
from sandbox.scratch_db import admin_execute, scratch_database
from sandbox.servers import start_sandbox
from sandbox.simulator import SimConfig, build_world

pytestmark = pytest.mark.integration

MORNING = dt.date(2025, 7, 1)
CONFIG = SimConfig(end=MORNING, history_days=35, n_vendors=3, n_markets=2, products_per_vendor=2)
SERVING = dg.AssetKey(["serving", "recommendations"])
SOURCES = [
    dg.AssetKey(["raw", "square_locations"]),
    dg.AssetKey(["raw", "square_catalog"]),
    dg.AssetKey(["raw", "square_orders"]),
    dg.AssetKey(["raw", "weather_daily"]),
    dg.AssetKey(["raw", "events"]),
]


# Every audited table but the feature table: dbt is not run here.
def gate(table: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(contract(table).asset_key), MATCHES_CONTRACT)


GATES = {gate(c.table) for c in audited_contracts() if c.schema in ("raw", "forecast")}
TAGS = {
    "dagster/asset_partition_range_start": (MORNING - dt.timedelta(days=35)).isoformat(),
    "dagster/asset_partition_range_end": (MORNING - dt.timedelta(days=1)).isoformat(),
}
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
SENSORS = (failed_checks_alerts, stale_vendors_alerts, failed_runs_alerts)
SERVED = "select * from serving.recommendations order by " + ", ".join(
    contract("serving.recommendations").primary_key
)


def complete(table: str, rows: pd.DataFrame) -> pd.DataFrame:
    """Fill the columns a case does not care about with valid values of their contract type."""
    filler = {"string": "x", "json": "{}", "bool": False, "date": MORNING}
    for column in contract(table).columns:
        if column.name not in rows.columns:
            value = None if column.nullable else filler.get(column.type, column.min or 0)
            rows[column.name] = value
    return rows


def forecast_tables(warehouse: Warehouse) -> None:
    """Forecasts and staged recommendations for every vendor × market × live product, two days."""
    series = warehouse.query(
        "select distinct l.vendor_id, l.market_id, c.variation_id as product_id, c.item_name "
        "from raw.square_locations l join raw.square_catalog c on c.vendor_id = l.vendor_id "
        "where not c.is_deleted order by 1, 2, 3"
    )
    days = [MORNING, MORNING + dt.timedelta(days=1)]
    rows = [
        dict(s._asdict(), market_date=day) for s in series.itertuples(index=False) for day in days
    ]
    forecasts = pd.DataFrame(rows).assign(
        service_level=0.8,
        units_low=8.0,
        units_p50=10.0,
        units_high=13.0,
        units_at_service_level=12.0,
    )
    warehouse.replace(
        contract("forecast.demand_forecasts"), complete("forecast.demand_forecasts", forecasts)
    )
    recommendations = (
        pd.DataFrame(rows)
        .rename(columns={"item_name": "product_name"})
        .assign(
            recommended_units=12,
            units_low=8,
            units_high=13,
            service_level=0.8,
            explanation="usual day",
            published_at=dt.datetime.now(dt.UTC),
        )
    )
    warehouse.replace(
        contract("forecast.recommendations"), complete("forecast.recommendations", recommendations)
    )


@functools.cache
def definitions() -> dg.Definitions:
    return defs()


def run(
    instance: dg.DagsterInstance, assets: list[dg.AssetKey], checks: set[dg.AssetCheckKey]
) -> dg.ExecuteInProcessResult:
    selected = (
        dg.AssetSelection.assets(*assets)
        .required_multi_asset_neighbors()
        .resolve(definitions().resolve_asset_graph())
    )
    job = (
        definitions()
        .resolve_job_def(DAILY_JOB)
        .get_subset(asset_selection=selected, asset_check_selection=checks)
    )
    return job.execute_in_process(
        run_config=QUIET, instance=instance, tags=TAGS, raise_on_error=False
    )


LOAD_TIMES = {
    "raw.square_locations": "ingested_at",
    "raw.square_catalog": "ingested_at",
    "raw.square_orders": "ingested_at",
    "raw.square_order_line_items": "ingested_at",
    "raw.weather_daily": "fetched_at",
    "raw.events": "fetched_at",
}


def days_ago(warehouse: Warehouse, days: int, tables=LOAD_TIMES, where: str = "") -> None:
    """Move load times back, as if the loads happened `days` days earlier."""
    with warehouse.session() as session:
        for table in tables:
            column = LOAD_TIMES[table]
            session.execute(
                f"update {table} set {column} = {column} - interval '{days} days' {where}"
            )


@dataclass
class Baseline:
    url: str
    world: object
    sandbox: object
    env: dict[str, str]
    served: pd.DataFrame


@pytest.fixture(
    scope="module", params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(request) -> str:
    return request.param


@contextmanager
def baseline_database(backend: str, folder: Path) -> Iterator[str]:
    """The baseline's warehouse URL: a DuckDB file in `folder`, or a new PostgreSQL database."""
    if backend == "duckdb":
        yield f"duckdb:///{folder / 'warehouse.duckdb'}"
        return
    with scratch_database("marketprep_test_baseline") as url:
        yield url


def copy_warehouse(source_url: str, target_url: str) -> None:
    """Make the target warehouse a copy of the source (an existing PostgreSQL target is dropped).
    PostgreSQL copies a database only while no one is connected to it: `Warehouse` holds no
    connection between calls, so the baseline's is free between cases."""
    source, target = parse_warehouse_url(source_url), parse_warehouse_url(target_url)
    if source.kind == "duckdb":
        shutil.copy(source.duckdb_path, target.duckdb_path)
        return
    admin_execute(
        f'drop database if exists "{target.pg_dbname}"',
        f'create database "{target.pg_dbname}" template "{source.pg_dbname}"',
    )


@pytest.fixture(scope="module")
def baseline(backend, tmp_path_factory) -> Iterator[Baseline]:
    """Yesterday's state: sources loaded and checked, version 1 published for every vendor."""
    world = build_world(CONFIG)
    folder = tmp_path_factory.mktemp(f"baseline-{backend}")
    with (
        baseline_database(backend, folder) as url,
        start_sandbox(world) as sandbox,
        pytest.MonkeyPatch.context() as patch,
    ):
        env = sandbox.env() | {
            "MARKETPREP_WAREHOUSE_URL": url,
            "MARKETPREP_HOME": str(folder / "home"),
        }
        for name, value in env.items():
            patch.setenv(name, value)
        settings = load_settings()
        warehouse = Warehouse(settings.warehouse)
        for vendor in world.vendors:
            register_vendor(warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
        instance = dg.DagsterInstance.ephemeral()
        loaded = run(instance, SOURCES, set())
        assert loaded.success, [e.message for e in loaded.all_events if e.is_step_failure]
        forecast_tables(warehouse)
        published = run(instance, [SERVING], GATES)
        failed = [
            f"{e.event_specific_data.check_name}: {e.event_specific_data.description}"
            for e in published.all_events
            if e.event_type_value == "ASSET_CHECK_EVALUATION" and not e.event_specific_data.passed
        ]
        assert published.success and not failed, failed
        days_ago(warehouse, 1)
        yield Baseline(url, world, sandbox, env, warehouse.query(SERVED))


@dataclass
class Case:
    baseline: Baseline
    warehouse: Warehouse
    instance: dg.DagsterInstance
    webhook: WebhookReceiver
    smtp: SmtpReceiver
    cursors: dict[str, str | None]

    def run(self, *tables: str, assets: list[dg.AssetKey] = ()) -> dg.ExecuteInProcessResult:
        """Publish, gated by the contract checks of `tables` (each case's other gates passed on
        the same data in the baseline run)."""
        return run(self.instance, [*assets, SERVING], {gate(table) for table in tables})

    def evaluate_sensors(self) -> None:
        for sensor in SENSORS:
            context = dg.build_sensor_context(
                instance=self.instance,
                cursor=self.cursors.get(sensor.name),
                definitions=definitions(),
                resources={"marketprep": MarketPrepResource()},
            )
            sensor(context)
            self.cursors[sensor.name] = context.cursor

    def served(self) -> pd.DataFrame:
        return self.warehouse.query(SERVED)

    def alerts(self) -> int:
        """Alerts delivered, checking that every one went to both channels."""
        assert len(self.webhook.posts) == len(self.smtp.messages)
        return len(self.webhook.posts)


@pytest.fixture
def case(backend, request, tmp_path, monkeypatch) -> Iterator[Case]:
    """A copy of the baseline on `backend`, with its own Dagster instance and alert receivers."""
    if backend == "duckdb":
        url = f"duckdb:///{tmp_path / 'warehouse.duckdb'}"
    else:  # skips without a server (fails in CI), before the baseline is built; dropped after
        url = request.getfixturevalue("postgres_url")
    baseline = request.getfixturevalue("baseline")
    copy_warehouse(baseline.url, url)
    webhook, smtp = WebhookReceiver(), SmtpReceiver()
    env = baseline.env | {
        "MARKETPREP_WAREHOUSE_URL": url,
        "MARKETPREP_ALERT_WEBHOOK_URL": webhook.url,
        "MARKETPREP_SMTP_HOST": "127.0.0.1",
        "MARKETPREP_SMTP_PORT": str(smtp.port),
        "MARKETPREP_SMTP_TO": "ops@example.com",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    with dg.instance_for_test() as instance:
        yield Case(baseline, Warehouse(load_settings().warehouse), instance, webhook, smtp, {})
    webhook.close()
    smtp.close()


def split(served: pd.DataFrame, vendors: set[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    mine = served["vendor_id"].isin(vendors)
    return served[mine].reset_index(drop=True), served[~mine].reset_index(drop=True)


def restore(case: Case, table: str) -> None:
    """Put back the baseline's rows of `table` (the fix for data injected into it)."""
    rows = Warehouse(parse_warehouse_url(case.baseline.url)).query(f"select * from {table}")
    case.warehouse.replace(contract(table), rows)


def inject_schema_drift(w: Warehouse, vendor: str) -> None:
    """This vendor's order payloads come in camelCase: total_money is now totalMoney."""
    orders = w.query(
        "select order_id, raw_payload from raw.square_orders where vendor_id = ?", [vendor]
    )
    with w.session() as session:
        for order in orders.itertuples():
            payload = json.loads(order.raw_payload)
            payload["totalMoney"] = payload.pop("total_money")
            session.execute(
                "update raw.square_orders set raw_payload = ? where vendor_id = ? and order_id = ?",
                [json.dumps(payload), vendor, order.order_id],
            )


def inject_nulls(w: Warehouse, vendor: str) -> None:
    """Item lines that lost their catalog id: their sales cannot be counted for any product."""
    with w.session() as session:
        session.execute(
            "update raw.square_order_line_items set catalog_object_id = null "
            "where vendor_id = ? and item_type = 'ITEM'",
            [vendor],
        )


def inject_duplicate_orders(w: Warehouse, vendor: str) -> None:
    """Square's offline mode uploaded this vendor's sales twice, under new order ids."""
    with w.session() as session:
        session.execute(
            "insert into raw.square_orders select vendor_id, order_id || '-dup', "
            + ", ".join(contract("raw.square_orders").column_names[2:])
            + " from raw.square_orders where vendor_id = ? and state = 'COMPLETED'",
            [vendor],
        )


def inject_negative_forecasts(w: Warehouse, vendor: str) -> None:
    with w.session() as session:
        session.execute(
            "update forecast.demand_forecasts set units_low = -4, units_p50 = -1 where vendor_id = ?",
            [vendor],
        )


CASES: dict[str, tuple[Callable[[Warehouse, str], None], str]] = {
    "schema drift": (inject_schema_drift, "raw.square_orders"),
    "nulls": (inject_nulls, "raw.square_order_line_items"),
    "duplicated orders": (inject_duplicate_orders, "raw.square_orders"),
    "negative forecasts": (inject_negative_forecasts, "forecast.demand_forecasts"),
}


def assert_held_back(case: Case, vendors: set[str], result) -> None:
    assert result.success, [e.message for e in result.all_events if e.is_step_failure]
    held, others = split(case.served(), vendors)
    before_held, before_others = split(case.baseline.served, vendors)
    # the affected vendor(s): yesterday's rows, marked stale with the reason
    pd.testing.assert_frame_equal(
        held.drop(columns=["is_stale", "stale_reason"]),
        before_held.drop(columns=["is_stale", "stale_reason"]),
    )
    assert held["is_stale"].all() and held["stale_reason"].str.len().gt(0).all()
    # everyone else: this run's rows
    assert len(others) == len(before_others) > 0
    assert not others["is_stale"].any()
    assert (others["run_id"] == result.run_id).all()
    metadata = result.asset_materializations_for_node("serving__recommendations")[0].metadata
    assert set(metadata["vendors_held_back"].value) == vendors
    assert set(metadata["vendors_published"].value) == set(others["vendor_id"])
    assert "held_back" in metadata  # the reasons, for the Dagster UI


def assert_all_published(case: Case, result) -> None:
    assert result.success
    served = case.served()
    assert not served["is_stale"].any() and (served["run_id"] == result.run_id).all()


@pytest.mark.parametrize("kind", sorted(CASES))
def test_bad_vendor_data_holds_back_that_vendor_only(kind, case):
    inject, table = CASES[kind]
    vendor = sorted(v.vendor_id for v in case.baseline.world.vendors)[1]
    inject(case.warehouse, vendor)

    bad = case.run(table)
    case.evaluate_sensors()
    case.evaluate_sensors()  # the same incident seen again: still one alert

    assert_held_back(case, {vendor}, bad)
    assert case.alerts() == 1
    assert f"Vendor {vendor} held back" in case.webhook.texts[0]

    restore(case, table)
    fixed = case.run(table)
    case.evaluate_sensors()

    assert_all_published(case, fixed)
    assert case.alerts() == 2
    assert case.smtp.subjects[1].startswith(f"[MarketPrep] Resolved: Vendor {vendor} held back")


def test_stale_weather_holds_back_the_vendors_of_that_market(case):
    markets = case.warehouse.query(
        "select market_id, array_agg(distinct vendor_id) as vendors "
        "from raw.square_locations group by 1 order by count(distinct vendor_id), 1"
    )
    market, vendors = markets["market_id"].iloc[0], set(markets["vendors"].iloc[0])
    days_ago(case.warehouse, 3, ["raw.weather_daily"], f"where market_id = '{market}'")

    bad = case.run("raw.weather_daily")
    case.evaluate_sensors()

    assert_held_back(case, vendors, bad)
    assert case.alerts() == 1
    assert f"Market {market}" in case.webhook.texts[0]

    days_ago(case.warehouse, -3, ["raw.weather_daily"], f"where market_id = '{market}'")
    fixed = case.run("raw.weather_daily")
    case.evaluate_sensors()

    assert_all_published(case, fixed)
    assert case.alerts() == 2 and "Resolved" in case.smtp.subjects[1]


def test_revoked_token_holds_back_that_vendor_only(case):
    baseline = case.baseline
    vendor = next(
        v
        for v in baseline.world.vendors
        if v.vendor_id == sorted(w.vendor_id for w in baseline.world.vendors)[0]
    )
    baseline.sandbox.square.app.revoke(vendor.access_token)

    bad = case.run("raw.square_locations", "raw.square_catalog", assets=SOURCES[:2])
    case.evaluate_sensors()

    assert_held_back(case, {vendor.vendor_id}, bad)
    assert case.alerts() == 1
    assert vendor.access_token not in case.webhook.texts[0]

    # The seller authorises MarketPrep again: Square issues a new token, the operator stores it.
    vendor.access_token = f"{vendor.access_token}-renewed"
    settings = load_settings()
    register_vendor(case.warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
    fixed = case.run("raw.square_locations", "raw.square_catalog", assets=SOURCES[:2])
    case.evaluate_sensors()

    assert_all_published(case, fixed)
    assert case.alerts() == 2


def test_drifted_table_stops_publication_for_everyone(case):
    with case.warehouse.session() as session:
        session.execute("alter table raw.square_orders rename column total_amount to total")

    bad = case.run("raw.square_orders")
    case.evaluate_sensors()

    assert not bad.success
    assert bad.asset_materializations_for_node("serving__recommendations") == []
    pd.testing.assert_frame_equal(case.served(), case.baseline.served)
    assert case.alerts() == 1  # the check's alert; its failed step is not a second incident
    assert "raw/square_orders:matches_contract" in case.webhook.texts[0]
    assert "total_amount is missing" in case.webhook.texts[0]

    with case.warehouse.session() as session:
        session.execute("alter table raw.square_orders rename column total to total_amount")
    fixed = case.run("raw.square_orders")
    case.evaluate_sensors()

    assert_all_published(case, fixed)
    assert case.alerts() == 2 and "Resolved" in case.smtp.subjects[1]


def test_failed_run_alerts_once_and_resolves(case):
    with case.warehouse.session() as session:
        session.execute("alter table forecast.recommendations rename to recommendations_lost")

    bad = case.run()
    case.evaluate_sensors()
    case.evaluate_sensors()

    assert not bad.success
    pd.testing.assert_frame_equal(case.served(), case.baseline.served)
    assert case.alerts() == 1
    assert "Run of marketprep_daily failed" in case.webhook.texts[0]
    assert "serving__recommendations: LookupError" in case.webhook.texts[0]

    with case.warehouse.session() as session:
        session.execute("alter table forecast.recommendations_lost rename to recommendations")
    fixed = case.run()
    case.evaluate_sensors()

    assert_all_published(case, fixed)
    assert (
        case.alerts() == 2 and "Resolved: Run of marketprep_daily failed" in case.smtp.subjects[1]
    )
