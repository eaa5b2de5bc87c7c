"""US National Weather Service (api.weather.gov): the daily forecast at a US market (WIRE §3).

Two steps: `/points/{lat},{lon}` maps the market to its forecast office's grid square, then the
gridpoint forecast's 12-hour periods become raw.weather_daily rows (source `nws_forecast`): a
day's high is its daytime period, its low the night period that ends that morning. NWS gives a
chance of rain, never an amount, so precip_mm stays null and the features take precipitation from
elsewhere. The point mapping rarely changes: the client caches it (`grid_points`), and callers
persist that cache between runs. The API refuses requests without a User-Agent that names the
application.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sources.http import HttpClient, SourceError
from sources.timeparse import parse_rfc3339

SOURCE = "nws_forecast"


@dataclass(frozen=True)
class GridPoint:
    """Where /points sends a coordinate: the office's grid square and its forecast URL."""

    point: str  # the coordinate as sent, e.g. "41.978,-91.67"
    grid_id: str
    grid_x: int
    grid_y: int
    forecast_url: str
    time_zone: str | None

    def as_row(self) -> dict[str, Any]:
        return asdict(self)


def point_key(latitude: float, longitude: float) -> str:
    """The /points path segment: at most 4 decimals (more gets a redirect), no trailing zeros."""

    def short(value: float) -> str:
        return f"{value:.4f}".rstrip("0").rstrip(".")

    return f"{short(latitude)},{short(longitude)}"


class NWSClient:
    """Forecast highs and lows for a point, with the point → grid mapping cached."""

    def __init__(
        self,
        base_url: str,
        user_agent: str,
        http: HttpClient | None = None,
        grid_points: Mapping[str, GridPoint] | None = None,
    ) -> None:
        if not user_agent.strip():
            raise ValueError(
                "api.weather.gov refuses requests without a User-Agent: set "
                "MARKETPREP_NWS_USER_AGENT, e.g. 'MarketPrep/0.1 (ops@example.com)'"
            )
        self._base = base_url.rstrip("/")
        self._headers = {"User-Agent": user_agent, "Accept": "application/geo+json"}
        self._http = http or HttpClient("nws")
        self.grid_points: dict[str, GridPoint] = dict(grid_points or {})

    def grid_point(self, latitude: float, longitude: float) -> GridPoint:
        """The grid square of a point, from the cache or from /points."""
        key = point_key(latitude, longitude)
        cached = self.grid_points.get(key)
        if cached is not None:
            return cached
        url = f"{self._base}/points/{key}"
        body = self._http.request_json("GET", url, headers=self._headers)
        properties = body.get("properties") if isinstance(body, dict) else None
        try:
            found = GridPoint(
                point=key,
                grid_id=_text(properties, "gridId"),
                grid_x=_whole(properties, "gridX"),
                grid_y=_whole(properties, "gridY"),
                forecast_url=_text(properties, "forecast"),
                time_zone=properties.get("timeZone"),
            )
        except (TypeError, ValueError, AttributeError) as exc:
            raise _bad(url, f"has no usable grid: {exc}", body) from None
        self.grid_points[key] = found
        return found

    def daily_forecast(
        self, market_id: str, latitude: float, longitude: float, timezone: str
    ) -> list[dict]:
        """raw.weather_daily rows for the days the forecast covers, as local days in `timezone`.

        A cached grid the forecast no longer knows (404: offices re-grid now and then) is looked
        up again once."""
        key = point_key(latitude, longitude)
        was_cached = key in self.grid_points
        grid = self.grid_point(latitude, longitude)
        try:
            body = self._http.request_json("GET", grid.forecast_url, headers=self._headers)
        except SourceError as exc:
            if not (was_cached and exc.status == 404):
                raise
            del self.grid_points[key]
            grid = self.grid_point(latitude, longitude)
            body = self._http.request_json("GET", grid.forecast_url, headers=self._headers)
        return daily_rows(market_id, body, timezone, self._http.clock(), grid.forecast_url)


def daily_rows(
    market_id: str, body: Any, timezone: str, fetched_at: datetime, url: str = "forecast"
) -> list[dict]:
    """Daily highs and lows from a gridpoint forecast body (12-hour periods)."""
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"market {market_id} has an unknown time zone {timezone!r}") from None
    properties = body.get("properties") if isinstance(body, dict) else None
    periods = properties.get("periods") if isinstance(properties, dict) else None
    if not isinstance(periods, list) or not periods:
        raise _bad(url, "has no properties.periods", body)
    highs: dict[date, float] = {}
    lows: dict[date, float] = {}
    for index, period in enumerate(periods):
        try:
            start = parse_rfc3339(period["startTime"]).astimezone(zone)
            end = parse_rfc3339(period["endTime"]).astimezone(zone)
            temperature = _celsius(period)
            daytime = period["isDaytime"]
            if not isinstance(daytime, bool):
                raise ValueError(f"isDaytime is {daytime!r}")
        except (KeyError, TypeError, ValueError) as exc:
            raise _bad(url, f"period {index} is unreadable: {exc}", body) from None
        if daytime:
            highs.setdefault(start.date(), temperature)
        else:
            # A night runs into the next morning, whose low it is.
            lows.setdefault(end.date(), temperature)
    return [
        {
            "market_id": market_id,
            "weather_date": day,
            "source": SOURCE,
            "temp_max_c": highs.get(day),
            "temp_min_c": lows.get(day),
            "precip_mm": None,
            "fetched_at": fetched_at,
        }
        for day in sorted(highs.keys() | lows.keys())
    ]


def _celsius(period: dict) -> float:
    """A period's temperature in °C: an integer with temperatureUnit F or C, or (behind the
    forecast_temperature_qv feature flag) a QuantitativeValue with a wmoUnit code."""
    value = period["temperature"]
    if isinstance(value, dict):
        unit = {"wmoUnit:degF": "F", "wmoUnit:degC": "C"}.get(value.get("unitCode"))
        value = value.get("value")
    else:
        unit = period.get("temperatureUnit")
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"temperature is {value!r}, not a number")
    if unit == "F":
        return round((value - 32) * 5 / 9, 1)
    if unit == "C":
        return round(float(value), 1)
    raise ValueError(f"temperature unit is {unit!r}, expected F or C")


def _text(properties: Any, name: str) -> str:
    value = properties[name]
    if not isinstance(value, str) or not value:
        raise ValueError(f"properties.{name} is {value!r}")
    return value


def _whole(properties: Any, name: str) -> int:
    value = properties[name]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"properties.{name} is {value!r}, not an integer")
    return value


def _bad(url: str, problem: str, body: Any) -> SourceError:
    return SourceError(
        f"nws: GET {urlsplit(url).path} {problem}",
        provider="nws",
        status=200,
        payload=json.dumps(body, ensure_ascii=False),
    )
