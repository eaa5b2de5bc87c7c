"""The fake Open-Meteo through plain `requests`: windows, several locations in one call, the
archive's reanalysis delay, units and the 400 reasons."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from sandbox.weather import climatology

DAILY = "temperature_2m_max,temperature_2m_min,precipitation_sum"


def _get(server, path: str, **params) -> requests.Response:
    return requests.get(server.url + path, params=params, timeout=10)


def test_forecast_covers_past_days_to_forecast_days_from_the_sandbox_today(
    open_meteo_server, small_world
):
    market = small_world.markets[0]
    end = small_world.config.end
    body = _get(
        open_meteo_server,
        "/v1/forecast",
        latitude=market.latitude + 0.03,
        longitude=market.longitude - 0.03,
        daily=DAILY,
        timezone=market.timezone,
        past_days=5,
        forecast_days=16,
    ).json()
    days = [dt.date.fromisoformat(d) for d in body["daily"]["time"]]
    assert days[0] == end - dt.timedelta(days=5) and days[-1] == end + dt.timedelta(days=15)
    assert len(days) == 21
    for i, day in enumerate(days):
        truth = small_world.weather[(market.market_key, day)]
        assert body["daily"]["temperature_2m_max"][i] == truth["temp_max_c"]
        assert body["daily"]["precipitation_sum"][i] == truth["precip_mm"]
    assert body["timezone"] == market.timezone and body["timezone_abbreviation"] == "PDT"
    assert body["utc_offset_seconds"] == -7 * 3600
    assert body["daily_units"] == {
        "time": "iso8601",
        "temperature_2m_max": "°C",
        "temperature_2m_min": "°C",
        "precipitation_sum": "mm",
    }
    assert list(body)[:7] == [
        "latitude",
        "longitude",
        "generationtime_ms",
        "utc_offset_seconds",
        "timezone",
        "timezone_abbreviation",
        "elevation",
    ]
    assert (body["latitude"], body["longitude"]) != (market.latitude, market.longitude)  # grid cell
    default = _get(
        open_meteo_server,
        "/v1/forecast",
        latitude=market.latitude,
        longitude=market.longitude,
        daily=DAILY,
    ).json()
    assert len(default["daily"]["time"]) == 7 and default["timezone"] == "GMT"


def test_several_locations_come_back_as_an_array_in_request_order(open_meteo_server, small_world):
    markets = small_world.markets
    day = small_world.config.end - dt.timedelta(days=30)
    body = _get(
        open_meteo_server,
        "/v1/archive",
        latitude=",".join(str(m.latitude) for m in markets),
        longitude=",".join(str(m.longitude) for m in markets),
        daily=DAILY,
        timezone=markets[0].timezone,
        start_date=day.isoformat(),
        end_date=day.isoformat(),
    ).json()
    assert isinstance(body, list) and len(body) == len(markets)
    assert "location_id" not in body[0]
    assert [b["location_id"] for b in body[1:]] == list(range(1, len(markets)))
    assert list(body[1])[7] == "location_id"
    for answer, market in zip(body, markets, strict=True):
        assert answer["daily"]["temperature_2m_min"] == [
            small_world.weather[(market.market_key, day)]["temp_min_c"]
        ]
        assert answer["elevation"] == market.elevation_m


def test_the_archive_is_null_inside_the_reanalysis_delay(open_meteo_server, small_world):
    market = small_world.markets[1]
    end = small_world.config.end
    body = _get(
        open_meteo_server,
        "/v1/archive",
        latitude=market.latitude,
        longitude=market.longitude,
        daily=DAILY + ",weather_code",
        timezone=market.timezone,
        start_date=(end - dt.timedelta(days=10)).isoformat(),
        end_date=(end - dt.timedelta(days=1)).isoformat(),
    ).json()
    for column in ("temperature_2m_max", "precipitation_sum", "weather_code"):
        values = body["daily"][column]
        assert len(values) == len(body["daily"]["time"]) == 10
        assert all(v is not None for v in values[:5]) and values[5:] == [None] * 5
    future = _get(
        open_meteo_server,
        "/v1/archive",
        latitude=market.latitude,
        longitude=market.longitude,
        daily=DAILY,
        start_date=end.isoformat(),
        end_date=(end + dt.timedelta(days=1)).isoformat(),
    )
    assert future.status_code == 400
    assert future.json() == {
        "error": True,
        "reason": f"Parameter 'end_date' is out of allowed range from 1940-01-01 to {end}",
    }


def test_far_away_points_get_climatology_and_units_convert(open_meteo_server, small_world):
    day = small_world.config.end - dt.timedelta(days=20)
    far = _get(
        open_meteo_server,
        "/v1/archive",
        latitude=40.0,
        longitude=-100.0,
        daily=DAILY,
        start_date=day.isoformat(),
        end_date=day.isoformat(),
    ).json()
    assert far["daily"]["temperature_2m_max"] == [climatology(day)["temp_max_c"]]

    market = small_world.markets[0]
    truth = small_world.weather[(market.market_key, day)]
    us = _get(
        open_meteo_server,
        "/v1/archive",
        latitude=market.latitude,
        longitude=market.longitude,
        daily=DAILY + ",wind_speed_10m_max",
        start_date=day.isoformat(),
        end_date=day.isoformat(),
        temperature_unit="fahrenheit",
        precipitation_unit="inch",
        wind_speed_unit="mph",
    ).json()
    assert us["daily_units"]["temperature_2m_max"] == "°F"
    assert us["daily_units"]["precipitation_sum"] == "inch"
    assert us["daily_units"]["wind_speed_10m_max"] == "mp/h"
    assert us["daily"]["temperature_2m_max"] == [round(truth["temp_max_c"] * 9 / 5 + 32, 1)]
    assert us["daily"]["precipitation_sum"] == [round(truth["precip_mm"] / 25.4, 3)]


@pytest.mark.parametrize(
    ("path", "params", "reason"),
    [
        (
            "/v1/forecast",
            {"latitude": "100", "longitude": "0"},
            "Latitude must be in range of -90 to 90°. Given: 100.0.",
        ),
        (
            "/v1/forecast",
            {"latitude": "47", "longitude": "-122", "forecast_days": "17"},
            "Forecast days is invalid. Allowed range 0 to 16. Given 17.",
        ),
        (
            "/v1/forecast",
            {"latitude": "47,48", "longitude": "-122"},
            "Parameter 'latitude' and 'longitude' must have the same number of elements",
        ),
        (
            "/v1/forecast",
            {"latitude": "47", "longitude": "-122", "daily": "tempeture_2m"},
            "Cannot initialize WeatherVariable from invalid String value tempeture_2m "
            "for key daily",
        ),
        (
            "/v1/archive",
            {"latitude": "47", "longitude": "-122"},
            "Both 'start_date' and 'end_date' must be set in the url",
        ),
        (
            "/v1/archive",
            {
                "latitude": "47",
                "longitude": "-122",
                "start_date": "2025-05-02",
                "end_date": "2025-05-01",
            },
            "End-date must be larger or equals than start-date",
        ),
        (
            "/v1/archive",
            {
                "latitude": "47",
                "longitude": "-122",
                "start_date": "2025-05-01",
                "end_date": "2025-05-02",
                "daily": "precipitation_probability_max",
            },
            "Cannot initialize WeatherVariable from invalid String value "
            "precipitation_probability_max for key daily",
        ),
    ],
)
def test_bad_parameters_get_open_meteos_400(open_meteo_server, path, params, reason):
    response = _get(open_meteo_server, path, **params)
    assert response.status_code == 400
    assert response.json() == {"error": True, "reason": reason}
