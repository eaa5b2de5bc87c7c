"""The real clients against the sandbox's fake Square, Open-Meteo and PredictHQ servers on
loopback: paging, multi-location requests and recovery from injected faults."""

from __future__ import annotations

import math
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from sandbox.servers import start_open_meteo, start_predicthq, start_square
from sandbox.simulator import SimConfig, build_world, sandbox_now
from sandbox.spec import validate_schema
from sources.http import HttpClient
from sources.markets import market_id_for
from sources.open_meteo import OpenMeteoClient, Point
from sources.predicthq import PredictHQClient, event_rows
from sources.square import SquareClient
from sources.square_parse import catalog_rows, location_row, order_rows
from sources.timeparse import parse_rfc3339

CONFIG = SimConfig(end=date(2025, 9, 1), history_days=56)
WINDOW = (datetime(2025, 7, 1, tzinfo=UTC), datetime(2025, 9, 2, tzinfo=UTC))


@pytest.fixture(scope="module")
def world():
    return build_world(CONFIG)


@pytest.fixture(scope="module")
def square_server(world):
    with start_square(world) as server:
        yield server


@pytest.fixture(scope="module")
def open_meteo_server(world):
    with start_open_meteo(world) as server:
        yield server


@pytest.fixture(scope="module")
def predicthq_server(world):
    with start_predicthq(world) as server:
        yield server


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(sleeps):
    """HttpClient factory whose waits are recorded, not slept, on the sandbox clock."""
    clients: list[HttpClient] = []

    def make(provider: str, **options) -> HttpClient:
        client = HttpClient(
            provider, sleep=sleeps.append, clock=lambda: sandbox_now(CONFIG), **options
        )
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture(autouse=True)
def fresh_logs(request):
    """Every test starts with empty request logs and no queued faults."""
    for name in ("square_server", "open_meteo_server", "predicthq_server"):
        if name in request.fixturenames:
            server = request.getfixturevalue(name)
            server.requests.clear()
            server.faults.clear()


def busiest(world):
    return max(world.vendors, key=lambda v: len(v.orders))


def square_for(server, vendor, http) -> SquareClient:
    return SquareClient(server.url, vendor.access_token, "2025-08-20", http=http("square"))


def closed_in_window(vendor) -> set[str]:
    start, end = WINDOW
    return {o["id"] for o in vendor.orders if start <= parse_rfc3339(o["closed_at"]) <= end}


def order_ids(pages) -> list[str]:
    return [order["id"] for page in pages for order in page]


def order_searches(server) -> list:
    return [r for r in server.requests if r.path == "/v2/orders/search"]


def test_square_order_paging_gets_every_order_once_with_the_identical_body(
    world, square_server, http, assert_contract
):
    vendor = busiest(world)
    square = square_for(square_server, vendor, http)
    location_ids = [loc["id"] for loc in vendor.locations]

    pages = list(square.search_order_pages(location_ids, *WINDOW, field="CLOSED_AT", limit=100))
    orders = [order for page in pages for order in page]

    ids = [o["id"] for o in orders]
    assert len(ids) == len(set(ids))
    assert set(ids) == closed_in_window(vendor)
    searches = order_searches(square_server)
    assert len(searches) >= math.ceil(len(ids) / 100) > 10
    first = searches[0].json
    validate_schema("square", "SearchOrdersRequest", first)
    assert "cursor" not in first
    for later in searches[1:]:
        assert later.json.pop("cursor")
        assert later.json == first
    assert all(r.header("Authorization") == f"Bearer {vendor.access_token}" for r in searches)
    assert all(r.header("Square-Version") == "2025-08-20" for r in searches)

    timezones = {loc["id"]: loc["timezone"] for loc in vendor.locations}
    rows = [order_rows(vendor.vendor_id, o, timezones, WINDOW[1]) for o in orders]
    assert_contract("raw.square_orders", [order for order, _, _ in rows])
    lines = [line for _, order_lines, _ in rows for line in order_lines]
    assert_contract("raw.square_order_line_items", lines)
    weighed = [line for line in lines if line["quantity_unit"] == "IMPERIAL_POUND"]
    if weighed:
        assert all(isinstance(line["quantity"], Decimal) for line in weighed)


def test_square_paging_survives_429_5xx_and_a_dropped_connection(
    world, square_server, http, sleeps
):
    vendor = busiest(world)
    square_server.faults.respond("/v2/orders/search", 429, headers={"Retry-After": "1"})
    square_server.faults.respond("/v2/orders/search", 503)
    square_server.faults.drop_connection("/v2/orders/search")
    square = square_for(square_server, vendor, http)

    location_ids = [loc["id"] for loc in vendor.locations]
    ids = order_ids(square.search_order_pages(location_ids, *WINDOW, field="CLOSED_AT"))

    assert Counter(ids).most_common(1)[0][1] == 1
    assert set(ids) == closed_in_window(vendor)
    assert sleeps[0] == 1.0  # Retry-After honoured; the others backed off
    assert len(sleeps) == 3


def test_square_stale_cursor_restarts_the_window(world, square_server, http):
    vendor = busiest(world)
    square = square_for(square_server, vendor, http)
    pages = square.search_order_pages(
        [loc["id"] for loc in vendor.locations], *WINDOW, field="CLOSED_AT", limit=200
    )
    first = next(pages)
    square_server.app.invalidate_cursors()
    rest = order_ids(pages)

    # The window starts over: the first page comes again (the loader's upsert absorbs it),
    # and nothing is missing.
    assert rest[:200] == [o["id"] for o in first]
    assert len(rest) == len(set(rest))
    assert set(rest) == closed_in_window(vendor)
    cursors = [r.json.get("cursor") for r in order_searches(square_server)]
    assert cursors[:3] == [None, cursors[1], None]  # page 2's cursor went stale: start over


def test_square_catalog_paging_and_deleted_variations(world, square_server, http, assert_contract):
    vendor = next(v for v in world.vendors if any(o.get("is_deleted") for o in v.catalog_objects))
    square = square_for(square_server, vendor, http)
    square_server.app.catalog_page_size = 4
    try:
        objects = list(square.list_catalog())
    finally:
        square_server.app.catalog_page_size = 100

    listings = [r for r in square_server.requests if r.path == "/v2/catalog/list"]
    assert len(listings) == math.ceil(len(objects) / 4) > 2
    assert [r.query.get("cursor") is None for r in listings] == [True] + [False] * (
        len(listings) - 1
    )
    assert len({o["id"] for o in objects}) == len(objects)

    live = catalog_rows(vendor.vendor_id, objects, WINDOW[1])
    assert_contract("raw.square_catalog", live)
    sold = {li.get("catalog_object_id") for o in vendor.orders for li in o.get("line_items") or []}
    missing = sorted(sold - {row["variation_id"] for row in live} - {None})
    assert missing, "this vendor sold a variation that has been deleted since"

    retrieved = square.batch_retrieve_catalog(missing)
    deleted = catalog_rows(vendor.vendor_id, retrieved + objects, WINDOW[1])
    by_id = {row["variation_id"]: row for row in deleted}
    assert all(by_id[variation_id]["is_deleted"] for variation_id in missing)


def test_square_locations_become_market_rows(world, square_server, http, assert_contract):
    vendor = busiest(world)
    rows = [
        location_row(vendor.vendor_id, loc, WINDOW[1])
        for loc in square_for(square_server, vendor, http).list_locations()
    ]
    assert_contract("raw.square_locations", rows)
    markets = {market_id_for(m.latitude, m.longitude) for m in world.markets}
    assert {row["market_id"] for row in rows} <= markets


def points(world) -> list[Point]:
    return [
        Point(market_id_for(m.latitude, m.longitude), m.latitude, m.longitude, m.timezone)
        for m in world.markets
    ]


def test_open_meteo_fetches_all_markets_of_a_zone_in_one_request(
    world, open_meteo_server, http, assert_contract
):
    client = OpenMeteoClient(open_meteo_server.url, open_meteo_server.url, http("open_meteo"))
    first, last = CONFIG.end - timedelta(days=14), CONFIG.end - timedelta(days=1)

    rows = client.archive(points(world), first, last)

    assert len(open_meteo_server.requests) == 1
    request = open_meteo_server.requests[0]
    assert request.path == "/v1/archive"
    assert len(request.query["latitude"].split(",")) == len(world.markets)
    assert_contract("raw.weather_daily", rows)
    # The last days are inside the reanalysis delay: all null, left out for a later run.
    delay = open_meteo_server.app.reanalysis_delay_days
    assert max(r["weather_date"] for r in rows) < last
    assert len(rows) == len(world.markets) * (14 - delay)
    for market in world.markets:
        truth = world.weather[(market.market_key, first)]
        row = next(
            r
            for r in rows
            if r["market_id"] == market_id_for(market.latitude, market.longitude)
            and r["weather_date"] == first
        )
        assert row["temp_max_c"] == pytest.approx(truth["temp_max_c"], abs=0.1)
        assert row["precip_mm"] == pytest.approx(truth["precip_mm"], abs=0.1)


def test_open_meteo_forecast_recovers_from_a_truncated_stream_and_a_minute_limit(
    world, open_meteo_server, http, sleeps
):
    open_meteo_server.faults.truncate(
        "/v1/forecast", suffix="Unexpected error while streaming data: timeout"
    )
    open_meteo_server.faults.respond("/v1/forecast", 429)
    client = OpenMeteoClient(open_meteo_server.url, open_meteo_server.url, http("open_meteo"))

    rows = client.forecast(points(world), past_days=5, forecast_days=7)

    assert len(open_meteo_server.requests) == 3
    assert len(rows) == len(world.markets) * 12
    assert {r["source"] for r in rows} == {"open_meteo_forecast"}
    # The sandbox clock is local midnight in Seattle, on a minute boundary: 60 s + 1 s margin.
    assert sleeps[1] == 61.0


def test_predicthq_follows_next_until_null_and_gets_each_event_once(
    world, predicthq_server, http, assert_contract
):
    client = PredictHQClient(predicthq_server.url, predicthq_server.token, http("predicthq"))
    market = world.markets[0]
    found = list(
        client.search(
            market.latitude,
            market.longitude,
            25,
            CONFIG.start,
            CONFIG.horizon_end,
            timezone=market.timezone,
            limit=3,
        )
    )

    ids = [e["id"] for e in found]
    assert len(ids) == len(set(ids)) > 6
    requests = predicthq_server.requests
    assert len(requests) == math.ceil(len(ids) / 3)
    assert [r.query.get("offset") for r in requests[1:]] == [
        str(3 * i) for i in range(1, len(requests))
    ]
    assert all(r.path == "/v1/events/" for r in requests)
    assert all(r.header("Authorization") == f"Bearer {predicthq_server.token}" for r in requests)
    for event in found:
        validate_schema("predicthq", "Event", event)

    rows = event_rows(market_id_for(market.latitude, market.longitude), found, WINDOW[1])
    assert_contract("raw.events", rows)
    assert {r["state"] for r in rows} <= {"active", "predicted", "deleted"}


def test_predicthq_overflow_splits_the_window(world, predicthq_server, http):
    client = PredictHQClient(predicthq_server.url, predicthq_server.token, http("predicthq"))
    market = world.markets[0]
    search = (market.latitude, market.longitude, 25, CONFIG.start, CONFIG.horizon_end)
    everything = {e["id"] for e in client.search(*search, timezone=market.timezone)}
    predicthq_server.requests.clear()

    predicthq_server.app.max_results = len(everything) - 1
    try:
        split = {e["id"] for e in client.search(*search, timezone=market.timezone)}
    finally:
        predicthq_server.app.max_results = 10_000

    assert split == everything
    windows = {(r.query["active.gte"], r.query["active.lte"]) for r in predicthq_server.requests}
    assert len(windows) >= 3  # the whole window, then its halves
