"""The fake Square keeps to the spec extract whatever it is asked, tells when it is made to drift,
and its knobs (revoked tokens, short pages, late orders, returns) behave as Square does."""

from __future__ import annotations

import datetime as dt

import pytest
import requests

from sandbox import square_history
from sandbox.fake_http import Reply
from sandbox.servers import start_square
from sandbox.simulator import SimConfig, build_world
from sandbox.spec import validate_schema
from sandbox.square_api import STANDARD_ERRORS, error_body, spec_problem

ORDERS = "/v2/orders/search"
NOW = dt.datetime(2025, 6, 15, 7, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def world():
    """A world of its own: these tests add orders to it."""
    return build_world(SimConfig(end=dt.date(2025, 6, 15), history_days=28, n_vendors=2))


@pytest.fixture(scope="module")
def server(world):
    with start_square(world) as fake:
        fake.app.validate_replies = True
        yield fake


@pytest.fixture(autouse=True)
def _no_drift(server):
    """Every reply of every test here is checked against the spec extract by the fake itself."""
    server.app.spec_violations.clear()
    server.faults.clear()
    yield
    assert server.app.spec_violations == []


def headers(vendor) -> dict[str, str]:
    return {"Authorization": f"Bearer {vendor.access_token}", "Square-Version": "2025-08-20"}


def search(server, vendor, **changes) -> dict:
    body = {
        "location_ids": [loc["id"] for loc in vendor.locations],
        "query": {
            "filter": {
                "date_time_filter": {"updated_at": {"start_at": "2025-01-01T00:00:00Z"}},
                "state_filter": {"states": ["COMPLETED", "CANCELED"]},
            },
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    } | changes
    response = requests.post(server.url + ORDERS, json=body, headers=headers(vendor), timeout=10)
    return {"status": response.status_code, **response.json()}


def all_orders(server, vendor, limit: int = 1000) -> list[dict]:
    found, cursor = [], None
    while True:
        page = search(server, vendor, limit=limit, **({"cursor": cursor} if cursor else {}))
        found += page.get("orders", [])
        cursor = page.get("cursor")
        if not cursor:
            return found


@pytest.mark.parametrize("status", sorted(STANDARD_ERRORS))
def test_every_error_body_the_fake_can_send_is_squares_envelope(status):
    assert spec_problem("POST", ORDERS, error_body(status)) is None
    assert spec_problem("GET", "/v2/unknown", error_body(status)) is None


def test_a_broad_session_of_requests_stays_within_the_spec(server, world):
    vendor = world.vendors[0]
    server.app.max_page_orders = 7
    try:
        pages = [search(server, vendor, limit=10)]
        pages.append(search(server, vendor, limit=10, cursor=pages[0]["cursor"]))
    finally:
        server.app.max_page_orders = None
    assert [len(p["orders"]) for p in pages] == [7, 7] and pages[1]["cursor"]
    assert search(server, vendor, return_entries=True, limit=3)["order_entries"]
    assert search(server, vendor, cursor="bm90LWEtY3Vyc29y")["errors"][0]["code"] == (
        "INVALID_CURSOR"
    )
    assert search(server, vendor, limit=0)["status"] == 400
    url = server.url
    sent = [
        requests.get(url + "/v2/locations", headers=headers(vendor), timeout=10),
        requests.get(url + "/v2/catalog/list", headers=headers(vendor), timeout=10),
        requests.post(
            url + "/v2/catalog/batch-retrieve",
            json={"object_ids": ["NOPE", vendor.orders[0]["line_items"][0]["catalog_object_id"]]},
            headers=headers(vendor),
            timeout=10,
        ),
        requests.get(url + "/v2/locations", timeout=10),
        requests.get(url + "/v2/orders/search", headers=headers(vendor), timeout=10),
        requests.get(url + "/v2/nothing", headers=headers(vendor), timeout=10),
    ]
    assert [r.status_code for r in sent] == [200, 200, 200, 401, 405, 404]
    assert len(server.app.spec_violations) == 0


def test_a_drifted_response_is_caught(server, world):
    """If the fake ever sent a quantity as a JSON number, its own validation says where."""

    def as_numbers(orders: list[dict]) -> list[dict]:
        orders[0]["line_items"][0]["quantity"] = float(orders[0]["line_items"][0]["quantity"])
        return orders

    server.app.alter_orders = as_numbers
    try:
        search(server, world.vendors[0], limit=5)
    finally:
        server.app.alter_orders = None
    assert len(server.app.spec_violations) == 1
    assert "orders/0/line_items/0/quantity" in server.app.spec_violations[0]
    assert "is not of type 'string'" in server.app.spec_violations[0]
    server.app.spec_violations.clear()


def test_the_checker_rejects_bodies_square_would_not_send():
    assert "amount" in spec_problem(
        "POST",
        ORDERS,
        Reply(200, {"orders": [{"location_id": "L", "total_money": {"amount": "1"}}]}),
    )
    assert "category" in spec_problem(
        "GET", "/v2/locations", Reply(401, {"errors": [{"code": "X"}]})
    )
    assert "not a JSON object" in spec_problem("GET", "/v2/locations", Reply(502, "<html/>"))


@pytest.mark.parametrize("code", ["ACCESS_TOKEN_REVOKED", "ACCESS_TOKEN_EXPIRED"])
def test_a_revoked_token_gets_401_with_its_code_and_the_others_work(server, world, code):
    revoked, other = world.vendors
    server.app.revoke(revoked.access_token, code)
    try:
        denied = search(server, revoked)
        allowed = search(server, other)
    finally:
        server.app._revoked.clear()
    assert (denied["status"], denied["errors"][0]["code"]) == (401, code)
    assert denied["errors"][0]["category"] == "AUTHENTICATION_ERROR"
    assert allowed["status"] == 200 and allowed["orders"]
    with pytest.raises(ValueError, match="UNAUTHORIZED"):
        server.app.revoke(revoked.access_token, "UNAUTHORIZED")


def test_short_pages_still_carry_every_order_once(server, world):
    vendor = world.vendors[1]
    everything = all_orders(server, vendor)
    server.app.max_page_orders = 13
    try:
        short = all_orders(server, vendor, limit=50)
    finally:
        server.app.max_page_orders = None
    assert [o["id"] for o in short] == [o["id"] for o in everything]
    assert len(everything) == len(vendor.orders)


def test_returns_late_orders_and_new_versions_are_squares_shapes(server, world):
    vendor = world.vendors[0]
    sale = next(o for o in vendor.orders if o["state"] == "COMPLETED")
    line = sale["line_items"][0]
    returned = square_history.add_return(vendor, sale["id"], line["uid"], "1", NOW)
    unlinked = square_history.add_return(vendor, sale["id"], line["uid"], "1", NOW, linked=False)
    closed = NOW - dt.timedelta(hours=60)
    late = square_history.add_late_order(vendor, sale["id"], closed, NOW)
    newer = square_history.update_order(vendor, sale["id"], NOW, metadata={"note": "edited"})
    for order in (returned, unlinked, late, newer):
        validate_schema("square", "Order", order)

    entry = returned["returns"][0]
    assert entry["source_order_id"] == sale["id"]
    assert entry["return_line_items"][0]["source_line_item_uid"] == line["uid"]
    assert "source_order_id" not in unlinked["returns"][0]
    assert (late["closed_at"], late["updated_at"]) == (
        square_history.stamp(closed),
        square_history.stamp(NOW),
    )
    assert newer["version"] == sale["version"] + 1

    # The server sees the change: the new orders are the last updated, the old version is gone.
    latest = all_orders(server, vendor)
    assert {o["id"] for o in latest[-4:]} == {
        returned["id"],
        unlinked["id"],
        late["id"],
        sale["id"],
    }
    assert [o["version"] for o in latest if o["id"] == sale["id"]] == [newer["version"]]
