"""Every kind of response the fakes send validates against the providers' OpenAPI extracts, and
the validator does catch a body that drifts from the spec."""

from __future__ import annotations

import copy

import jsonschema
import pytest
import requests

from sandbox.spec import load_spec, validate_response, validate_schema

ORDERS = "/v2/orders/search"


def _closed_query(vendor, limit: int = 50) -> dict:
    return {
        "location_ids": [loc["id"] for loc in vendor.locations],
        "query": {
            "filter": {
                "date_time_filter": {"closed_at": {"start_at": "2025-04-01T00:00:00Z"}},
                "state_filter": {"states": ["COMPLETED", "CANCELED"]},
            },
            "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
        },
        "limit": limit,
    }


def _square(server, method: str, path: str, headers: dict, **kwargs) -> requests.Response:
    response = requests.request(method, server.url + path, headers=headers, timeout=10, **kwargs)
    validate_response("square", method, path, response.status_code, response.json())
    return response


def test_square_success_bodies_validate(square_server, vendor, square_headers):
    assert _square(square_server, "GET", "/v2/locations", square_headers).json()["locations"]

    first = _square(square_server, "POST", ORDERS, square_headers, json=_closed_query(vendor))
    assert first.json()["orders"] and first.json()["cursor"]
    second = _square(
        square_server,
        "POST",
        ORDERS,
        square_headers,
        json=_closed_query(vendor) | {"cursor": first.json()["cursor"]},
    )
    assert second.json()["orders"]
    entries = _square(
        square_server,
        "POST",
        ORDERS,
        square_headers,
        json=_closed_query(vendor) | {"return_entries": True},
    )
    assert entries.json()["order_entries"]
    empty = _square(
        square_server,
        "POST",
        ORDERS,
        square_headers,
        json={
            "location_ids": [vendor.locations[0]["id"]],
            "query": {
                "filter": {
                    "date_time_filter": {"created_at": {"start_at": "2031-01-01T00:00:00Z"}}
                },
                "sort": {"sort_field": "CREATED_AT"},
            },
        },
    )
    assert empty.json() == {}

    square_server.app.catalog_page_size = 5
    try:
        listing = _square(
            square_server,
            "GET",
            "/v2/catalog/list",
            square_headers,
            params={"types": "ITEM,ITEM_VARIATION,CATEGORY,MEASUREMENT_UNIT"},
        )
    finally:
        square_server.app.catalog_page_size = 100
    assert len(listing.json()["objects"]) == 5 and listing.json()["cursor"]

    variation_ids = [
        line["catalog_object_id"]
        for order in vendor.orders[:40]
        for line in order["line_items"]
        if "catalog_object_id" in line
    ]
    retrieved = _square(
        square_server,
        "POST",
        "/v2/catalog/batch-retrieve",
        square_headers,
        json={"object_ids": variation_ids, "include_related_objects": True},
    )
    assert retrieved.json()["objects"] and retrieved.json()["related_objects"]


def test_the_deleted_variation_validates(small_world):
    for vendor in small_world.vendors:
        for obj in vendor.catalog_objects:
            validate_schema("square", "CatalogObject", obj)
    assert any(o["is_deleted"] for v in small_world.vendors for o in v.catalog_objects)


def test_square_error_bodies_validate(square_server, vendor, square_headers):
    stale = _closed_query(vendor) | {"cursor": "bm90LWEtY3Vyc29y"}
    bad_sort = copy.deepcopy(_closed_query(vendor))
    bad_sort["query"]["sort"]["sort_field"] = "CREATED_AT"
    requests_made = [
        (_closed_query(vendor), {"Authorization": "Bearer not-a-token"}),
        (stale, square_headers),
        (bad_sort, square_headers),
        (_closed_query(vendor) | {"limit": 5000}, square_headers),
    ]
    codes = []
    for body, headers in requests_made:
        response = _square(square_server, "POST", ORDERS, headers, json=body)
        codes.append((response.status_code, response.json()["errors"][0]["code"]))
    for status in (429, 500, 503):
        square_server.faults.respond(ORDERS, status)
        response = _square(
            square_server, "POST", ORDERS, square_headers, json=_closed_query(vendor)
        )
        codes.append((response.status_code, response.json()["errors"][0]["code"]))
    assert codes == [
        (401, "UNAUTHORIZED"),
        (400, "INVALID_CURSOR"),
        (400, "BAD_REQUEST"),
        (400, "VALUE_TOO_HIGH"),
        (429, "RATE_LIMITED"),
        (500, "INTERNAL_SERVER_ERROR"),
        (503, "SERVICE_UNAVAILABLE"),
    ]


def _open_meteo(server, path: str, **params) -> requests.Response:
    response = requests.get(server.url + path, params=params, timeout=10)
    validate_response("open-meteo", "GET", path, response.status_code, response.json())
    return response


def test_open_meteo_bodies_validate(open_meteo_server, small_world):
    a, b = small_world.markets[:2]
    daily = "temperature_2m_max,temperature_2m_min,precipitation_sum,weather_code,sunrise"
    single = _open_meteo(
        open_meteo_server,
        "/v1/forecast",
        latitude=a.latitude,
        longitude=a.longitude,
        daily=daily + ",precipitation_probability_max",
        timezone=a.timezone,
        past_days=5,
    )
    assert isinstance(single.json(), dict)
    multi = _open_meteo(
        open_meteo_server,
        "/v1/forecast",
        latitude=f"{a.latitude},{b.latitude}",
        longitude=f"{a.longitude},{b.longitude}",
        daily=daily,
        timezone=a.timezone,
        forecast_days=16,
        temperature_unit="fahrenheit",
        precipitation_unit="inch",
    )
    assert isinstance(multi.json(), list)
    archive = _open_meteo(
        open_meteo_server,
        "/v1/archive",
        latitude=a.latitude,
        longitude=a.longitude,
        daily=daily + ",temperature_2m_mean,soil_moisture_0_to_7cm_mean",
        timezone=a.timezone,
        start_date="2025-05-01",
        end_date="2025-06-14",
    )
    assert None in archive.json()["daily"]["temperature_2m_max"]  # the reanalysis delay
    assert (
        _open_meteo(
            open_meteo_server, "/v1/archive", latitude=a.latitude, longitude=a.longitude
        ).status_code
        == 400
    )
    open_meteo_server.faults.respond("/v1/forecast", 429)
    assert (
        _open_meteo(open_meteo_server, "/v1/forecast", latitude=1, longitude=1).status_code == 429
    )


def _events(server, token: str, path: str = "/v1/events/", **params) -> requests.Response:
    response = requests.get(
        server.url + path, params=params, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    validate_response("predicthq", "GET", "/v1/events/", response.status_code, response.json())
    return response


def test_predicthq_bodies_validate(predicthq_server, small_world):
    market = small_world.markets[0]
    token = predicthq_server.token
    query = {
        "within": f"10km@{market.latitude},{market.longitude}",
        "active.gte": "2025-04-01",
        "active.lte": "2025-07-01",
        "state": "active,predicted,deleted",
        "limit": 5,
    }
    first = _events(predicthq_server, token, **query).json()
    assert first["next"] and first["previous"] is None and first["results"]
    last = _events(predicthq_server, token, **query, offset=first["count"] - 1).json()
    assert last["next"] is None and last["previous"] and len(last["results"]) == 1
    assert {e["state"] for e in first["results"] + last["results"]} >= {"active"}
    assert any(
        e["timezone"] is None
        for e in _events(predicthq_server, token, **query | {"category": "public-holidays"}).json()[
            "results"
        ]
    )
    empty = _events(
        predicthq_server, token, **query | {"active.gte": "2031-01-01", "active.lte": "2031-01-02"}
    )
    assert empty.json()["results"] == [] and empty.json()["count"] == 0
    assert _events(predicthq_server, "wrong", **query).status_code == 401
    assert _events(predicthq_server, token, within="ten km@1,2").status_code == 400


def test_validation_fails_when_a_quantity_becomes_a_number(small_world):
    order = copy.deepcopy(next(o for v in small_world.vendors for o in v.orders))
    validate_schema("square", "Order", order)
    order["line_items"][0]["quantity"] = float(order["line_items"][0]["quantity"])
    with pytest.raises(jsonschema.ValidationError, match="is not of type 'string'"):
        validate_response("square", "POST", ORDERS, 200, {"orders": [order]})


def test_validation_fails_for_other_drifts(small_world):
    event = copy.deepcopy(small_world.events[0])
    del event["id"]
    with pytest.raises(jsonschema.ValidationError, match="'id' is a required property"):
        validate_schema("predicthq", "Event", event)
    with pytest.raises(jsonschema.ValidationError):
        validate_response("open-meteo", "GET", "/v1/forecast", 400, {"error": "yes", "reason": "x"})
    with pytest.raises(jsonschema.ValidationError):
        validate_response(
            "square", "GET", "/v2/locations", 401, {"errors": [{"code": "UNAUTHORIZED"}]}
        )
    money = {"amount": "100", "currency": "USD"}
    with pytest.raises(jsonschema.ValidationError):
        validate_schema("square", "Money", money)


def test_the_published_extracts_are_stricter_than_the_providers(small_world):
    """Where the relaxed checks differ from the extracts as published, and why (spec.py)."""
    location = small_world.vendors[0].locations[0]
    validate_schema("square", "Location", location)
    with pytest.raises(jsonschema.ValidationError, match="'US' is not of type 'object'"):
        validate_schema("square", "Location", location, relaxed=False)
    holiday = next(e for e in small_world.events if e["timezone"] is None)
    validate_schema("predicthq", "Event", holiday)
    with pytest.raises(jsonschema.ValidationError, match="None is not of type 'string'"):
        validate_schema("predicthq", "Event", holiday, relaxed=False)
    raw = load_spec("predicthq", relaxed=False)
    assert raw["components"]["schemas"]["EventsResponse"]["properties"]["next"]["type"] == "string"
