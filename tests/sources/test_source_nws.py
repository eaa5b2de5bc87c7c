"""NWSClient: /points then the gridpoint forecast, against the recorded Cedar Rapids exchange and
errors, and against the fake NWS server."""

import copy
import json
from datetime import UTC, date, datetime
from urllib.parse import urlsplit

import pytest

from sandbox.servers import start_nws
from sandbox.simulator import SimConfig, build_world, sandbox_now
from sources.http import HttpClient, SourceError
from sources.nws import GridPoint, NWSClient, daily_rows, point_key

FIXTURE = "nws/points-forecast.fixture.json"
ERRORS = "nws/errors.fixture.json"
AGENT = "MarketPrep/0.1 (ops@example.invalid)"
CEDAR_RAPIDS = (41.978, -91.67)
FETCHED = datetime(2025, 6, 7, 12, 0, tzinfo=UTC)  # the stub's fixed clock


def client(stub, *script, **options) -> tuple[NWSClient, object]:
    s = stub(*script, provider="nws")
    return NWSClient("https://api.weather.gov", AGENT, http=s.http, **options), s


@pytest.fixture
def recorded(exchanges) -> tuple[dict, dict]:
    points, forecast = exchanges(FIXTURE)
    return points["response"], forecast["response"]


def test_points_then_forecast_give_daily_highs_and_lows(stub, recorded, assert_contract):
    nws, s = client(stub, *recorded)
    rows = nws.daily_forecast("mkt_41.978_-91.670", *CEDAR_RAPIDS, "America/Chicago")

    assert_contract("raw.weather_daily", rows)
    # This Afternoon 85 °F; Tonight 52 °F runs into Wednesday morning; Wednesday 75 °F.
    assert [(r["weather_date"], r["temp_max_c"], r["temp_min_c"]) for r in rows] == [
        (date(2024, 5, 21), 29.4, None),
        (date(2024, 5, 22), 23.9, 11.1),
    ]
    assert {(r["source"], r["precip_mm"], r["fetched_at"]) for r in rows} == {
        ("nws_forecast", None, FETCHED)
    }
    assert [urlsplit(r.url).path for r in s.sent] == [
        "/points/41.978,-91.67",
        "/gridpoints/DVN/30,86/forecast",  # the URL /points returned, as returned
    ]
    assert all(r.headers["User-Agent"] == AGENT for r in s.sent)
    assert nws.grid_points["41.978,-91.67"] == GridPoint(
        "41.978,-91.67",
        "DVN",
        30,
        86,
        "https://api.weather.gov/gridpoints/DVN/30,86/forecast",
        "America/Chicago",
    )


def test_a_cached_grid_skips_points(stub, recorded):
    points, forecast = recorded
    nws, s = client(stub, points, forecast, forecast)
    nws.daily_forecast("m", *CEDAR_RAPIDS, "America/Chicago")
    nws.daily_forecast("m", *CEDAR_RAPIDS, "America/Chicago")
    assert [urlsplit(r.url).path.split("/")[1] for r in s.sent] == [
        "points",
        "gridpoints",
        "gridpoints",
    ]


def test_a_cached_grid_that_is_gone_is_looked_up_again(stub, recorded, exchange):
    points, forecast = recorded
    stale = GridPoint(
        "41.978,-91.67", "DVN", 1, 1, "https://api.weather.gov/gridpoints/DVN/1,1/forecast", None
    )
    missing = copy.deepcopy(exchange(ERRORS, "404 InvalidPoint")["response"])
    nws, s = client(stub, missing, points, forecast, grid_points={stale.point: stale})
    rows = nws.daily_forecast("m", *CEDAR_RAPIDS, "America/Chicago")
    assert len(rows) == 2
    assert [urlsplit(r.url).path for r in s.sent] == [
        "/gridpoints/DVN/1,1/forecast",
        "/points/41.978,-91.67",
        "/gridpoints/DVN/30,86/forecast",
    ]
    assert nws.grid_points[stale.point].grid_x == 30


def test_an_expired_grid_503_is_retried(stub, recorded, exchange):
    expired = exchange(ERRORS, "503 ForecastGridExpired")["response"]
    points, forecast = recorded
    nws, s = client(stub, points, expired, forecast)
    assert len(nws.daily_forecast("m", *CEDAR_RAPIDS, "America/Chicago")) == 2
    assert len(s.sleeps) == 1


def test_an_invalid_point_is_not_retried_and_names_the_problem(stub, exchange):
    nws, s = client(stub, exchange(ERRORS, "404 InvalidPoint")["response"])
    with pytest.raises(SourceError, match="HTTP 404: Unable to provide data for requested point"):
        nws.daily_forecast("m", 90.0, 120.5517605, "UTC")
    assert len(s.sent) == 1 and s.sleeps == []


def test_the_cdn_403_html_page_is_not_retried(stub, exchange):
    nws, s = client(stub, exchange(ERRORS, "403 missing User-Agent")["response"])
    with pytest.raises(SourceError, match="HTTP 403: <HTML><HEAD><TITLE>Access Denied"):
        nws.grid_point(*CEDAR_RAPIDS)
    assert len(s.sent) == 1


def test_a_user_agent_is_required():
    with pytest.raises(ValueError, match="MARKETPREP_NWS_USER_AGENT"):
        NWSClient("https://api.weather.gov", "  ")


@pytest.mark.parametrize(
    ("latitude", "longitude", "key"),
    [(41.978, -91.67, "41.978,-91.67"), (47.66791234, -122.384849, "47.6679,-122.3848")],
)
def test_points_are_sent_with_at_most_four_decimals(latitude, longitude, key):
    assert point_key(latitude, longitude) == key


def test_temperatures_as_quantitative_values_and_in_celsius(recorded):
    body = copy.deepcopy(recorded[1]["body"])
    periods = body["properties"]["periods"]
    periods[0]["temperature"] = {"unitCode": "wmoUnit:degC", "value": 30}
    periods[2] |= {"temperature": 24, "temperatureUnit": "C"}
    rows = daily_rows("m", body, "America/Chicago", FETCHED)
    assert [r["temp_max_c"] for r in rows] == [30.0, 24.0]


def test_an_unreadable_period_is_named_and_its_body_kept(recorded):
    body = copy.deepcopy(recorded[1]["body"])
    body["properties"]["periods"][1]["temperatureUnit"] = "K"
    with pytest.raises(
        SourceError, match="period 1 is unreadable: temperature unit is 'K'"
    ) as caught:
        daily_rows("m", body, "America/Chicago", FETCHED)
    assert json.loads(caught.value.payload) == body
    with pytest.raises(SourceError, match="has no properties.periods"):
        daily_rows("m", {"properties": {}}, "America/Chicago", FETCHED)


def test_against_the_fake_server_rows_follow_the_simulated_weather():
    world = build_world(SimConfig(end=date(2025, 6, 15), history_days=14, n_vendors=1))
    market = world.markets[0]
    sleeps: list[float] = []
    http = HttpClient("nws", sleep=sleeps.append, clock=lambda: sandbox_now(world.config))
    with start_nws(world) as server:
        nws = NWSClient(server.url, AGENT, http=http)
        rows = nws.daily_forecast("m", market.latitude, market.longitude, market.timezone)
        assert [r.header("User-Agent") for r in server.requests] == [AGENT, AGENT]
    # 14 periods from the sandbox clock (local midnight): an overnight low, then seven days and six nights
    assert [r["weather_date"] for r in rows] == [date(2025, 6, 15 + n) for n in range(7)]
    for row in rows:
        truth = world.weather[(market.market_key, row["weather_date"])]
        # the fake sends whole °F, so a value is off by up to half a °F (0.28 °C) plus rounding
        if row["temp_max_c"] is not None:
            assert row["temp_max_c"] == pytest.approx(truth["temp_max_c"], abs=0.35)
        if row["temp_min_c"] is not None:
            assert row["temp_min_c"] == pytest.approx(truth["temp_min_c"], abs=0.35)
    assert sleeps == []
