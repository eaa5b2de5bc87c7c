"""The fake Ticketmaster Discovery API through plain `requests`: the HAL page, geo and date
filters, paging limits, key and quota errors; every body validated against the Discovery
extract (sandbox.spec)."""

from __future__ import annotations

import datetime as dt
import json

import jsonschema
import pytest
import requests

from sandbox.geo import distance_km
from sandbox.servers import start_ticketmaster
from sandbox.spec import api_samples_dir, validate_response
from sandbox.ticketmaster_api import decode_geohash
from sources import geohash

PATH = "/discovery/v2/events.json"


@pytest.fixture(scope="module")
def tm_server(small_world):
    with start_ticketmaster(small_world) as server:
        yield server


@pytest.fixture(autouse=True)
def fresh(tm_server):
    tm_server.requests.clear()
    tm_server.faults.clear()
    tm_server.app.calls = 0
    tm_server.app.daily_quota = 5000


def search(server, status: int = 200, **params) -> requests.Response:
    response = requests.get(server.url + PATH, params={"apikey": server.token} | params, timeout=10)
    assert response.status_code == status, response.text
    validate_response("ticketmaster", "GET", PATH, status, response.json())
    return response


def window(world, km: int = 10) -> dict:
    market = world.markets[0]
    return {
        "latlong": f"{market.latitude},{market.longitude}",
        "radius": str(km),
        "unit": "km",
        "startDateTime": f"{world.config.start}T00:00:00Z",
        "endDateTime": f"{world.config.horizon_end}T23:59:59Z",
        "sort": "id,asc",
    }


def test_a_search_is_a_hal_page_of_ticketed_events_near_the_point(tm_server, small_world):
    market = small_world.markets[0]
    response = search(tm_server, **window(small_world), size="200")
    body = response.json()
    events = body["_embedded"]["events"]
    assert body["page"] == {
        "size": 200,
        "totalElements": len(events),
        "totalPages": 1,
        "number": 0,
    }
    assert events == sorted(events, key=lambda e: e["id"])
    for event in events:
        venue = event["_embedded"]["venues"][0]
        assert isinstance(venue["location"]["latitude"], str)  # strings on the wire
        km = distance_km(
            market.latitude,
            market.longitude,
            float(venue["location"]["latitude"]),
            float(venue["location"]["longitude"]),
        )
        assert km <= 10
        assert event["classifications"][0]["segment"]["name"] in {
            "Music",
            "Sports",
            "Arts & Theatre",
            "Miscellaneous",
        }
    assert int(response.headers["Rate-Limit-Reset"]) > 10**12  # epoch milliseconds
    assert "apikey" not in json.dumps(body["_links"])


def test_a_geohash_and_latlong_find_the_same_events(tm_server, small_world):
    market = small_world.markets[0]
    # The client's encoder and the fake's decoder are written apart: they must agree to metres.
    cell = geohash.encode(market.latitude, market.longitude)
    lat, lon = decode_geohash(cell)
    assert distance_km(lat, lon, market.latitude, market.longitude) < 0.005
    by_latlong = search(tm_server, **window(small_world), size="200").json()
    geo = {k: v for k, v in window(small_world).items() if k != "latlong"} | {"geoPoint": cell}
    by_geohash = search(tm_server, **geo, size="200").json()
    assert by_latlong["page"]["totalElements"] > 0
    assert by_geohash["_embedded"] == by_latlong["_embedded"]


def test_pages_and_the_depth_and_size_limits(tm_server, small_world):
    first = search(tm_server, **window(small_world, km=50), size="2").json()
    assert first["page"]["totalPages"] > 2 and "next" in first["_links"]
    last_page = first["page"]["totalPages"] - 1
    last = search(tm_server, **window(small_world, km=50), size="2", page=str(last_page)).json()
    assert "next" not in last["_links"]
    too_big = search(tm_server, 400, **window(small_world), size="201").json()
    assert too_big["errors"][0]["code"] == "DIS1036"
    too_deep = search(tm_server, 400, **window(small_world), size="200", page="5").json()
    assert too_deep["errors"][0]["code"] == "DIS1035"


def test_nothing_matching_leaves_embedded_out(tm_server, small_world):
    empty = search(
        tm_server,
        **window(small_world)
        | {"startDateTime": "2031-06-01T00:00:00Z", "endDateTime": "2031-06-08T00:00:00Z"},
    ).json()
    assert "_embedded" not in empty and empty["page"]["totalElements"] == 0


def test_dates_must_be_exactly_utc_seconds(tm_server, small_world):
    for stamp in ("2025-06-01T00:00:00.000Z", "2025-06-01T00:00:00", "2025-06-01"):
        refused = search(tm_server, 400, **window(small_world) | {"startDateTime": stamp}).json()
        assert refused["errors"][0]["code"] == "DIS1015"


def test_a_bad_key_and_an_exhausted_quota(tm_server, small_world):
    bad = search(tm_server, 401, apikey="wrong").json()
    assert bad["fault"]["detail"]["errorcode"] == "oauth.v2.InvalidApiKey"
    tm_server.app.daily_quota = tm_server.app.calls + 1
    search(tm_server, **window(small_world))
    quota = search(tm_server, 429, **window(small_world))
    assert "Rate-Limit-Reset" not in quota.headers  # 4xx carry no rate-limit headers
    fault = quota.json()["fault"]
    assert fault["detail"]["errorcode"] == "policies.ratelimit.QuotaViolation"
    assert tm_server.token in fault["faultstring"]  # as the real gateway does: clients must scrub


def test_a_cancelled_event_is_listed_as_canceled(tm_server, small_world):
    parade = next(e for e in small_world.events if e.get("deleted_reason") == "cancelled")
    start = dt.datetime.fromisoformat(parade["start"].replace("Z", "+00:00"))
    found = search(
        tm_server,
        **window(small_world, km=5)
        | {
            "startDateTime": f"{start:%Y-%m-%dT%H:%M:%S}Z",
            "endDateTime": f"{start:%Y-%m-%dT%H:%M:%S}Z",
        },
    ).json()
    # community events are not ticketed; the parade stays off Ticketmaster
    titles = {e["name"] for e in found.get("_embedded", {}).get("events", [])}
    assert parade["title"] not in titles
    concert = next(
        e
        for e in small_world.events
        if e["category"] == "concerts" and e["state"] == "active" and e.get("scope") == "locality"
    )
    concert["state"], concert["deleted_reason"] = "deleted", "cancelled"
    try:
        at = dt.datetime.fromisoformat(concert["start"].replace("Z", "+00:00"))
        listed = search(
            tm_server,
            startDateTime=f"{at:%Y-%m-%dT%H:%M:%S}Z",
            endDateTime=f"{at:%Y-%m-%dT%H:%M:%S}Z",
            size="200",
        ).json()["_embedded"]["events"]
    finally:
        concert["state"] = "active"
        del concert["deleted_reason"]
    (event,) = [e for e in listed if e["name"] == concert["title"]]
    assert event["dates"]["status"]["code"] == "canceled"  # the extract's spelling


@pytest.mark.parametrize("status", [429, 500, 503])
def test_queued_faults_answer_the_gateway_shape(tm_server, status):
    tm_server.faults.respond(PATH, status)
    search(tm_server, status)


def test_the_recorded_bodies_validate_and_the_2017_extract_is_wrong_about_the_page():
    """The extract declares a bare array of events; the official sample is a HAL page."""
    recorded = json.loads(
        (api_samples_dir() / "events/ticketmaster-events.fixture.json").read_text()
    )
    for exchange in recorded["exchanges"]:
        body = exchange["response"]["body"]
        validate_response("ticketmaster", "GET", PATH, 200, body)
        with pytest.raises(jsonschema.ValidationError, match="is not of type 'array'"):
            validate_response("ticketmaster", "GET", PATH, 200, body, relaxed=False)
    errors = json.loads((api_samples_dir() / "events/ticketmaster-errors.fixture.json").read_text())
    for exchange in errors["exchanges"]:
        response = exchange["response"]
        validate_response("ticketmaster", "GET", PATH, response["status"], response["body"])
