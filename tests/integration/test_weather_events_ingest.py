"""Weather and events ingestion down their fallback chains, through the real clients against the
sandbox's fake servers, into a real DuckDB file.

Faults are the ones that fail without waiting (an unusable 200, 4xx, the daily limits), so no
test sleeps; the waiting faults (429 per minute or hour, 5xx, truncated bodies) are driven through
the same clients in tests/sources with their waits recorded.
"""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from marketprep import ingest
from marketprep.warehouse import Warehouse
from orchestration.defs.ingest.assets import weather_daily
from orchestration.defs.resources import MarketPrepResource
from sandbox.simulator import SimConfig, build_world
from sources.markets import market_id_for
from sources.open_meteo import DailyLimitExceeded

pytestmark = pytest.mark.integration

END = dt.date(2025, 7, 1)
WORLD = build_world(SimConfig(end=END, history_days=21, n_vendors=2, products_per_vendor=2))
FIRST, LAST = END - dt.timedelta(days=14), END - dt.timedelta(days=1)
NOW = dt.datetime(2025, 7, 1, 11, tzinfo=dt.UTC)
FAHRENHEIT = {
    "latitude": 47.6,
    "longitude": -122.3,
    "timezone": "America/Los_Angeles",
    "daily_units": {
        "time": "iso8601",
        "temperature_2m_max": "°F",
        "temperature_2m_min": "°F",
        "precipitation_sum": "inch",
    },
    "daily": {
        "time": ["2025-07-01"],
        "temperature_2m_max": [70.0],
        "temperature_2m_min": [55.0],
        "precipitation_sum": [0.0],
    },
}


def market_ids() -> list[str]:
    """The world's markets in the order the loads visit them (by market id)."""
    return sorted(market_id_for(m.latitude, m.longitude) for m in WORLD.markets)


@pytest.fixture
def loaded(sandboxed):
    """A warehouse with the world's vendors and their Square locations (the markets)."""
    with sandboxed(WORLD) as (sandbox, warehouse, settings):
        ingest.sync_square_locations(warehouse, settings, NOW)
        yield warehouse, settings, sandbox


def weather(warehouse: Warehouse) -> dict[tuple[str, str], int]:
    """Rows per (market, source) from the planning day on."""
    counts = warehouse.query(
        "select market_id, source, count(*) as n from raw.weather_daily "
        f"where weather_date >= '{END}' group by market_id, source"
    )
    return {(r.market_id, r.source): int(r.n) for r in counts.itertuples()}


def test_open_meteo_answers_every_market_in_one_call_per_endpoint(loaded):
    warehouse, settings, sandbox = loaded
    results = ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)

    assert {(r.subject, r.status) for r in results} == {(m, "ok") for m in market_ids()}
    paths = [r.path for r in sandbox.open_meteo.requests]
    assert paths == ["/v1/archive", "/v1/forecast"]  # every market in each, one time zone
    assert sandbox.nws.requests == []
    ahead = settings.horizon_days + 1
    assert weather(warehouse) == {(m, "open_meteo_forecast"): ahead for m in market_ids()}
    sources = set(warehouse.query("select distinct source from raw.weather_daily").source)
    assert sources == {"open_meteo_archive", "open_meteo_forecast"}


def test_forecast_falls_back_to_nws_then_to_climatology_per_market(loaded):
    """A bad Open-Meteo answer is tracked down to its market by asking each alone; that market
    gets NWS, and a market NWS has no grid for is left to climatology."""
    warehouse, settings, sandbox = loaded
    ids = market_ids()
    ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)  # yesterday's good forecast
    # The shared call and the first two markets' own calls answer in °F: those two fall back,
    # the first to climatology (NWS has no grid for it), the second to NWS.
    sandbox.open_meteo.faults.respond("/v1/forecast", 200, body=FAHRENHEIT, times=3)
    unserved = next(m for m in WORLD.markets if market_id_for(m.latitude, m.longitude) == ids[0])
    sandbox.nws.app.unserved_points.add(f"{unserved.latitude},{unserved.longitude}")

    results = {r.subject: r for r in ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)}

    forecast_calls = [r for r in sandbox.open_meteo.requests if r.path == "/v1/forecast"]
    assert len(forecast_calls) == 1 + 1 + 3  # yesterday's; today's shared call; then each market
    assert results[ids[0]].status == "fallback"
    assert "forecast from climatology" in results[ids[0]].error
    assert "; nws: GET /points/" in results[ids[0]].error and "HTTP 404" in results[ids[0]].error
    assert results[ids[1]].status == "fallback"
    assert "forecast from nws_forecast; open_meteo:" in results[ids[1]].error
    assert "gives temperature_2m_max in '°F', asked for °C" in results[ids[1]].error
    assert results[ids[2]].status == "ok"
    rows = weather(warehouse)
    # Yesterday's Open-Meteo forecast for the coming days is gone where today's failed.
    assert not [key for key in rows if key[0] in ids[:2] and key[1] == "open_meteo_forecast"]
    assert (ids[0], "nws_forecast") not in rows
    assert rows[ids[1], "nws_forecast"] == 7  # the fake's 14 twelve-hour periods
    assert rows[ids[2], "open_meteo_forecast"] == settings.horizon_days + 1
    nws = warehouse.query("select * from raw.weather_daily where source = 'nws_forecast'")
    assert nws.precip_mm.isna().all() and nws.temp_max_c.notna().all()
    # every request to NWS carried the configured User-Agent
    assert {r.header("User-Agent") for r in sandbox.nws.requests} == {settings.nws_user_agent}
    # the unusable answers are kept, once each per market, with the reason
    quarantined = warehouse.query("select * from raw.weather_events_quarantine")
    assert set(quarantined.market_id) == set(ids[:2])
    assert (quarantined.provider == "open_meteo").all()
    assert quarantined.raw_payload.str.contains("°F").all()


def test_the_nws_grid_is_cached_between_runs(loaded):
    warehouse, settings, sandbox = loaded
    sandbox.open_meteo.faults.respond("/v1/forecast", 400, times=2)  # both runs: all markets fail
    ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)
    first = [r.path.split("/")[1] for r in sandbox.nws.requests]
    assert first.count("points") == len(WORLD.markets) == first.count("gridpoints")
    cached = warehouse.query("select * from raw.nws_points")
    assert len(cached) == len(WORLD.markets) and set(cached.grid_id) == {"SEW"}
    sandbox.nws.requests.clear()

    ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW + dt.timedelta(days=1))
    assert [r.path.split("/")[1] for r in sandbox.nws.requests] == ["gridpoints"] * len(
        WORLD.markets
    )


def test_the_open_meteo_daily_limit_stops_the_load_before_anything_is_written(loaded):
    warehouse, settings, sandbox = loaded
    ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)
    before = warehouse.query(
        "select * from raw.weather_daily order by market_id, weather_date, source"
    )
    sandbox.open_meteo.requests.clear()
    sandbox.open_meteo.faults.respond(
        "/v1/forecast",
        429,
        body={
            "error": True,
            "reason": "Daily API request limit exceeded. Please try again tomorrow.",
        },
    )
    with pytest.raises(DailyLimitExceeded, match="run the job again after that"):
        ingest.sync_weather(warehouse, settings, FIRST, LAST, NOW)
    after = warehouse.query(
        "select * from raw.weather_daily order by market_id, weather_date, source"
    )
    assert after.equals(before)
    assert [r.path for r in sandbox.open_meteo.requests] == ["/v1/archive", "/v1/forecast"]
    assert sandbox.nws.requests == []  # no fallback: the run stops


def test_events_fall_back_to_ticketmaster_then_unknown(loaded):
    warehouse, settings, sandbox = loaded
    ids = market_ids()
    horizon_end = LAST + dt.timedelta(days=settings.horizon_days + 1)
    ingest.sync_events(warehouse, settings, FIRST, LAST, NOW)  # all from PredictHQ
    assert set(warehouse.query("select distinct source from raw.events_fetch_status").source) == {
        "predicthq"
    }
    stored = len(warehouse.query(f"select * from raw.events where market_id = '{ids[0]}'"))
    # PredictHQ's subscription lapsed for the first two markets; Ticketmaster refuses the first.
    sandbox.events.faults.respond("/v1/events/", 402, times=2)
    sandbox.ticketmaster.faults.respond("/discovery/v2/events.json", 401)

    results = {r.subject: r for r in ingest.sync_events(warehouse, settings, FIRST, LAST, NOW)}

    assert [results[m].status for m in ids] == ["unknown", "fallback", "ok"]
    assert "HTTP 402" in results[ids[0]].error and "HTTP 401" in results[ids[0]].error
    assert settings.ticketmaster_api_key not in results[ids[0]].error
    status = warehouse.query(
        "select market_id, source, count(*) as days, min(event_date) as first_day, "
        "max(event_date) as last_day from raw.events_fetch_status group by market_id, source"
    )
    by_market = {r.market_id: r for r in status.itertuples()}
    assert {
        m: by_market[m].source if isinstance(by_market[m].source, str) else None for m in ids
    } == {
        ids[0]: None,
        ids[1]: "ticketmaster",
        ids[2]: "predicthq",
    }
    assert {(r.first_day, r.last_day) for r in status.itertuples()} == {(FIRST, horizon_end)}
    # Nobody answered for the first market: what an earlier fetch found stays as it was.
    assert len(warehouse.query(f"select * from raw.events where market_id = '{ids[0]}'")) == stored
    tm_rows = warehouse.query(f"select * from raw.events where market_id = '{ids[1]}'")
    assert tm_rows.attendance.isna().all() and tm_rows.event_id.str.startswith("vv").all()


def test_a_cancellation_replaces_the_stored_event(loaded):
    warehouse, settings, _ = loaded
    ingest.sync_events(warehouse, settings, FIRST, LAST, NOW)
    festival = next(
        e
        for e in WORLD.events
        if e["state"] == "active"
        and e["category"] == "festivals"
        and FIRST <= dt.date.fromisoformat(e["start_local"][:10]) <= LAST
    )
    stored = warehouse.query(f"select state from raw.events where event_id = '{festival['id']}'")
    assert list(stored.state) and set(stored.state) == {"active"}
    festival |= {"state": "deleted", "deleted_reason": "cancelled"}
    try:
        ingest.sync_events(warehouse, settings, FIRST, LAST, NOW)
    finally:
        festival["state"] = "active"
        del festival["deleted_reason"]
    stored = warehouse.query(f"select state from raw.events where event_id = '{festival['id']}'")
    assert set(stored.state) == {"deleted"}  # stg_events__events drops it from the features


def test_a_ticketmaster_quota_stops_asking_for_the_rest_of_the_run(loaded):
    warehouse, settings, sandbox = loaded
    sandbox.events.faults.respond("/v1/events/", 402, times=len(WORLD.markets))
    sandbox.ticketmaster.app.daily_quota = 0
    results = ingest.sync_events(warehouse, settings, FIRST, LAST, NOW)
    assert {r.status for r in results} == {"unknown"}
    assert len(sandbox.ticketmaster.requests) == 1  # the quota fault once, then no more calls
    assert "daily quota exhausted earlier in this run" in results[-1].error
    assert all(settings.ticketmaster_api_key not in r.error for r in results)


def test_the_weather_asset_turns_the_daily_limit_into_a_failure_not_retried(loaded):
    _, _, sandbox = loaded
    sandbox.open_meteo.faults.respond(
        "/v1/archive",
        429,
        body={
            "error": True,
            "reason": "Daily API request limit exceeded. Please try again tomorrow.",
        },
    )
    context = dg.build_asset_context(partition_key=LAST.isoformat())
    with pytest.raises(dg.Failure, match="daily API request limit exceeded") as caught:
        weather_daily(context, MarketPrepResource())
    assert caught.value.allow_retries is False  # the step's RetryPolicy would only spend quota
