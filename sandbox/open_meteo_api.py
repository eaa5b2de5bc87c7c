"""Fake Open-Meteo: `/v1/forecast` and `/v1/archive` (daily data) on one server.

Query parameters and the response body follow WIRE-FORMATS §2 and the extract: comma-separated
coordinates give a top-level JSON array whose 2nd+ elements carry `location_id`; column arrays
parallel to `daily.time`; missing values are null; one fixed `utc_offset_seconds` (the zone's
offset at request time, i.e. at the sandbox clock); GMT when `timezone` is absent; 400
`{"error": true, "reason": ...}` for bad parameters.

Values come from the simulated world: a coordinate within 0.1° of a market gets that market's
weather, anything else the climatology of the calendar day. The archive lags the sandbox clock by
`reanalysis_delay_days` (values null from `end - 5` on); the forecast covers
`end - past_days .. end + forecast_days - 1` (at most 16 days ahead). Variables other than
temperature and precipitation are derived from them plausibly, not simulated.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.open_meteo_vars import (
    ARCHIVE_DAILY,
    FORECAST_DAILY,
    SUN_EVENTS,
    VARIABLES,
    Day,
    sun_time,
)
from sandbox.simulator import sandbox_now
from sandbox.weather import climatology
from sandbox.world import Market, World

JSON_UTF8 = {"Content-Type": "application/json; charset=utf-8"}
ARCHIVE_FIRST_DAY = dt.date(1940, 1, 1)
MAX_PAST_DAYS = 92
MAX_FORECAST_DAYS = 16
MATCH_DEGREES = 0.1
GRID_DEGREES = {"/v1/forecast": 0.025, "/v1/archive": 0.1}  # model grid the answer snaps to

STANDARD_REASONS = {
    400: "Bad request",
    404: "Not Found",
    429: "Minutely API request limit exceeded. Please try again in one minute.",
    500: "Something went wrong.",
    503: "The service is overloaded",
}

DAILY = {"/v1/forecast": frozenset(FORECAST_DAILY), "/v1/archive": frozenset(ARCHIVE_DAILY)}
UNIT_CHOICES = {
    "temperature_unit": ("celsius", "fahrenheit"),
    "precipitation_unit": ("mm", "inch"),
    "wind_speed_unit": ("kmh", "ms", "mph", "kn"),
    "timeformat": ("iso8601", "unixtime"),
}
WIND_UNITS = {
    "kmh": ("km/h", 1.0),
    "ms": ("m/s", 1 / 3.6),
    "mph": ("mp/h", 1 / 1.609344),
    "kn": ("kn", 1 / 1.852),
}


class OpenMeteoError(Exception):
    """A 400 with Open-Meteo's reason text."""


def error_body(status: int, reason: str | None = None) -> Reply:
    """Open-Meteo's `{"error": true, "reason": ...}` for a status."""
    text = reason or STANDARD_REASONS.get(status, STANDARD_REASONS[500])
    return Reply(status, {"error": True, "reason": text}, dict(JSON_UTF8))


class _Units:
    """The unit choices of one request: unit strings and conversions from metric."""

    def __init__(self, query: dict[str, str]) -> None:
        for name, choices in UNIT_CHOICES.items():
            value = query.get(name, choices[0])
            if value not in choices:
                raise OpenMeteoError(
                    f"Cannot initialize {name.title().replace('_', '')} from invalid String value "
                    f"{value} for key {name}"
                )
        self.fahrenheit = query.get("temperature_unit") == "fahrenheit"
        self.inch = query.get("precipitation_unit") == "inch"
        self.wind_unit, self.wind_factor = WIND_UNITS[query.get("wind_speed_unit", "kmh")]
        self.unixtime = query.get("timeformat") == "unixtime"

    def label(self, variable: str) -> str:
        if variable in SUN_EVENTS:
            return "unixtime" if self.unixtime else "iso8601"
        kind = VARIABLES[variable][0]
        return {
            "temperature": "°F" if self.fahrenheit else "°C",
            "precipitation": "inch" if self.inch else "mm",
            "snow": "inch" if self.inch else "cm",
            "wind": self.wind_unit,
        }.get(kind, kind)

    def convert(self, variable: str, value: Any) -> Any:
        kind = VARIABLES[variable][0]
        if kind == "temperature":
            return round(value * 9 / 5 + 32 if self.fahrenheit else value, 1)
        if kind == "precipitation":
            return round(value / 25.4, 3) if self.inch else round(value, 1)
        if kind == "snow":
            return round(value / 2.54, 3) if self.inch else round(value, 2)
        if kind == "wind":
            return round(value * self.wind_factor, 1)
        return value if isinstance(value, int) else round(value, 2)


def _floats(query: dict[str, str], name: str) -> list[float]:
    if name not in query:
        raise OpenMeteoError(f"Value required for key '{name}'.")
    try:
        return [float(part) for part in query[name].split(",")]
    except ValueError:
        raise OpenMeteoError(
            f"Cannot initialize Float from invalid String value {query[name]} for key {name}"
        ) from None


def _int(query: dict[str, str], name: str, default: int, top: int, label: str) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OpenMeteoError(
            f"Cannot initialize Int from invalid String value {raw} for key {name}"
        ) from None
    if not 0 <= value <= top:
        raise OpenMeteoError(f"{label} is invalid. Allowed range 0 to {top}. Given {value}.")
    return value


def _date(query: dict[str, str], name: str) -> dt.date:
    try:
        return dt.date.fromisoformat(query[name])
    except ValueError:
        raise OpenMeteoError(
            f"Parameter '{name}' is invalid: '{query[name]}' is not YYYY-MM-DD"
        ) from None


class OpenMeteoApp:
    """Request handler for the fake forecast and archive APIs over a simulated world."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.reanalysis_delay_days = 5
        self.now = sandbox_now(world.config)

    def __call__(self, request: RecordedRequest) -> Reply:
        started = time.perf_counter()
        if request.path not in DAILY or request.method != "GET":
            return error_body(404)
        try:
            body = self._answer(request.path, request.query, started)
        except OpenMeteoError as error:
            return error_body(400, str(error))
        return Reply(200, body, dict(JSON_UTF8))

    def _days(self, path: str, query: dict[str, str]) -> list[dt.date]:
        end = self.world.config.end
        if path == "/v1/archive" or "start_date" in query or "end_date" in query:
            if "start_date" not in query or "end_date" not in query:
                raise OpenMeteoError("Both 'start_date' and 'end_date' must be set in the url")
            if "past_days" in query or "forecast_days" in query:
                raise OpenMeteoError(
                    "Parameter 'start_date' and 'end_date' are mutually exclusive with "
                    "'past_days' and 'forecast_days'"
                )
            first, last = _date(query, "start_date"), _date(query, "end_date")
            if path == "/v1/archive":
                allowed = (ARCHIVE_FIRST_DAY, end)
            else:
                allowed = (
                    end - dt.timedelta(days=MAX_PAST_DAYS),
                    end + dt.timedelta(days=MAX_FORECAST_DAYS - 1),
                )
            for name, day in (("start_date", first), ("end_date", last)):
                if not allowed[0] <= day <= allowed[1]:
                    raise OpenMeteoError(
                        f"Parameter '{name}' is out of allowed range from {allowed[0]} to "
                        f"{allowed[1]}"
                    )
            if last < first:
                raise OpenMeteoError("End-date must be larger or equals than start-date")
        else:
            past = _int(query, "past_days", 0, MAX_PAST_DAYS, "Past days")
            ahead = _int(query, "forecast_days", 7, MAX_FORECAST_DAYS, "Forecast days")
            first, last = end - dt.timedelta(days=past), end + dt.timedelta(days=ahead - 1)
        return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]

    def _answer(self, path: str, query: dict[str, str], started: float) -> dict | list:
        latitudes, longitudes = _floats(query, "latitude"), _floats(query, "longitude")
        if len(latitudes) != len(longitudes):
            raise OpenMeteoError(
                "Parameter 'latitude' and 'longitude' must have the same number of elements"
            )
        for lat in latitudes:
            if not -90 <= lat <= 90:
                raise OpenMeteoError(f"Latitude must be in range of -90 to 90°. Given: {lat}.")
        for lon in longitudes:
            if not -180 <= lon <= 180:
                raise OpenMeteoError(f"Longitude must be in range of -180 to 180°. Given: {lon}.")
        for section in ("hourly", "current", "minutely_15"):
            if section in query:
                raise OpenMeteoError(
                    f"The MarketPrep sandbox simulates daily data only; '{section}' is not served"
                )
        variables = [v for v in query.get("daily", "").split(",") if v]
        for variable in variables:
            if variable not in DAILY[path]:
                raise OpenMeteoError(
                    f"Cannot initialize WeatherVariable from invalid String value {variable} "
                    "for key daily"
                )
        units = _Units(query)
        days = self._days(path, query)
        zones = query.get("timezone", "GMT").split(",")
        if len(zones) not in (1, len(latitudes)):
            raise OpenMeteoError("Parameter 'timezone' must have one value or one per location")
        answers = []
        for index, (lat, lon) in enumerate(zip(latitudes, longitudes, strict=True)):
            market = self._market(lat, lon)
            zone = zones[index if len(zones) > 1 else 0]
            answer = self._location(path, lat, lon, market, zone, variables, units, days, started)
            if index:
                answer = _with_location_id(answer, index)
            answers.append(answer)
        return answers if len(answers) > 1 else answers[0]

    def _market(self, lat: float, lon: float) -> Market:
        return min(
            self.world.markets, key=lambda m: (m.latitude - lat) ** 2 + (m.longitude - lon) ** 2
        )

    def _zone(self, name: str, market: Market) -> tuple[str, int, str]:
        """(timezone name, fixed utc offset at request time, abbreviation)."""
        if name == "auto":
            name = market.timezone
        if name in ("GMT", "UTC"):
            return name, 0, name
        try:
            zone = ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise OpenMeteoError(f"Invalid timezone '{name}'") from None
        local = self.now.astimezone(zone)
        offset = int((local.utcoffset() or dt.timedelta(0)).total_seconds())
        return name, offset - offset % 3600, local.tzname() or name

    def _weather(self, market: Market, near: bool, day: dt.date) -> dict[str, float]:
        if near:
            found = self.world.weather.get((market.market_key, day))
            if found is not None:
                return found
        return climatology(day)

    def _location(
        self,
        path: str,
        lat: float,
        lon: float,
        market: Market,
        zone_name: str,
        variables: list[str],
        units: _Units,
        days: list[dt.date],
        started: float,
    ) -> dict[str, Any]:
        near = (
            abs(market.latitude - lat) <= MATCH_DEGREES
            and abs(market.longitude - lon) <= MATCH_DEGREES
        )
        zone, offset, abbreviation = self._zone(zone_name, market)
        grid = GRID_DEGREES[path]
        # Null from `end - delay` on: reanalysis has not caught up with the last days yet.
        cutoff = self.world.config.end - dt.timedelta(days=self.reanalysis_delay_days)
        weather_days = [Day(day, self._weather(market, near, day)) for day in days]
        missing = [path == "/v1/archive" and day >= cutoff for day in days]
        if units.unixtime:
            times: list[Any] = [_epoch(day) - offset for day in days]
        else:
            times = [day.isoformat() for day in days]
        daily: dict[str, list[Any]] = {"time": times}
        for variable in variables:
            if variable in SUN_EVENTS:
                column = [sun_time(d, variable, offset, units.unixtime) for d in weather_days]
            else:
                metric = VARIABLES[variable][1]
                column = [units.convert(variable, metric(d)) for d in weather_days]
            daily[variable] = [
                None if gap else value for value, gap in zip(column, missing, strict=True)
            ]
        body: dict[str, Any] = {
            "latitude": round((math.floor(lat / grid) + 0.5) * grid, 6),
            "longitude": round((math.floor(lon / grid) + 0.5) * grid, 6),
            "generationtime_ms": round((time.perf_counter() - started) * 1000, 4),
            "utc_offset_seconds": offset,
            "timezone": zone,
            "timezone_abbreviation": abbreviation,
            "elevation": market.elevation_m if near else 50.0,
        }
        if variables:
            body["daily_units"] = {"time": "unixtime" if units.unixtime else "iso8601"} | {
                variable: units.label(variable) for variable in variables
            }
            body["daily"] = daily
        return body


def _with_location_id(answer: dict[str, Any], index: int) -> dict[str, Any]:
    """Open-Meteo puts `location_id` right after `elevation` on the 2nd+ locations."""
    out: dict[str, Any] = {}
    for key, value in answer.items():
        out[key] = value
        if key == "elevation":
            out["location_id"] = index
    return out


def _epoch(day: dt.date) -> int:
    return int(dt.datetime.combine(day, dt.time(0), dt.UTC).timestamp())
