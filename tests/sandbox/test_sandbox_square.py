"""The fake Square API through plain `requests`: paging, the SearchOrders rules, auth, catalog."""

from __future__ import annotations

import copy
import datetime as dt

import pytest
import requests

ORDERS = "/v2/orders/search"


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _query(vendor, field: str = "closed_at", **window: str) -> dict:
    states = ["COMPLETED", "CANCELED"]
    return {
        "location_ids": [loc["id"] for loc in vendor.locations],
        "query": {
            "filter": {
                "date_time_filter": {field: window or {"start_at": "2025-01-01T00:00:00Z"}},
                "state_filter": {"states": states},
            },
            "sort": {"sort_field": field.upper(), "sort_order": "ASC"},
        },
    }


def _search(server, headers, body) -> requests.Response:
    return requests.post(server.url + ORDERS, json=body, headers=headers, timeout=10)


def _error(response: requests.Response) -> tuple[int, str]:
    return response.status_code, response.json()["errors"][0]["code"]


def test_orders_page_by_cursor_with_the_identical_body(square_server, vendor, square_headers):
    body = _query(vendor) | {"limit": 97}
    orders, cursors = [], []
    while True:
        page = _search(square_server, square_headers, body).json()
        orders += page.get("orders", [])
        if "cursor" not in page:
            break
        cursors.append(page["cursor"])
        body = body | {"cursor": page["cursor"]}
        assert len(page["orders"]) == 97

    assert [o["id"] for o in orders] == [o["id"] for o in vendor.orders]  # all, oldest first
    assert len(cursors) == len(vendor.orders) // 97 and len(set(cursors)) == len(cursors)
    closed = [_parse(o["closed_at"]) for o in orders]
    assert closed == sorted(closed)

    changed = _query(vendor) | {"limit": 50, "cursor": cursors[0]}
    assert _error(_search(square_server, square_headers, changed)) == (400, "INVALID_CURSOR")
    other = square_headers | {"Authorization": "Bearer not-the-vendor"}
    assert _search(square_server, other, body).status_code == 401


def test_a_full_last_page_still_carries_a_cursor_to_an_empty_page(
    square_server, vendor, square_headers
):
    total = len(vendor.orders)
    divisor = next(d for d in range(2, 50) if total % d == 0 and total // d <= 1000)
    body = _query(vendor) | {"limit": total // divisor}
    pages = []
    while True:
        page = _search(square_server, square_headers, body).json()
        pages.append(page)
        if "cursor" not in page:
            break
        body = body | {"cursor": page["cursor"]}
    assert len(pages) == divisor + 1 and pages[-1] == {}


def test_time_bounds_are_inclusive_and_sorting_follows_the_filter(
    square_server, vendor, square_headers
):
    order = vendor.orders[len(vendor.orders) // 2]
    exact = _query(vendor, "created_at", start_at=order["created_at"], end_at=order["created_at"])
    found = _search(square_server, square_headers, exact).json()["orders"]
    assert order["id"] in {o["id"] for o in found}

    late = _query(vendor, "updated_at", start_at="2025-01-01T00:00:00Z")
    late["query"]["sort"]["sort_order"] = "DESC"
    updated = [
        _parse(o["updated_at"])
        for o in _search(square_server, square_headers, late).json()["orders"]
    ]
    assert updated == sorted(updated, reverse=True)

    mismatch = copy.deepcopy(late)
    mismatch["query"]["sort"]["sort_field"] = "CREATED_AT"
    assert _error(_search(square_server, square_headers, mismatch)) == (400, "BAD_REQUEST")

    two = _query(vendor)
    two["query"]["filter"]["date_time_filter"]["created_at"] = {"start_at": "2025-01-01T00:00:00Z"}
    assert _error(_search(square_server, square_headers, two)) == (400, "BAD_REQUEST")

    open_states = _query(vendor)
    open_states["query"]["filter"]["state_filter"]["states"] = ["OPEN"]
    assert _error(_search(square_server, square_headers, open_states)) == (400, "BAD_REQUEST")

    backwards = _query(vendor, start_at="2025-06-01T00:00:00Z", end_at="2025-05-01T00:00:00+00:00")
    assert _error(_search(square_server, square_headers, backwards)) == (400, "INVALID_TIME_RANGE")


def test_state_filter_and_entries_mode(square_server, vendor, square_headers):
    body = _query(vendor)
    body["query"]["filter"]["state_filter"]["states"] = ["CANCELED"]
    body["return_entries"] = True
    entries = _search(square_server, square_headers, body).json()["order_entries"]
    cancelled = {o["id"]: o for o in vendor.orders if o["state"] == "CANCELED"}
    assert {e["order_id"] for e in entries} == set(cancelled)
    assert all(e["version"] == cancelled[e["order_id"]]["version"] for e in entries)


def test_location_ids_must_be_the_merchants_and_at_most_ten(
    square_server, small_world, vendor, square_headers
):
    stranger = next(v for v in small_world.vendors if v is not vendor)
    foreign = _query(vendor) | {"location_ids": [stranger.locations[0]["id"]]}
    assert _error(_search(square_server, square_headers, foreign)) == (400, "INVALID_VALUE")
    many = _query(vendor) | {"location_ids": [vendor.locations[0]["id"]] * 11}
    assert _error(_search(square_server, square_headers, many)) == (400, "ARRAY_LENGTH_TOO_LONG")
    missing = {k: v for k, v in _query(vendor).items() if k != "location_ids"}
    assert _error(_search(square_server, square_headers, missing)) == (
        400,
        "MISSING_REQUIRED_PARAMETER",
    )
    too_big = _query(vendor) | {"limit": 1001}
    assert _error(_search(square_server, square_headers, too_big)) == (400, "VALUE_TOO_HIGH")


def test_auth_errors_and_version_header(square_server, vendor, square_headers):
    response = requests.get(square_server.url + "/v2/locations", timeout=10)
    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "category": "AUTHENTICATION_ERROR",
                "code": "UNAUTHORIZED",
                "detail": "This request could not be authorized.",
            }
        ]
    }
    pinned = square_headers | {"Square-Version": "2024-01-18"}
    ok = requests.get(square_server.url + "/v2/locations", headers=pinned, timeout=10)
    assert ok.headers["Square-Version"] == "2024-01-18"
    assert square_server.requests[-1].header("square-version") == "2024-01-18"
    assert [loc["id"] for loc in ok.json()["locations"]] == [loc["id"] for loc in vendor.locations]
    bad = requests.get(
        square_server.url + "/v2/locations",
        headers=square_headers | {"Square-Version": "v2"},
        timeout=10,
    )
    assert _error(bad) == (400, "INVALID_SQUARE_VERSION_FORMAT")
    assert requests.get(square_server.url + "/v2/nothing", timeout=10).status_code == 404


def test_catalog_lists_by_cursor_without_deleted_objects(
    square_server, small_world, square_headers
):
    owner = next(v for v in small_world.vendors if any(o["is_deleted"] for o in v.catalog_objects))
    headers = square_headers | {"Authorization": f"Bearer {owner.access_token}"}
    square_server.app.catalog_page_size = 3
    try:
        objects, params, pages = [], {"types": "item,ITEM_VARIATION,CATEGORY"}, 0
        while True:
            page = requests.get(
                square_server.url + "/v2/catalog/list", params=params, headers=headers, timeout=10
            ).json()
            pages += 1
            objects += page["objects"]
            if "cursor" not in page:
                break
            params = params | {"cursor": page["cursor"]}
    finally:
        square_server.app.catalog_page_size = 100
    assert pages == -(-len(objects) // 3) > 2
    assert {o["type"] for o in objects} == {"ITEM", "ITEM_VARIATION", "CATEGORY"}
    assert not any(o["is_deleted"] for o in objects)
    deleted = next(o for o in owner.catalog_objects if o["is_deleted"])
    assert deleted["id"] not in {o["id"] for o in objects}

    batch = requests.post(
        square_server.url + "/v2/catalog/batch-retrieve",
        json={"object_ids": [deleted["id"]], "include_related_objects": True},
        headers=headers,
        timeout=10,
    ).json()
    assert batch["objects"] == [deleted] and batch["objects"][0]["is_deleted"] is True
    assert {o["type"] for o in batch["related_objects"]} == {"ITEM"}
    hidden = requests.post(
        square_server.url + "/v2/catalog/batch-retrieve",
        json={"object_ids": [deleted["id"]], "include_deleted_objects": False},
        headers=headers,
        timeout=10,
    ).json()
    assert hidden == {}


@pytest.mark.parametrize("types", ["ITEM,WIDGET", "bogus"])
def test_unknown_catalog_types_are_rejected(square_server, square_headers, types):
    response = requests.get(
        square_server.url + "/v2/catalog/list",
        params={"types": types},
        headers=square_headers,
        timeout=10,
    )
    assert _error(response) == (400, "INVALID_ENUM_VALUE")
