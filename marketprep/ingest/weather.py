"""Daily weather per market into raw.weather_daily, down a fallback chain.

History: Open-Meteo's archive for the ingested days. Coming days: Open-Meteo's forecast (with
`past_days` covering the archive's reanalysis delay); for a US market whose forecast failed, the
NWS forecast; failing that, nothing is stored and dbt falls back to the market's climatology
(normals of its own archive history), so every feature value says which source it came from.

Open-Meteo is asked once per time zone for all markets in it; when such a call's answer is bad
for one location, each market is asked alone so only that one falls back. Unusable payloads are
quarantined. Open-Meteo's daily request limit stops the load before anything is written
(DailyLimitExceeded): every other market would hit it too, and a retry before 00:00 UTC cannot help.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from itertools import groupby

from data_contracts import contract
from marketprep.ingest.feeds import MarketSite, Scoped, market_sites, quarantine, replace_scoped
from marketprep.ingest.results import SyncResult
from marketprep.settings import Settings
from marketprep.warehouse import Warehouse
from sources.http import SourceError
from sources.nws import GridPoint, NWSClient
from sources.open_meteo import DailyLimitExceeded, OpenMeteoClient, Point

WEATHER = contract("raw.weather_daily")
NWS_POINTS = contract("raw.nws_points")
FORECAST_PAST_DAYS = 5  # the archive lags about five days behind; the forecast API fills the gap
FORECAST_SOURCES = "('open_meteo_forecast', 'nws_forecast')"
NWS_COUNTRIES = frozenset({"US"})
GRID_MAX_AGE = dt.timedelta(days=30)

Fetched = dict[str, list[dict] | SourceError]


def sync_weather(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
) -> list[SyncResult]:
    """Archive weather for the ingested days, and a forecast for the days the run plans for.

    Forecast rows from the planning day on always reflect this run: Open-Meteo's, else NWS's,
    else none (climatology takes over in dbt). Archive rows are replaced only when the archive
    answered. Raises DailyLimitExceeded, having written nothing, on Open-Meteo's daily limit.
    """
    sites = market_sites(warehouse)
    warehouse.ensure_tables([WEATHER])  # dbt reads it even before any market has weather
    planning_day = last_day + dt.timedelta(days=1)
    open_meteo = OpenMeteoClient(settings.open_meteo_forecast_url, settings.open_meteo_archive_url)
    archive = _per_market(sites, lambda points: open_meteo.archive(points, first_day, last_day))
    forecast = _per_market(
        sites,
        lambda points: open_meteo.forecast(points, FORECAST_PAST_DAYS, settings.horizon_days + 1),
    )
    cached = _cached_grids(warehouse, now)
    nws = NWSClient(settings.nws_base_url, settings.nws_user_agent, grid_points=cached)

    results = []
    for site in sites:
        rows: list[dict] = []
        scopes: list[str] = []
        params: list[object] = [site.market_id]
        problems: list[str] = []
        answer = archive[site.market_id]
        if isinstance(answer, SourceError):
            problems.append(f"archive failed, history days fall back: {answer}")
            _quarantine(warehouse, site, answer, now)
        else:
            rows += [dict(row, fetched_at=now) for row in answer]
            scopes.append("(source = 'open_meteo_archive' and weather_date between ? and ?)")
            params += [first_day, last_day]
        answer = forecast[site.market_id]
        if not isinstance(answer, SourceError):
            rows += [dict(row, fetched_at=now) for row in answer]
            scopes.append(f"source in {FORECAST_SOURCES}")
        else:
            _quarantine(warehouse, site, answer, now)
            # Yesterday's forecast for the coming days is replaced even when nothing answers.
            scopes.append(f"(source in {FORECAST_SOURCES} and weather_date >= ?)")
            params.append(planning_day)
            fallback, problem = _nws_forecast(nws, warehouse, site, planning_day, now)
            rows += fallback
            used = "nws_forecast" if fallback else "climatology"
            problems.append(f"forecast from {used}; open_meteo: {answer}")
            if problem:
                problems.append(problem)
        where = f"market_id = ? and ({' or '.join(scopes)})"
        written = replace_scoped(warehouse, [Scoped(WEATHER, rows, where, params)])
        status = "fallback" if problems else "ok"
        results.append(
            SyncResult(
                site.market_id, status, written[WEATHER.table], 0, "; ".join(problems) or None
            )
        )
    _save_grids(warehouse, cached, nws.grid_points, now)
    return results


def _per_market(sites: list[MarketSite], fetch: Callable[[list[Point]], list[dict]]) -> Fetched:
    """Rows (or the failure) per market: one call per time zone, each market alone when a
    call's answer was bad for some location (so only that market fails)."""
    outcome: Fetched = {}
    for _, group in groupby(sorted(sites, key=lambda s: s.timezone), key=lambda s: s.timezone):
        markets = list(group)
        try:
            rows = fetch([site.point for site in markets])
        except DailyLimitExceeded:
            raise
        except SourceError as exc:
            content = exc.status == 200 and exc.code != "INVALID_JSON"
            if not content or len(markets) == 1:
                outcome |= {site.market_id: exc for site in markets}
                continue
            for site in markets:
                outcome |= _per_market([site], fetch)
            continue
        for site in markets:
            outcome[site.market_id] = [r for r in rows if r["market_id"] == site.market_id]
    return outcome


def _nws_forecast(
    nws: NWSClient,
    warehouse: Warehouse,
    site: MarketSite,
    planning_day: dt.date,
    now: dt.datetime,
) -> tuple[list[dict], str | None]:
    """NWS rows from the planning day on, or none and why."""
    if site.country not in NWS_COUNTRIES:
        return [], f"nws: covers US markets only, {site.market_id} is in {site.country}"
    try:
        rows = nws.daily_forecast(site.market_id, site.latitude, site.longitude, site.timezone)
    except SourceError as exc:
        _quarantine(warehouse, site, exc, now)
        return [], str(exc)  # names the provider already
    rows = [dict(row, fetched_at=now) for row in rows if row["weather_date"] >= planning_day]
    return rows, None if rows else f"nws: forecast has no day from {planning_day} on"


def _quarantine(
    warehouse: Warehouse, site: MarketSite, error: SourceError, now: dt.datetime
) -> None:
    if error.payload is not None:
        quarantine(warehouse, error.provider, site.market_id, str(error), error.payload, now)


def _cached_grids(warehouse: Warehouse, now: dt.datetime) -> dict[str, GridPoint]:
    if not warehouse.table_exists(NWS_POINTS.table):
        return {}
    known = warehouse.query(
        "select * from raw.nws_points where resolved_at >= ?", [now - GRID_MAX_AGE]
    )
    return {
        r.point: GridPoint(
            r.point, r.grid_id, int(r.grid_x), int(r.grid_y), r.forecast_url, r.time_zone
        )
        for r in known.itertuples()
    }


def _save_grids(
    warehouse: Warehouse,
    before: dict[str, GridPoint],
    after: dict[str, GridPoint],
    now: dt.datetime,
) -> None:
    """Store the grid squares this run looked up (new, or moved since they were cached)."""
    changed = [grid for key, grid in after.items() if before.get(key) != grid]
    if not changed:
        return
    rows = [grid.as_row() | {"resolved_at": now} for grid in changed]
    marks = ", ".join("?" for _ in changed)
    warehouse.replace(
        NWS_POINTS, rows, where=f"point in ({marks})", params=[g.point for g in changed]
    )
