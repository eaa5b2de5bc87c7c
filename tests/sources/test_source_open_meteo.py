"""OpenMeteoClient requests, response checks and rows, against the recorded fixtures."""

import copy
import io
import json
from datetime import UTC, date, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from sources.http import SourceError
from sources.open_meteo import DailyLimitExceeded, OpenMeteoClient, Point, throttle_delay

MINNEAPOLIS = Point("mkt_44.980_-93.270", 44.98, -93.27, "America/Chicago")
ST_PAUL = Point("mkt_45.010_-93.100", 45.01, -93.10, "America/Chicago")
SEATTLE = Point("mkt_47.669_-122.387", 47.669, -122.387, "America/Los_Angeles")
FETCHED = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)  # the stub's fixed clock


def client(stub, *script, **options) -> tuple[OpenMeteoClient, object]:
    s = stub(*script, provider="open_meteo", **options)
    return OpenMeteoClient("https://om.test", "https://archive.om.test", http=s.http), s


def metric(location: dict) -> dict:
    """A fixture location as if asked for °C and mm (the forecast fixture is in °F/inch)."""
    location = copy.deepcopy(location)
    location["daily_units"] |= {
        "temperature_2m_max": "°C",
        "temperature_2m_min": "°C",
        "precipitation_sum": "mm",
    }
    return location


def query(sent) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(sent.url).query).items()}


def test_archive_pins_units_and_zone_and_skips_days_still_all_null(stub, exchange, assert_contract):
    delayed = exchange("open-meteo/archive.fixture.json", "archive window reaching")["response"]
    om, s = client(stub, delayed)
    rows = om.archive([MINNEAPOLIS], date(2025, 6, 1), date(2025, 6, 7))

    assert_contract("raw.weather_daily", rows)
    assert [r["weather_date"] for r in rows] == [date(2025, 6, d) for d in (1, 2, 3, 4)]
    assert rows[2] | {"fetched_at": None} == {
        "market_id": "mkt_44.980_-93.270",
        "weather_date": date(2025, 6, 3),
        "source": "open_meteo_archive",
        "temp_max_c": 22.8,
        "temp_min_c": 13.1,
        "precip_mm": 11.3,
        "fetched_at": None,
    }
    assert rows[0]["fetched_at"] == FETCHED
    sent = s.sent[0]
    assert urlsplit(sent.url).netloc == "archive.om.test"
    assert query(sent) == {
        "latitude": "44.98000",
        "longitude": "-93.27000",
        "daily": "temperature_2m_max,temperature_2m_min,precipitation_sum",
        "timezone": "America/Chicago",
        "temperature_unit": "celsius",
        "precipitation_unit": "mm",
        "timeformat": "iso8601",
        "start_date": "2025-06-01",
        "end_date": "2025-06-07",
    }


def test_points_in_one_zone_share_one_multi_location_request(stub, exchange):
    body = exchange("open-meteo/forecast.fixture.json", "multi-location")["response"]["body"]
    om, s = client(stub, {"status": 200, "body": [metric(loc) for loc in body]})
    rows = om.forecast([MINNEAPOLIS, ST_PAUL], past_days=0, forecast_days=7)

    assert len(s.sent) == 1
    assert query(s.sent[0])["latitude"] == "44.98000,45.01000"
    assert query(s.sent[0])["forecast_days"] == "7"
    assert {r["market_id"] for r in rows} == {MINNEAPOLIS.market_id, ST_PAUL.market_id}
    assert len(rows) == 14
    assert {r["source"] for r in rows} == {"open_meteo_forecast"}


def test_each_time_zone_gets_its_own_request(stub, exchange):
    single = metric(
        exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]["body"]
    )
    seattle = copy.deepcopy(single) | {"timezone": "America/Los_Angeles"}
    om, s = client(stub, {"body": single}, {"body": seattle})
    rows = om.forecast([MINNEAPOLIS, SEATTLE, MINNEAPOLIS], past_days=5, forecast_days=7)
    assert [query(r)["timezone"] for r in s.sent] == ["America/Chicago", "America/Los_Angeles"]
    assert len(rows) == 14


def test_units_other_than_the_ones_asked_for_are_refused(stub, exchange):
    fahrenheit = exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]
    om, _ = client(stub, fahrenheit)
    with pytest.raises(SourceError, match="temperature_2m_max in '°F', asked for °C"):
        om.forecast([MINNEAPOLIS], past_days=0, forecast_days=7)


def test_a_daily_array_shorter_than_time_is_asked_for_again(stub, exchange):
    good = metric(
        exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]["body"]
    )
    short = copy.deepcopy(good)
    short["daily"]["precipitation_sum"].pop()
    om, s = client(stub, {"body": short}, {"body": good})
    assert len(om.forecast([MINNEAPOLIS], past_days=0, forecast_days=7)) == 7
    assert len(s.sent) == 2 and len(s.sleeps) == 1


def test_a_body_that_stays_short_fails_with_the_location_kept(stub, exchange):
    body = metric(
        exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]["body"]
    )
    body["daily"]["precipitation_sum"].pop()
    om, s = client(stub, *[{"body": body}] * 4)
    with pytest.raises(SourceError, match="precipitation_sum has 6 values for 7 days") as caught:
        om.forecast([MINNEAPOLIS], past_days=0, forecast_days=7)
    assert caught.value.retryable is True and "after 4 attempts" in str(caught.value)
    assert json.loads(caught.value.payload) == body  # for the quarantine
    assert len(s.sent) == 4


def test_days_in_another_zone_than_asked_are_refused(stub, exchange):
    body = metric(
        exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]["body"]
    )
    om, _ = client(stub, {"body": body | {"timezone": "GMT"}})
    with pytest.raises(SourceError, match="time zone 'GMT', asked for 'America/Chicago'"):
        om.forecast([MINNEAPOLIS], past_days=0, forecast_days=7)


def test_minutely_limit_waits_for_the_next_minute(stub, exchange):
    minutely = exchange("open-meteo/errors.fixture.json", "429 minutely")["response"]
    delayed = exchange("open-meteo/archive.fixture.json", "archive window reaching")["response"]
    om, s = client(
        stub, minutely, delayed, clock=lambda: datetime(2025, 6, 7, 12, 0, 45, tzinfo=UTC)
    )
    assert len(om.archive([MINNEAPOLIS], date(2025, 6, 1), date(2025, 6, 7))) == 4
    assert s.sleeps == [16.0]  # 15 s to the minute boundary, plus one


def test_daily_limit_fails_fast_with_a_clear_error(stub, exchange):
    daily = exchange("open-meteo/errors.fixture.json", "429 daily")["response"]
    om, s = client(stub, daily)  # the stub's clock: 2025-06-07 12:00 UTC
    with pytest.raises(DailyLimitExceeded, match="Daily API request limit exceeded") as caught:
        om.archive([MINNEAPOLIS], date(2025, 6, 1), date(2025, 6, 7))
    assert "resets at 2025-06-08 00:00 UTC, in 12.0 h: run the job again" in str(caught.value)
    assert (caught.value.retryable, caught.value.code) == (False, "DAILY_LIMIT")
    assert s.sleeps == [] and len(s.sent) == 1


def test_hourly_limit_is_waited_for_with_the_default_client(exchange, monkeypatch):
    hourly = exchange("open-meteo/errors.fixture.json", "429 hourly")["response"]["body"]
    om = OpenMeteoClient("https://om.test", "https://archive.om.test")
    sleeps: list[float] = []
    monkeypatch.setattr(om._http, "sleep", sleeps.append)
    monkeypatch.setattr(om._http, "clock", lambda: datetime(2025, 6, 7, 12, 20, tzinfo=UTC))
    answers = iter([(429, hourly), (400, {"error": True, "reason": "stop here"})])

    def respond(method, url, **kwargs):
        status, body = next(answers)
        response = requests.Response()
        response.status_code, response.raw = status, io.BytesIO(json.dumps(body).encode())
        return response

    monkeypatch.setattr(om._http.session, "request", respond)
    with pytest.raises(SourceError, match="stop here"):
        om.archive([MINNEAPOLIS], date(2025, 6, 1), date(2025, 6, 7))
    assert sleeps == [2401.0]  # 40 minutes to the top of the hour, plus one second


@pytest.mark.parametrize(
    ("reason", "now", "wait"),
    [
        ("Minutely API request limit exceeded.", datetime(2025, 6, 7, 12, 0, 59, 500000), 1.5),
        ("Hourly API request limit exceeded.", datetime(2025, 6, 7, 12, 59, 30), 31.0),
        ("Too many concurrent requests", datetime(2025, 6, 7, 12, 0), None),
    ],
)
def test_throttle_delay_counts_to_the_utc_boundary_of_the_named_limit(reason, now, wait):
    assert throttle_delay(reason, now.replace(tzinfo=UTC)) == wait


def test_throttle_delay_refuses_to_wait_for_the_daily_limit():
    with pytest.raises(DailyLimitExceeded, match="in 1.0 h"):
        throttle_delay("Daily API request limit exceeded.", datetime(2025, 6, 7, 23, 0, tzinfo=UTC))


def test_the_same_market_twice_with_different_coordinates_is_refused(stub):
    om, s = client(stub)
    moved = Point(MINNEAPOLIS.market_id, 44.99, -93.27, "America/Chicago")
    with pytest.raises(ValueError, match="given twice"):
        om.forecast([MINNEAPOLIS, moved], past_days=0, forecast_days=7)
    assert s.sent == []
