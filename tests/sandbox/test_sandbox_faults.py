"""Fault injection and the request log, the same on every fake server."""

from __future__ import annotations

import json

import pytest
import requests

from sandbox.servers import start_sandbox


def test_queued_responses_apply_to_the_next_matching_requests_only(open_meteo_server):
    url = open_meteo_server.url
    params = {"latitude": "47.67", "longitude": "-122.38"}
    open_meteo_server.faults.respond("/v1/archive", 503, body="<html>overloaded</html>", times=2)
    open_meteo_server.faults.respond("/v1/forecast", 429, headers={"Retry-After": "3"})

    forecast = requests.get(url + "/v1/forecast", params=params, timeout=10)
    assert forecast.status_code == 429 and forecast.headers["Retry-After"] == "3"
    assert forecast.json() == {
        "error": True,
        "reason": "Minutely API request limit exceeded. Please try again in one minute.",
    }
    archive = [requests.get(url + "/v1/archive", params=params, timeout=10) for _ in range(3)]
    assert [r.status_code for r in archive] == [503, 503, 400]  # then the real answer
    assert archive[0].text == "<html>overloaded</html>"
    assert archive[0].headers["Content-Type"].startswith("text/html")
    assert open_meteo_server.faults.pending == []
    assert requests.get(url + "/v1/forecast", params=params, timeout=10).status_code == 200


def test_method_filter_and_clear(square_server, square_headers):
    square_server.faults.respond("/v2/", 500, method="POST")
    get = requests.get(square_server.url + "/v2/locations", headers=square_headers, timeout=10)
    assert get.status_code == 200
    assert len(square_server.faults.pending) == 1
    square_server.faults.clear()
    assert square_server.faults.pending == []
    with pytest.raises(ValueError, match="times"):
        square_server.faults.respond("/v2/", 500, times=0)


def test_a_dropped_connection_breaks_the_body(square_server, square_headers):
    square_server.faults.drop_connection("/v2/locations")
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(square_server.url + "/v2/locations", headers=square_headers, timeout=10)
    again = requests.get(square_server.url + "/v2/locations", headers=square_headers, timeout=10)
    assert again.status_code == 200 and again.json()["locations"]


def test_a_truncated_body_is_a_200_that_is_not_json(open_meteo_server):
    suffix = "Unexpected error while streaming data: timeout"
    open_meteo_server.faults.truncate("/v1/forecast", suffix=suffix)
    response = requests.get(
        open_meteo_server.url + "/v1/forecast",
        params={"latitude": "47.67", "longitude": "-122.38", "daily": "temperature_2m_max"},
        timeout=10,
    )
    assert response.status_code == 200 and response.text.endswith(suffix)
    with pytest.raises(json.JSONDecodeError):
        json.loads(response.text)


def test_a_stall_trips_the_clients_read_timeout(predicthq_server):
    predicthq_server.faults.stall("/v1/events/", seconds=5)
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(predicthq_server.url + "/v1/events/", timeout=(5, 0.2))


def test_requests_are_logged_with_query_headers_and_json(square_server, vendor, square_headers):
    body = {"location_ids": [vendor.locations[0]["id"]], "limit": 1}
    requests.post(
        square_server.url + "/v2/orders/search?x=1", json=body, headers=square_headers, timeout=10
    )
    logged = square_server.requests[-1]
    assert (logged.method, logged.path, logged.query, logged.json) == (
        "POST",
        "/v2/orders/search",
        {"x": "1"},
        body,
    )
    assert logged.header("authorization") == square_headers["Authorization"]


def test_the_sandbox_env_points_at_the_three_servers(small_world):
    with start_sandbox(small_world) as sandbox:
        env = sandbox.env()
        assert env["MARKETPREP_SQUARE_BASE_URL"] == sandbox.square.url
        assert env["MARKETPREP_OPEN_METEO_FORECAST_URL"] == env["MARKETPREP_OPEN_METEO_ARCHIVE_URL"]
        assert env["MARKETPREP_EVENTS_TOKEN"] == sandbox.events.token == small_world.events_token
        for key in (
            "MARKETPREP_SQUARE_BASE_URL",
            "MARKETPREP_OPEN_METEO_FORECAST_URL",
            "MARKETPREP_EVENTS_BASE_URL",
        ):
            assert env[key].startswith("http://127.0.0.1:")
        assert len({sandbox.square.url, sandbox.open_meteo.url, sandbox.events.url}) == 3
    with pytest.raises(requests.exceptions.ConnectionError):
        requests.get(env["MARKETPREP_SQUARE_BASE_URL"] + "/v2/locations", timeout=2)
