"""HttpClient retry policy, driven by the providers' recorded error responses."""

import pytest
import requests

from sources.http import SourceError

URL = "https://api.test/v2/orders/search"
OK = {"status": 200, "body": {"ok": True}}


def test_every_call_has_connect_and_read_timeouts(stub):
    s = stub(OK)
    s.http.request_json("GET", URL)
    assert s.sent[0].timeout == (5.0, 60.0)


def test_retry_after_seconds_is_waited_exactly(stub, exchange):
    rate_limited = exchange("square/errors.fixture.json", "429 RATE_LIMITED")["response"]
    assert rate_limited["headers"]["Retry-After"] == "2"
    s = stub(rate_limited, OK)
    assert s.http.request_json("POST", URL, json={}) == {"ok": True}
    assert s.sleeps == [2.0]
    assert len(s.sent) == 2


def test_retry_after_http_date_is_read_against_the_clock(stub):
    # The stub's clock is fixed at 2025-06-07 12:00:00 UTC.
    s = stub({"status": 503, "headers": {"Retry-After": "Sat, 07 Jun 2025 12:00:07 GMT"}}, OK)
    s.http.request_json("GET", URL)
    assert s.sleeps == [7.0]


def test_retry_after_ms_wins_over_retry_after(stub):
    s = stub({"status": 429, "headers": {"Retry-After-Ms": "1500", "Retry-After": "9"}}, OK)
    s.http.request_json("GET", URL)
    assert s.sleeps == [1.5]


def test_without_a_hint_the_backoff_doubles_with_jitter_and_gives_up(stub, exchange):
    html_502 = exchange("square/errors.fixture.json", "502")["response"]
    s = stub(html_502, html_502, html_502, html_502, max_retries=3)
    with pytest.raises(SourceError) as caught:
        s.http.request_json("POST", URL, json={})
    assert len(s.sent) == 4
    assert len(s.sleeps) == 3
    for attempt, slept in enumerate(s.sleeps):
        assert 0.9 * 2**attempt <= slept <= 1.1 * 2**attempt
    error = caught.value
    assert (error.status, error.retryable) == (502, True)
    assert "after 4 attempts" in str(error)
    assert "Bad Gateway" in str(error)  # the HTML body is summarised, not parsed as JSON


def test_backoff_is_capped(stub):
    s = stub(*[{"status": 500}] * 5, max_retries=4, backoff_base=10, backoff_cap=15)
    with pytest.raises(SourceError):
        s.http.request_json("GET", URL)
    assert max(s.sleeps) <= 15 * 1.1


@pytest.mark.parametrize(
    "name", ["401 UNAUTHORIZED", "403 INSUFFICIENT_SCOPES", "400 INVALID_CURSOR", "404 NOT_FOUND"]
)
def test_other_4xx_fail_fast_with_squares_error_code(stub, exchange, name):
    response = exchange("square/errors.fixture.json", name)["response"]
    code = response["body"]["errors"][0]["code"]
    s = stub(response)
    with pytest.raises(SourceError) as caught:
        s.http.request_json(
            "POST", URL + "?q=1", json={}, headers={"Authorization": "Bearer sekrit-token"}
        )
    error = caught.value
    assert (error.status, error.code, error.retryable) == (response["status"], code, False)
    assert f"POST /v2/orders/search failed with HTTP {response['status']} {code}" in str(error)
    assert "sekrit-token" not in str(error)
    assert len(s.sent) == 1 and s.sleeps == []


def test_predicthq_error_text_is_in_the_message(stub, exchange):
    s = stub(exchange("events/predicthq-errors.fixture.json", "402")["response"])
    with pytest.raises(SourceError, match="HTTP 402: Your subscription has expired"):
        s.http.request_json("GET", "https://phq.test/v1/events/")


def test_truncated_200_body_is_retried(stub, exchange):
    truncated = exchange("open-meteo/errors.fixture.json", "200 with broken stream")["response"]
    whole = exchange("open-meteo/forecast.fixture.json", "forecast, daily")["response"]
    s = stub(truncated, whole)
    body = s.http.request_json("GET", "https://om.test/v1/forecast")
    assert body["daily"]["time"][0] == "2025-06-06"
    assert len(s.sleeps) == 1


def test_a_truncated_body_every_time_ends_in_a_clear_error(stub, exchange):
    truncated = exchange("open-meteo/errors.fixture.json", "200 with broken stream")["response"]
    s = stub(truncated, truncated, max_retries=1)
    with pytest.raises(SourceError, match="not valid JSON") as caught:
        s.http.request_json("GET", "https://om.test/v1/forecast")
    assert caught.value.code == "INVALID_JSON"


@pytest.mark.parametrize(
    "failure",
    [
        requests.ReadTimeout("read timed out"),
        requests.ConnectionError("connection refused"),
        requests.exceptions.ChunkedEncodingError("connection broken: IncompleteRead"),
    ],
)
def test_transport_failures_are_retried(stub, failure):
    s = stub(failure, OK)
    assert s.http.request_json("GET", URL) == {"ok": True}
    assert len(s.sleeps) == 1


def test_query_secrets_never_reach_the_message(stub):
    leak = requests.ConnectionError(
        "HTTPSConnectionPool(host='om.test'): Max retries exceeded with url: "
        "/v1/forecast?latitude=1&apikey=sekrit-key (Caused by NewConnectionError)"
    )
    s = stub(leak, leak, max_retries=1)
    with pytest.raises(SourceError) as caught:
        s.http.request_json("GET", "https://om.test/v1/forecast", params={"apikey": "sekrit-key"})
    assert "sekrit-key" not in str(caught.value)
    assert "GET /v1/forecast failed: ConnectionError" in str(caught.value)


def test_a_wait_longer_than_max_wait_fails_fast(stub):
    s = stub({"status": 429, "headers": {"Retry-After": "3600"}}, max_wait=300)
    with pytest.raises(SourceError, match="resets in 3600 s, more than the 300 s") as caught:
        s.http.request_json("GET", URL)
    assert caught.value.retryable is False
    assert s.sleeps == [] and len(s.sent) == 1
