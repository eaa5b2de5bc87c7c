"""The fallback chains end to end: the daily job's ingest and dbt assets (and the checks on the
feature table) materialized for real on DuckDB, against the sandbox's fake servers with faults.

One run degrades each of four markets differently (Open-Meteo / NWS / climatology / nothing for
weather, PredictHQ / Ticketmaster / unknown for events): the feature rows must say where every
value came from, the checks warn about the fallbacks, and the blocking check fails for the market
no weather source covered.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pandas as pd
import pytest

from marketprep.runner import RANGE_END_TAG, RANGE_START_TAG
from marketprep.warehouse import Warehouse
from orchestration.definitions import defs
from orchestration.defs.automation.schedules import DAILY_JOB
from orchestration.defs.transform.checks import (
    EVENTS_KNOWN_FOR_PLANNING_DAYS,
    WEATHER_COVERS_PLANNING_DAYS,
    WEATHER_FROM_PRIMARY_SOURCE,
)
from sandbox.servers import Sandbox
from sandbox.simulator import SimConfig, build_world
from sources.markets import market_id_for

pytestmark = pytest.mark.integration

END = dt.date(2025, 7, 1)
FAHRENHEIT = {
    "latitude": 47.6,
    "longitude": -122.3,
    "timezone": "America/Los_Angeles",
    "daily_units": {
        "temperature_2m_max": "°F",
        "temperature_2m_min": "°F",
        "precipitation_sum": "inch",
    },
    "daily": {
        "time": [],
        "temperature_2m_max": [],
        "temperature_2m_min": [],
        "precipitation_sum": [],
    },
}


def run_ingest_and_features(
    world, sandboxed, history_days: int, faults
) -> tuple[dg.ExecuteInProcessResult, Warehouse]:
    """The daily job's ingest and transform groups for the `history_days` before END."""
    with sandboxed(world) as (sandbox, warehouse, settings):
        faults(sandbox)
        definitions = defs()
        selection = dg.AssetSelection.groups("ingest", "transform").resolve(
            definitions.resolve_asset_graph()
        )
        tags = {
            RANGE_START_TAG: (END - dt.timedelta(days=history_days)).isoformat(),
            RANGE_END_TAG: (END - dt.timedelta(days=1)).isoformat(),
        }
        result = definitions.resolve_job_def(DAILY_JOB).execute_in_process(
            instance=dg.DagsterInstance.ephemeral(),
            tags=tags,
            asset_selection=list(selection),
            raise_on_error=False,
        )
    return result, warehouse


def checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {e.check_name: e for e in result.get_asset_check_evaluations()}


def upcoming(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        "select distinct market_id, market_date, weather_source, precip_source, temp_max_c, "
        "precip_mm, events_known, events_source from marts.feature_product_market_day "
        "where is_future order by market_id, market_date"
    )


def test_every_fallback_level_shows_in_the_features_and_the_checks(sandboxed):
    # A year of history, so climatology has last summer to average; four markets, each pushed
    # one level further down the chains than the next.
    world = build_world(
        SimConfig(end=END, history_days=372, n_vendors=1, n_markets=4, products_per_vendor=2)
    )
    by_id = {market_id_for(m.latitude, m.longitude): m for m in world.markets}
    none, climatology, nws, primary = sorted(by_id)  # the order the loads visit markets in

    def faults(sandbox: Sandbox) -> None:
        # Open-Meteo answers in °F for the shared call, then for each market alone until the
        # last: the archive fails for the first market (so it has no history to average), the
        # forecast for the first three. NWS has no grid for the first two. PredictHQ refuses
        # the first two markets, Ticketmaster the first.
        sandbox.open_meteo.faults.respond("/v1/archive", 200, body=FAHRENHEIT, times=2)
        sandbox.open_meteo.faults.respond("/v1/forecast", 200, body=FAHRENHEIT, times=4)
        for market_id in (none, climatology):
            market = by_id[market_id]
            sandbox.nws.app.unserved_points.add(f"{market.latitude},{market.longitude}")
        sandbox.events.faults.respond("/v1/events/", 402, times=2)
        sandbox.ticketmaster.faults.respond("/discovery/v2/events.json", 401)

    result, warehouse = run_ingest_and_features(world, sandboxed, 372, faults)
    # Every load succeeded, fallbacks included; only the blocking check fails (see below).
    failed = [e.step_key for e in result.all_events if e.is_step_failure]
    assert failed == ["marts__feature_product_market_day_weather_covers_planning_days"]

    days = upcoming(warehouse)
    assert set(days.market_id) == set(by_id)
    nws_reach = END + dt.timedelta(days=7)  # the fake's 14 twelve-hour periods

    def expected(row) -> tuple:
        weather = {
            none: (None, None),
            climatology: ("climatology", "climatology"),
            nws: ("nws_forecast" if row.market_date < nws_reach else "climatology", "climatology"),
            primary: ("open_meteo_forecast", "open_meteo_forecast"),
        }[row.market_id]
        events = {none: (False, None), climatology: (True, "ticketmaster")}
        return *weather, *events.get(row.market_id, (True, "predicthq"))

    for row in days.itertuples():
        found = (row.weather_source, row.precip_source, row.events_known, row.events_source)
        assert tuple(None if pd.isna(v) else v for v in found) == expected(row), row
    assert days[days.market_id != none].temp_max_c.notna().all()
    assert days[days.market_id == none].temp_max_c.isna().all()

    evaluations = checks(result)
    covered = evaluations[WEATHER_COVERS_PLANNING_DAYS]
    assert not covered.passed and covered.severity == dg.AssetCheckSeverity.ERROR
    assert covered.description.startswith(f"no weather from any source: {none} ")
    assert covered.metadata["market_days_without_weather"].value == (days.market_id == none).sum()
    fallback = evaluations[WEATHER_FROM_PRIMARY_SOURCE]
    assert not fallback.passed and fallback.severity == dg.AssetCheckSeverity.WARN
    assert f"temperature from climatology: {climatology}" in fallback.description
    assert f"temperature from nws_forecast: {nws}" in fallback.description
    assert primary not in fallback.description
    events = evaluations[EVENTS_KNOWN_FOR_PLANNING_DAYS]
    assert not events.passed and events.severity == dg.AssetCheckSeverity.WARN
    assert f"events unknown: {none}" in events.description
    assert f"events from the fallback only: {climatology}" in events.description
