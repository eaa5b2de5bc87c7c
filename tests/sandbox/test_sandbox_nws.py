"""The fake NWS API through plain `requests`: points, forecast periods, the User-Agent rule, the
4-decimal redirect, errors; every JSON body validated against the NWS extract (sandbox.spec)."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
import requests

from sandbox.servers import start_nws, start_sandbox
from sandbox.spec import api_samples_dir, validate_response

AGENT = {"User-Agent": "MarketPrep/0.1 (sandbox tests)"}
POINT = "/points/{point}"
FORECAST = "/gridpoints/{wfo}/{x},{y}/forecast"


@pytest.fixture(scope="module")
def nws_server(small_world):
    with start_nws(small_world) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(nws_server):
    nws_server.requests.clear()
    nws_server.faults.clear()
    nws_server.app.unserved_points.clear()


def get(url: str, path: str, status: int, headers=AGENT) -> requests.Response:
    response = requests.get(url, headers=headers, timeout=10)
    assert response.status_code == status, response.text
    validate_response("nws", "GET", path, status, response.json())
    return response


def test_points_map_a_market_to_its_grid_and_forecast_url(nws_server, small_world):
    market = small_world.markets[0]
    point = f"{market.latitude},{market.longitude}"
    body = get(f"{nws_server.url}/points/{point}", POINT, 200).json()
    properties = body["properties"]
    assert (body["type"], properties["gridId"], properties["timeZone"]) == (
        "Feature",
        "SEW",
        "America/Los_Angeles",
    )
    assert properties["forecast"] == (
        f"{nws_server.url}/gridpoints/SEW/{properties['gridX']},{properties['gridY']}/forecast"
    )
    assert body["geometry"]["coordinates"] == [market.longitude, market.latitude]


def test_the_forecast_has_fourteen_periods_from_the_sandbox_clock(nws_server, small_world):
    market = small_world.markets[0]
    points = get(f"{nws_server.url}/points/{market.latitude},{market.longitude}", POINT, 200)
    forecast = get(points.json()["properties"]["forecast"], FORECAST, 200).json()
    periods = forecast["properties"]["periods"]
    assert len(periods) == 14
    assert [p["isDaytime"] for p in periods[:3]] == [False, True, False]  # midnight: Overnight
    assert periods[0]["name"] == "Overnight"
    starts = [dt.datetime.fromisoformat(p["startTime"]) for p in periods]
    assert starts[0] == dt.datetime(2025, 6, 15, 0, tzinfo=starts[0].tzinfo)
    assert all(p["endTime"] == n["startTime"] for p, n in zip(periods, periods[1:], strict=False))
    day = periods[1]
    truth = small_world.weather[(market.market_key, dt.date(2025, 6, 15))]
    assert day["temperature"] == round(truth["temp_max_c"] * 9 / 5 + 32)
    assert day["temperatureUnit"] == "F" and day["windSpeed"].endswith(" mph")


def test_a_user_agent_is_required(nws_server, small_world):
    market = small_world.markets[0]
    url = f"{nws_server.url}/points/{market.latitude},{market.longitude}"
    for headers in ({"User-Agent": ""}, {}):  # empty, or requests' own default
        refused = requests.get(url, headers=headers, timeout=10)
        assert refused.status_code == 403
        assert refused.headers["Content-Type"] == "text/html"
        assert refused.text.startswith("<HTML><HEAD><TITLE>Access Denied")


def test_more_than_four_decimals_redirect_to_the_rounded_point(nws_server):
    response = requests.get(
        f"{nws_server.url}/points/47.66791,-122.38482", headers=AGENT, timeout=10
    )
    assert [r.status_code for r in response.history] == [301]
    assert response.url == f"{nws_server.url}/points/47.6679,-122.3848"
    assert response.status_code == 200


def test_points_nws_does_not_serve_get_invalid_point(nws_server, small_world):
    outside = get(f"{nws_server.url}/points/51.5072,-0.1276", POINT, 404).json()
    assert outside["type"] == "https://api.weather.gov/problems/InvalidPoint"
    market = small_world.markets[1]
    point = f"{market.latitude},{market.longitude}"  # the templates' 4 decimals, as sent
    nws_server.app.unserved_points.add(point)
    assert get(f"{nws_server.url}/points/{point}", POINT, 404).json()["title"] == (
        "Data Unavailable For Requested Point"
    )


def test_unknown_parameters_and_offices_are_refused(nws_server):
    assert get(f"{nws_server.url}/points/47.6,-122.3?nocache=1", POINT, 400).json()["status"] == 400
    assert get(f"{nws_server.url}/gridpoints/XXX/1,1/forecast", FORECAST, 404).json()["title"] == (
        "Invalid Gridpoint"
    )


@pytest.mark.parametrize("status", [429, 500, 503])
def test_queued_faults_answer_problem_json(nws_server, status):
    nws_server.faults.respond("/gridpoints/", status)
    response = get(f"{nws_server.url}/gridpoints/SEW/500,500/forecast", FORECAST, status)
    assert response.headers["Content-Type"] == "application/problem+json"


def test_the_recorded_bodies_validate_and_the_2021_extract_is_stale():
    """The recorded 2024 responses carry members the v1.9.0 extract forbids (spec.RELAXATIONS)."""
    recorded = json.loads((api_samples_dir() / "nws/points-forecast.fixture.json").read_text())
    points, forecast = (e["response"]["body"] for e in recorded["exchanges"])
    validate_response("nws", "GET", POINT, 200, points)
    validate_response("nws", "GET", FORECAST, 200, forecast)
    with pytest.raises(jsonschema.ValidationError, match="'@bundle' was unexpected"):
        validate_response("nws", "GET", POINT, 200, points, relaxed=False)
    with pytest.raises(jsonschema.ValidationError, match="'probabilityOfPrecipitation'"):
        validate_response("nws", "GET", FORECAST, 200, forecast, relaxed=False)
    errors = json.loads((api_samples_dir() / "nws/errors.fixture.json").read_text())
    for exchange in errors["exchanges"]:
        if "body" in exchange["response"]:
            validate_response(
                "nws", "GET", POINT, exchange["response"]["status"], exchange["response"]["body"]
            )


def test_the_sandbox_env_points_nws_and_ticketmaster_at_their_fakes(small_world):
    with start_sandbox(small_world) as sandbox:
        env = sandbox.env()
        assert env["MARKETPREP_NWS_BASE_URL"] == sandbox.nws.url
        assert env["MARKETPREP_TICKETMASTER_BASE_URL"] == sandbox.ticketmaster.url
        assert env["MARKETPREP_TICKETMASTER_API_KEY"] == sandbox.ticketmaster.token
        assert (
            len(
                {
                    s.url
                    for s in (
                        sandbox.square,
                        sandbox.open_meteo,
                        sandbox.events,
                        sandbox.nws,
                        sandbox.ticketmaster,
                    )
                }
            )
            == 5
        )
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(
            env["MARKETPREP_NWS_BASE_URL"] + "/points/47.6,-122.3", headers=AGENT, timeout=2
        )
