"""OpenMeteoClient against the fake Open-Meteo server: each 429 reason, a short body, an HTML 503,
all through `requests` on loopback with the waits recorded on the sandbox clock."""

from datetime import date

import pytest

from sandbox.servers import start_open_meteo
from sandbox.simulator import SimConfig, build_world, sandbox_now
from sources.http import HttpClient
from sources.markets import market_id_for
from sources.open_meteo import MAX_WAIT_SECONDS, DailyLimitExceeded, OpenMeteoClient, Point

CONFIG = SimConfig(end=date(2025, 7, 1), history_days=14, n_vendors=1)


@pytest.fixture(scope="module")
def world():
    return build_world(CONFIG)


@pytest.fixture(scope="module")
def server(world):
    with start_open_meteo(world) as running:
        yield running


@pytest.fixture
def sleeps(server) -> list[float]:
    server.requests.clear()
    server.faults.clear()
    return []


@pytest.fixture
def client(server, sleeps) -> OpenMeteoClient:
    # As in production (max_wait covers the hourly limit), but waits recorded, not slept.
    http = HttpClient(
        "open_meteo",
        max_wait=MAX_WAIT_SECONDS,
        sleep=sleeps.append,
        clock=lambda: sandbox_now(CONFIG),
    )
    return OpenMeteoClient(server.url, server.url, http)


def points(world) -> list[Point]:
    return [
        Point(market_id_for(m.latitude, m.longitude), m.latitude, m.longitude, m.timezone)
        for m in world.markets
    ]


def reason(text: str) -> dict:
    return {"error": True, "reason": text}


def test_the_hourly_limit_is_waited_out_to_the_top_of_the_hour(world, server, client, sleeps):
    server.faults.respond(
        "/v1/forecast",
        429,
        reason("Hourly API request limit exceeded. Please try again in the next hour."),
    )
    rows = client.forecast(points(world), past_days=5, forecast_days=7)
    assert len(rows) == len(world.markets) * 12
    # The sandbox clock is 07:00 UTC (midnight in Seattle): an hour to the boundary, plus one second.
    assert sleeps == [3601.0]
    assert len(server.requests) == 2


def test_the_daily_limit_stops_at_once(world, server, client, sleeps):
    server.faults.respond(
        "/v1/archive", 429, reason("Daily API request limit exceeded. Please try again tomorrow.")
    )
    with pytest.raises(DailyLimitExceeded, match="resets at 2025-07-02 00:00 UTC, in 17.0 h"):
        client.archive(points(world), date(2025, 6, 20), date(2025, 6, 25))
    assert sleeps == [] and len(server.requests) == 1


def test_too_many_concurrent_requests_backs_off(world, server, client, sleeps):
    server.faults.respond("/v1/forecast", 429, reason("Too many concurrent requests"))
    assert client.forecast(points(world), past_days=0, forecast_days=3)
    assert len(sleeps) == 1 and 0.9 <= sleeps[0] <= 1.1


def test_a_short_daily_array_in_a_200_is_asked_for_again(world, server, client, sleeps):
    market = points(world)[0]
    short = {
        "latitude": market.latitude,
        "longitude": market.longitude,
        "timezone": market.timezone,
        "daily_units": {
            "time": "iso8601",
            "temperature_2m_max": "°C",
            "temperature_2m_min": "°C",
            "precipitation_sum": "mm",
        },
        "daily": {
            "time": ["2025-07-01", "2025-07-02"],
            "temperature_2m_max": [20.1],
            "temperature_2m_min": [11.0, 12.0],
            "precipitation_sum": [0.0, 1.0],
        },
    }
    server.faults.respond("/v1/forecast", 200, body=short)
    rows = client.forecast([market], past_days=0, forecast_days=2)
    assert [r["weather_date"] for r in rows] == [date(2025, 7, 1), date(2025, 7, 2)]
    assert len(server.requests) == 2 and len(sleeps) == 1


def test_an_html_503_is_retried(world, server, client, sleeps):
    server.faults.respond("/v1/archive", 503, body="<html><body>overloaded</body></html>", times=2)
    rows = client.archive(points(world)[:1], date(2025, 6, 10), date(2025, 6, 12))
    assert len(rows) == 3 and len(sleeps) == 2
