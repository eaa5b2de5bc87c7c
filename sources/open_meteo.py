"""Open-Meteo daily weather at each market: archive (ERA5 history) and forecast (WIRE §2).

Rows are raw.weather_daily rows. Units are pinned in the request and checked in the response;
every daily array must be as long as `daily.time` (a body cut short mid-stream can still parse),
which is checked inside the HTTP retry loop so a short body is asked for again.

A 429 is read by its reason (Open-Meteo sends no Retry-After): the minutely and hourly limits are
waited out, the daily one raises DailyLimitExceeded at once, since no wait within a run cures it.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sources.http import HttpClient, SourceError

DAILY_UNITS = {"temperature_2m_max": "°C", "temperature_2m_min": "°C", "precipitation_sum": "mm"}
COLUMNS = {
    "temperature_2m_max": "temp_max_c",
    "temperature_2m_min": "temp_min_c",
    "precipitation_sum": "precip_mm",
}
# Coordinates go in the query string; this many keeps URLs far below common 8 KB limits.
MAX_POINTS_PER_CALL = 100
# The hourly limit resets at the top of the hour: waiting for it is allowed, a day is not.
MAX_WAIT_SECONDS = 3_700


class DailyLimitExceeded(SourceError):
    """Open-Meteo's daily request limit is used up: nothing more can be fetched until 00:00 UTC."""


@dataclass(frozen=True)
class Point:
    """A market to fetch weather for; `timezone` (IANA) decides which local days are returned."""

    market_id: str
    latitude: float
    longitude: float
    timezone: str


class OpenMeteoClient:
    """One multi-location request per time zone (Open-Meteo takes a single `timezone`)."""

    def __init__(self, forecast_url: str, archive_url: str, http: HttpClient | None = None) -> None:
        self._forecast_url = forecast_url.rstrip("/") + "/v1/forecast"
        self._archive_url = archive_url.rstrip("/") + "/v1/archive"
        self._http = http or HttpClient("open_meteo", max_wait=MAX_WAIT_SECONDS)

    def archive(self, points: list[Point], start: date, end: date) -> list[dict]:
        """Reanalysis history for local days start..end. Days still inside the reanalysis delay
        (about 5 days) come back all-null and are left out, so a later run can fill them.

        Open-Meteo applies the zone's UTC offset at request time to the whole response, so in a
        window that crosses a DST change the days beyond it are shifted by an hour: negligible
        for daily extremes and sums, and the reason not to stitch hourly data from long windows.
        """
        if end < start:
            raise ValueError(f"archive window ends ({end}) before it starts ({start})")
        window = {"start_date": start.isoformat(), "end_date": end.isoformat()}
        return self._daily(self._archive_url, points, window, "open_meteo_archive")

    def forecast(self, points: list[Point], past_days: int, forecast_days: int) -> list[dict]:
        """Forecast for the next `forecast_days` local days, plus `past_days` recent days that the
        archive does not have yet."""
        if not 0 <= past_days <= 92:
            raise ValueError(f"past_days {past_days} is outside Open-Meteo's 0..92")
        if not 0 <= forecast_days <= 16:
            raise ValueError(f"forecast_days {forecast_days} is outside Open-Meteo's 0..16")
        window = {"past_days": str(past_days), "forecast_days": str(forecast_days)}
        return self._daily(self._forecast_url, points, window, "open_meteo_forecast")

    def _daily(
        self, url: str, points: list[Point], window: dict[str, str], source: str
    ) -> list[dict]:
        fetched_at = self._http.clock()
        rows: list[dict] = []
        for zone, chunk in _batches(points):
            params = {
                "latitude": ",".join(f"{p.latitude:.5f}" for p in chunk),
                "longitude": ",".join(f"{p.longitude:.5f}" for p in chunk),
                "daily": ",".join(DAILY_UNITS),
                # Without it the server answers in GMT days, not market days.
                "timezone": zone,
                "temperature_unit": "celsius",
                "precipitation_unit": "mm",
                "timeformat": "iso8601",
                **window,
            }
            body = self._http.request_json(
                "GET",
                url,
                params=params,
                throttle_hint=throttle_delay,
                check=lambda body, chunk=chunk: _check_lengths(url, chunk, body),
            )
            # One location comes back as an object, several as an array in request order.
            locations = body if isinstance(body, list) else [body]
            if len(locations) != len(chunk):
                raise _bad(url, f"returned {len(locations)} locations for {len(chunk)} requested")
            for index, (point, location) in enumerate(zip(chunk, locations, strict=True)):
                rows.extend(_rows(url, index, point, location, zone, source, fetched_at))
        return rows


def _check_lengths(url: str, chunk: list[Point], body: Any) -> None:
    """Every daily.* array as long as daily.time: a body that parses yet lacks values is most
    likely a cut-short stream, so the error is retryable (the HTTP client asks again)."""
    locations = body if isinstance(body, list) else [body]
    for index, (point, location) in enumerate(zip(chunk, locations, strict=False)):
        daily = location.get("daily") if isinstance(location, dict) else None
        if not isinstance(daily, dict) or not isinstance(daily.get("time"), list):
            continue  # not a length problem; _rows names what is wrong
        for variable in COLUMNS:
            values = daily.get(variable)
            if not isinstance(values, list) or len(values) != len(daily["time"]):
                found = len(values) if isinstance(values, list) else values
                raise _bad(
                    url,
                    f"location {index} ({point.market_id}): daily.{variable} has {found} values "
                    f"for {len(daily['time'])} days",
                    retryable=True,
                    payload=location,
                )


def _batches(points: list[Point]) -> Iterator[tuple[str, list[Point]]]:
    unique: dict[str, Point] = {}
    for point in points:
        known = unique.setdefault(point.market_id, point)
        if known != point:
            raise ValueError(f"market {point.market_id} is given twice: {known} and {point}")
    by_zone: dict[str, list[Point]] = {}
    for point in unique.values():
        by_zone.setdefault(point.timezone, []).append(point)
    for zone, group in by_zone.items():
        for start in range(0, len(group), MAX_POINTS_PER_CALL):
            yield zone, group[start : start + MAX_POINTS_PER_CALL]


def _rows(
    url: str,
    index: int,
    point: Point,
    location: Any,
    zone: str,
    source: str,
    fetched_at: datetime,
) -> Iterator[dict]:
    where = f"location {index} ({point.market_id})"

    def bad(problem: str) -> SourceError:
        return _bad(url, f"{where} {problem}", payload=location)

    if not isinstance(location, dict):
        raise bad(f"is a JSON {type(location).__name__}, not an object")
    if location.get("location_id", 0) != index:
        raise bad(f"carries location_id {location.get('location_id')!r}")
    if location.get("timezone") != zone:
        raise bad(f"is in time zone {location.get('timezone')!r}, asked for {zone!r}")
    units = location.get("daily_units") or {}
    for variable, unit in DAILY_UNITS.items():
        if units.get(variable) != unit:
            raise bad(f"gives {variable} in {units.get(variable)!r}, asked for {unit}")
    daily = location.get("daily") or {}
    days = daily.get("time")
    if not isinstance(days, list):
        raise bad("has no daily.time array")
    columns = {}
    for variable, column in COLUMNS.items():
        values = daily.get(variable)
        if not isinstance(values, list) or len(values) != len(days):
            found = len(values) if isinstance(values, list) else values
            # Retryable: a body that parses yet lacks values is most likely a cut-short stream.
            raise _bad(
                url,
                f"{where}: daily.{variable} has {found} values for {len(days)} days",
                retryable=True,
                payload=location,
            )
        columns[column] = [_number(url, where, variable, v, location) for v in values]
    for i, day in enumerate(days):
        values = {column: columns[column][i] for column in columns}
        if all(v is None for v in values.values()):
            continue
        try:
            weather_date = date.fromisoformat(day)
        except (TypeError, ValueError):
            raise bad(f": daily.time[{i}] is {day!r}, not YYYY-MM-DD") from None
        yield {
            "market_id": point.market_id,
            "weather_date": weather_date,
            "source": source,
            **values,
            "fetched_at": fetched_at,
        }


def _number(url: str, where: str, variable: str, value: Any, location: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _bad(
            url, f"{where}: daily.{variable} holds {value!r}, not a number", payload=location
        )
    return float(value)


def _bad(url: str, problem: str, *, retryable: bool = False, payload: Any = None) -> SourceError:
    """A 200 whose content is unusable; the offending location object is kept for quarantine."""
    return SourceError(
        f"open_meteo: GET {urlsplit(url).path} {problem}",
        provider="open_meteo",
        status=200,
        retryable=retryable,
        payload=None if payload is None else json.dumps(payload, ensure_ascii=False),
    )


def throttle_delay(reason: str | None, now: datetime) -> float | None:
    """Seconds until Open-Meteo's counter named in a 429's reason resets (counters reset on UTC
    minute and hour boundaries). The daily limit raises DailyLimitExceeded instead: the run
    should stop and say when to try again, not sleep until midnight."""
    text = (reason or "").lower()
    now = now.astimezone(UTC)
    if "daily" in text:
        midnight = now.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        raise DailyLimitExceeded(
            f"open_meteo: daily API request limit exceeded ({reason}); the limit resets at "
            f"{midnight:%Y-%m-%d %H:%M} UTC, in {(midnight - now).total_seconds() / 3600:.1f} h: "
            "run the job again after that",
            provider="open_meteo",
            status=429,
            code="DAILY_LIMIT",
        )
    if "minutely" in text:
        boundary = now.replace(second=0, microsecond=0) + timedelta(minutes=1)
    elif "hourly" in text:
        boundary = now.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    else:
        return None  # "Too many concurrent requests": plain backoff
    # One second past the boundary, so the retry lands after the reset rather than on it.
    return (boundary - now).total_seconds() + 1
