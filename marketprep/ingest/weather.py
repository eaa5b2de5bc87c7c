"""Daily weather per market into raw.weather_daily: archive for history, forecast ahead."""

from __future__ import annotations

import datetime as dt

from data_contracts import contract
from marketprep.ingest.results import SyncResult, per_subject
from marketprep.settings import Settings
from marketprep.warehouse import Warehouse
from sources.open_meteo import OpenMeteoClient, Point

WEATHER = contract("raw.weather_daily")
FORECAST_PAST_DAYS = 5  # the archive lags about five days behind; the forecast API fills the gap


def market_points(warehouse: Warehouse) -> list[Point]:
    markets = warehouse.query(
        "select market_id, min(latitude) as latitude, min(longitude) as longitude, min(timezone) as timezone "
        "from raw.square_locations where status = 'ACTIVE' group by market_id order by market_id"
    )
    return [
        Point(r.market_id, float(r.latitude), float(r.longitude), r.timezone)
        for r in markets.itertuples()
    ]


def sync_weather(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
) -> list[SyncResult]:
    """Archive weather for the ingested days, and the forecast for the days the run plans for."""
    client = OpenMeteoClient(settings.open_meteo_forecast_url, settings.open_meteo_archive_url)
    points = {p.market_id: p for p in market_points(warehouse)}
    forecast_days = settings.horizon_days + 1

    def load(market_id: str) -> tuple[int, int]:
        point = points[market_id]
        archive = [dict(r, fetched_at=now) for r in client.archive([point], first_day, last_day)]
        forecast = [
            dict(r, fetched_at=now)
            for r in client.forecast([point], FORECAST_PAST_DAYS, forecast_days)
        ]
        written = warehouse.replace_many(
            [(WEATHER, archive + forecast)],
            where="market_id = ? and ((source = 'open_meteo_archive' and weather_date between ? and ?) "
            "or source = 'open_meteo_forecast')",
            params=[market_id, first_day, last_day],
        )
        return written[WEATHER.table], 0

    return per_subject(points, load)
