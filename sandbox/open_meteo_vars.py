"""Open-Meteo's daily variables, derived from a simulated day's temperature and precipitation.

Only the daily max/min temperature and the precipitation sum are simulated; every other variable
either endpoint accepts is a plausible function of them, the day of the year and the rain, so a
client asking for, say, `sunshine_duration` gets a number of the right kind and size.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from typing import Any

# Daily variables each endpoint accepts (the extract's enums).
FORECAST_DAILY = [
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "apparent_temperature_max",
    "apparent_temperature_min",
    "sunrise",
    "sunset",
    "daylight_duration",
    "sunshine_duration",
    "uv_index_max",
    "uv_index_clear_sky_max",
    "rain_sum",
    "showers_sum",
    "snowfall_sum",
    "precipitation_sum",
    "precipitation_hours",
    "precipitation_probability_max",
    "wind_speed_10m_max",
    "wind_gusts_10m_max",
    "wind_direction_10m_dominant",
    "shortwave_radiation_sum",
    "et0_fao_evapotranspiration",
]
ARCHIVE_DAILY = [
    "weather_code",
    "temperature_2m_mean",
    "temperature_2m_max",
    "temperature_2m_min",
    "apparent_temperature_mean",
    "apparent_temperature_max",
    "apparent_temperature_min",
    "sunrise",
    "sunset",
    "daylight_duration",
    "sunshine_duration",
    "precipitation_sum",
    "rain_sum",
    "snowfall_sum",
    "precipitation_hours",
    "wind_speed_10m_max",
    "wind_gusts_10m_max",
    "wind_direction_10m_dominant",
    "shortwave_radiation_sum",
    "et0_fao_evapotranspiration",
    "cloud_cover_mean",
    "dew_point_2m_mean",
    "dew_point_2m_max",
    "dew_point_2m_min",
    "relative_humidity_2m_mean",
    "relative_humidity_2m_max",
    "relative_humidity_2m_min",
    "pressure_msl_mean",
    "wind_speed_10m_mean",
    "wet_bulb_temperature_2m_mean",
    "vapour_pressure_deficit_max",
    "soil_moisture_0_to_7cm_mean",
    "soil_moisture_7_to_28cm_mean",
    "soil_moisture_28_to_100cm_mean",
    "soil_moisture_0_to_100cm_mean",
    "soil_temperature_0_to_7cm_mean",
    "soil_temperature_7_to_28cm_mean",
    "soil_temperature_28_to_100cm_mean",
]


class Day:
    """One day's weather at a point, with the variables Open-Meteo derives from it (metric)."""

    def __init__(self, day: dt.date, base: dict[str, float]) -> None:
        self.day = day
        self.t_max, self.t_min, self.mm = base["temp_max_c"], base["temp_min_c"], base["precip_mm"]
        self.wet = self.mm >= 1.0
        doy = day.timetuple().tm_yday
        self.summer = (1 + math.cos(2 * math.pi * (doy - 200) / 365.25)) / 2  # 0 winter .. 1 summer
        self.daylight_h = 12 + 3.9 * math.sin(2 * math.pi * (doy - 80) / 365.25)

    @property
    def mean(self) -> float:
        return (self.t_max + self.t_min) / 2

    @property
    def rain(self) -> float:
        return self.mm if self.t_min > 0.5 else round(self.mm * 0.3, 1)

    @property
    def wind(self) -> float:
        return 9.0 + 0.8 * min(self.mm, 25.0) + 3.0 * (1 - self.summer)

    def weather_code(self) -> int:
        if self.mm == 0:
            return 1 if self.t_max > 20 else 2
        if self.t_min <= 0.5:
            return 71 if self.mm < 5 else 73
        return 51 if self.mm < 2 else 61 if self.mm < 8 else 63 if self.mm < 20 else 65


def _temp(fn: Callable[[Day], float]) -> tuple[str, Callable[[Day], Any]]:
    return "temperature", fn


# variable -> (kind of unit, metric value); the kind decides the unit string and conversion.
VARIABLES: dict[str, tuple[str, Callable[[Day], Any]]] = {
    "temperature_2m_max": _temp(lambda d: d.t_max),
    "temperature_2m_min": _temp(lambda d: d.t_min),
    "temperature_2m_mean": _temp(lambda d: d.mean),
    "apparent_temperature_max": _temp(lambda d: d.t_max - 1.5 - d.wet),
    "apparent_temperature_min": _temp(lambda d: d.t_min - 2.5),
    "apparent_temperature_mean": _temp(lambda d: d.mean - 2.0 - 0.5 * d.wet),
    "dew_point_2m_mean": _temp(lambda d: d.t_min - 1 + d.wet),
    "dew_point_2m_max": _temp(lambda d: d.t_min + 1 + d.wet),
    "dew_point_2m_min": _temp(lambda d: d.t_min - 3 + d.wet),
    "wet_bulb_temperature_2m_mean": _temp(lambda d: d.mean - 2 + d.wet),
    "soil_temperature_0_to_7cm_mean": _temp(lambda d: d.mean),
    "soil_temperature_7_to_28cm_mean": _temp(lambda d: 0.9 * d.mean + 1),
    "soil_temperature_28_to_100cm_mean": _temp(lambda d: 0.5 * d.mean + 5),
    "precipitation_sum": ("precipitation", lambda d: d.mm),
    "rain_sum": ("precipitation", lambda d: d.rain),
    "showers_sum": ("precipitation", lambda d: 0.0),
    "et0_fao_evapotranspiration": (
        "precipitation",
        lambda d: (0.3 + 4.5 * d.summer) * (0.5 if d.wet else 1.0),
    ),
    "snowfall_sum": ("snow", lambda d: (d.mm - d.rain) * 0.7),
    "precipitation_hours": (
        "h",
        lambda d: 0.0 if d.mm == 0 else float(min(24, round(1 + d.mm / 1.5))),
    ),
    "precipitation_probability_max": ("%", lambda d: int(min(100, 60 + 4 * d.mm)) if d.mm else 8),
    "weather_code": ("wmo code", lambda d: d.weather_code()),
    "wind_speed_10m_max": ("wind", lambda d: d.wind),
    "wind_gusts_10m_max": ("wind", lambda d: d.wind * 1.9),
    "wind_speed_10m_mean": ("wind", lambda d: d.wind * 0.55),
    "wind_direction_10m_dominant": ("°", lambda d: 200 if d.wet else 340),
    "daylight_duration": ("s", lambda d: d.daylight_h * 3600),
    "sunshine_duration": ("s", lambda d: d.daylight_h * 3600 * (0.25 if d.wet else 0.85)),
    "uv_index_max": ("", lambda d: (1 + 7 * d.summer) * (0.5 if d.wet else 1.0)),
    "uv_index_clear_sky_max": ("", lambda d: 1 + 7 * d.summer),
    "shortwave_radiation_sum": ("MJ/m²", lambda d: (2 + 24 * d.summer) * (0.35 if d.wet else 0.9)),
    "cloud_cover_mean": ("%", lambda d: 90 if d.wet else 55 if d.mm else 30),
    "relative_humidity_2m_mean": ("%", lambda d: 88 if d.wet else 68),
    "relative_humidity_2m_max": ("%", lambda d: 100 if d.wet else 86),
    "relative_humidity_2m_min": ("%", lambda d: 70 if d.wet else 45),
    "pressure_msl_mean": ("hPa", lambda d: 1018 - 0.5 * min(d.mm, 30.0)),
    "vapour_pressure_deficit_max": (
        "kPa",
        lambda d: max(0.05, 0.15 + 0.09 * max(d.t_max, 0) - 0.5 * d.wet),
    ),
    "soil_moisture_0_to_7cm_mean": (
        "m³/m³",
        lambda d: 0.22 + 0.006 * min(d.mm, 20) + 0.08 * (1 - d.summer),
    ),
    "soil_moisture_7_to_28cm_mean": (
        "m³/m³",
        lambda d: 0.24 + 0.004 * min(d.mm, 20) + 0.08 * (1 - d.summer),
    ),
    "soil_moisture_28_to_100cm_mean": ("m³/m³", lambda d: 0.27 + 0.07 * (1 - d.summer)),
    "soil_moisture_0_to_100cm_mean": (
        "m³/m³",
        lambda d: 0.25 + 0.002 * min(d.mm, 20) + 0.07 * (1 - d.summer),
    ),
}
SUN_EVENTS = ("sunrise", "sunset")


def sun_time(day: Day, which: str, offset: int, unixtime: bool) -> Any:
    """Sunrise or sunset as Open-Meteo writes it: local "YYYY-MM-DDTHH:MM" at the response's
    fixed offset, or epoch seconds."""
    # Solar noon at Seattle's longitude is about 20:09 UTC.
    noon = dt.datetime.combine(day.day, dt.time(20, 9), dt.UTC)
    half = dt.timedelta(hours=day.daylight_h / 2)
    moment = noon - half if which == "sunrise" else noon + half
    if unixtime:
        return int(moment.timestamp())
    return (moment + dt.timedelta(seconds=offset)).strftime("%Y-%m-%dT%H:%M")
