"""Square ingestion end to end: the real clients against the fake Square on loopback, into a real
DuckDB file (and a real PostgreSQL database for the core path), checked against the simulated
world's ground truth: every closed order once, in its newest version, whatever goes wrong."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest

from marketprep.ingest import square_state
from marketprep.ingest.square import plan_windows, sync_square_locations, sync_square_orders
from marketprep.ingest.square_orders import (
    CANCELED,
    CUSTOM_AMOUNT,
    UNLINKED_RETURN,
    rebuild_orders,
)
from marketprep.settings import Settings, load_settings
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from sandbox import square_history
from sandbox.fake_http import FakeServer
from sandbox.servers import start_square
from sandbox.simulator import SimConfig, build_world, sandbox_now
from sandbox.world import World
from sources.http import HttpClient
from sources.timeparse import parse_rfc3339

pytestmark = pytest.mark.integration

CONFIG = SimConfig(end=dt.date(2025, 7, 1), history_days=42, n_vendors=3)
NOW = sandbox_now(CONFIG)  # local midnight of 2025-07-01, after every simulated sale
FIRST, LAST = CONFIG.start, CONFIG.end - dt.timedelta(days=1)
ORDERS = "/v2/orders/search"


@pytest.fixture
def world() -> World:
    """A fresh world per test: the tests change Square accounts after the fact."""
    return build_world(CONFIG)


@pytest.fixture
def square(world) -> Iterator[FakeServer]:
    with start_square(world) as server:
        server.app.validate_replies = True
        yield server
        assert server.app.spec_violations == []


@pytest.fixture
def sleeps() -> list[float]:
    return []


@pytest.fixture
def http(sleeps) -> Callable[[], HttpClient]:
    """Each vendor's client: MarketPrep's retry policy, with waits recorded instead of slept."""
    return lambda: HttpClient("square", sleep=sleeps.append, read_timeout=5.0)


class Env:
    def __init__(self, settings: Settings, http: Callable[[], HttpClient]) -> None:
        self.settings = settings
        self.warehouse = Warehouse(settings.warehouse)
        self.http = http

    def locations(self, now: dt.datetime = NOW):
        return {
            r.subject: r
            for r in sync_square_locations(self.warehouse, self.settings, now, http=self.http)
        }

    def orders(self, first=FIRST, last=LAST, now: dt.datetime = NOW, **options):
        results = sync_square_orders(
            self.warehouse, self.settings, first, last, now, http=self.http, **options
        )
        return {r.subject: r for r in results}

    def count(self, sql: str, params=()) -> int:
        return int(self.warehouse.query(sql, params).iloc[0, 0])

    def state(self, vendor_id: str, stream: str = "orders") -> dict:
        return square_state.read_state(self.warehouse, vendor_id, stream)

    def stored(self, vendor_id: str) -> tuple[dict[str, int], set[tuple]]:
        """(order id → version, {(order id, line uid, quantity)}) of a vendor, as loaded."""
        orders = self.warehouse.query(
            "select order_id, order_version from raw.square_orders where vendor_id = ?", [vendor_id]
        )
        lines = self.warehouse.query(
            "select order_id, line_uid, quantity from raw.square_order_line_items "
            "where vendor_id = ?",
            [vendor_id],
        )
        return (
            dict(zip(orders.order_id, orders.order_version.astype(int), strict=True)),
            {(r.order_id, r.line_uid, Decimal(str(r.quantity))) for r in lines.itertuples()},
        )


def make_env(square: FakeServer, world: World, url: str, home, http) -> Env:
    settings = load_settings(
        {
            "MARKETPREP_HOME": str(home),
            "MARKETPREP_WAREHOUSE_URL": url,
            "MARKETPREP_SQUARE_BASE_URL": square.url,
        }
    )
    env = Env(settings, http)
    for vendor in world.vendors:
        register_vendor(env.warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
    return env


@pytest.fixture
def env(square, world, tmp_path, http) -> Env:
    return make_env(square, world, f"duckdb:///{tmp_path / 'wh.duckdb'}", tmp_path / "home", http)


def truth(vendor) -> tuple[dict[str, int], set[tuple]]:
    """What the raw tables must hold for a vendor: every closed order, newest version."""
    orders = {
        o["id"]: o["version"] for o in vendor.orders if o["state"] in ("COMPLETED", "CANCELED")
    }
    lines = {
        (o["id"], line["uid"], Decimal(line["quantity"]))
        for o in vendor.orders
        if o["id"] in orders
        for line in o.get("line_items") or []
    }
    return orders, lines


def order_searches(square: FakeServer) -> list:
    return [r for r in square.requests if r.path == ORDERS]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def any_env(request, square, world, tmp_path, http) -> Env:
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path / 'wh.duckdb'}"
    else:
        url = request.getfixturevalue("postgres_url")
    return make_env(square, world, url, tmp_path / "home", http)


def test_first_sync_backfills_then_the_daily_sync_is_incremental_and_idempotent(
    any_env, world, square
):
    env = any_env
    assert all(r.status == "ok" for r in env.locations().values())
    first = env.orders()

    for vendor in world.vendors:
        assert first[vendor.vendor_id].status == "ok", first[vendor.vendor_id].error
        assert env.stored(vendor.vendor_id) == truth(vendor)
        state = env.state(vendor.vendor_id)
        # A first sync has no watermark: it reads the partitions' CLOSED_AT window and sets one.
        assert (state["mode"], state["watermark"]) == ("backfill", NOW)
        exclusions = json.loads(state["exclusions"])
        custom = sum(
            line.get("item_type") == "CUSTOM_AMOUNT"
            for o in vendor.orders
            if o["state"] == "COMPLETED"
            for line in o["line_items"]
        )
        canceled = sum(len(o["line_items"]) for o in vendor.orders if o["state"] == "CANCELED")
        assert exclusions.get(CUSTOM_AMOUNT, 0) == custom
        assert exclusions.get(CANCELED, 0) == canceled
    assert {r.json["query"]["sort"]["sort_field"] for r in order_searches(square)} == {"CLOSED_AT"}

    # A day later: an order rung up offline 60 hours before the watermark reaches Square, a
    # customer returns 1 of a line, another order gets a new version without its last line.
    busy = max(world.vendors, key=lambda v: len(v.orders))
    completed = [o for o in busy.orders if o["state"] == "COMPLETED" and len(o["line_items"]) > 1]
    arrived = NOW + dt.timedelta(hours=3)
    late = square_history.add_late_order(
        busy, completed[0]["id"], NOW - dt.timedelta(hours=60), arrived
    )
    sale, changed = completed[1], completed[2]
    returned = square_history.add_return(
        busy, sale["id"], sale["line_items"][0]["uid"], "1", arrived
    )
    newer = square_history.update_order(
        busy, changed["id"], arrived, line_items=changed["line_items"][:-1]
    )
    square.requests.clear()
    tomorrow = NOW + dt.timedelta(days=1)
    second = env.orders(LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=1), tomorrow)

    assert all(r.status == "ok" for r in second.values())
    searches = order_searches(square)
    window = searches[0].json["query"]["filter"]["date_time_filter"]
    assert set(window) == {"updated_at"}
    assert parse_rfc3339(window["updated_at"]["start_at"]) == NOW - dt.timedelta(hours=72)
    assert parse_rfc3339(window["updated_at"]["end_at"]) == tomorrow
    assert env.stored(busy.vendor_id) == truth(busy)
    orders, _ = env.stored(busy.vendor_id)
    assert late["id"] in orders and orders[changed["id"]] == newer["version"]
    returns = env.warehouse.query(
        "select order_id, source_order_id, source_line_uid, quantity from raw.square_order_returns"
    )
    assert list(returns.itertuples(index=False, name=None)) == [
        (returned["id"], sale["id"], sale["line_items"][0]["uid"], Decimal("1.00000"))
    ]
    state = env.state(busy.vendor_id)
    assert (state["mode"], state["watermark"]) == ("incremental", tomorrow)

    # Re-running the sync, or an old partition as a backfill, changes nothing.
    snapshot = {v.vendor_id: env.stored(v.vendor_id) for v in world.vendors}
    env.orders(LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=1), tomorrow)
    old = env.orders(FIRST, FIRST + dt.timedelta(days=6), tomorrow)
    assert all(r.status == "ok" for r in old.values())
    assert env.state(busy.vendor_id)["mode"] == "backfill"
    assert env.state(busy.vendor_id)["watermark"] == tomorrow  # a backfill never moves it
    assert {v.vendor_id: env.stored(v.vendor_id) for v in world.vendors} == snapshot


def test_plan_windows_reads_backfill_only_where_the_incremental_window_does_not_reach():
    day = dt.date(2025, 6, 30)
    watermark = dt.datetime(2025, 7, 1, 11, tzinfo=dt.UTC)
    now = watermark + dt.timedelta(days=1)

    (daily,) = plan_windows(watermark, day + dt.timedelta(days=1), day + dt.timedelta(days=1), now)
    assert (daily.mode, daily.field, daily.start, daily.end) == (
        "incremental",
        "UPDATED_AT",
        watermark - dt.timedelta(hours=72),
        now,
    )
    (old,) = plan_windows(watermark, dt.date(2025, 3, 1), dt.date(2025, 3, 7), now)
    assert (old.mode, old.field) == ("backfill", "CLOSED_AT")
    assert old.start == dt.datetime(2025, 2, 28, 9, tzinfo=dt.UTC)  # local days, padded
    history = plan_windows(watermark, dt.date(2025, 3, 1), day, now)
    assert [w.mode for w in history] == ["backfill", "incremental"]
    (first,) = plan_windows(None, day, day, now)
    assert (first.mode, first.end) == ("backfill", dt.datetime(2025, 7, 1, 15, tzinfo=dt.UTC))


def test_a_connection_dropped_mid_page_and_a_rerun_give_no_duplicates_and_no_loss(
    env, world, square, sleeps
):
    """Pages are cut off mid-body. Once, the client retries; four times in a row, the vendor
    fails after some batches committed, its watermark stays, and the next run completes."""
    env.locations()
    square.app.max_page_orders = 150
    busy = max(world.vendors, key=lambda v: len(v.orders))
    square.faults.drop_connection(ORDERS, keep=0.6)

    calls = {"n": 0}

    class DropsAfterThreePages(HttpClient):
        def request_json(self, method, url, **kwargs):
            if url.endswith(ORDERS) and kwargs["headers"]["Authorization"].endswith(
                busy.access_token
            ):
                calls["n"] += 1
                if calls["n"] == 4:
                    square.faults.drop_connection(ORDERS, times=4, keep=0.5)
            return super().request_json(method, url, **kwargs)

    env.http = lambda: DropsAfterThreePages("square", sleep=sleeps.append)
    first = env.orders(batch_orders=200)

    assert first[busy.vendor_id].status == "failed"
    assert "ChunkedEncodingError" in first[busy.vendor_id].error or "Connection" in (
        first[busy.vendor_id].error
    )
    partial, _ = env.stored(busy.vendor_id)
    assert 0 < len(partial) < len(truth(busy)[0])  # committed batches stay, nothing else
    assert env.state(busy.vendor_id)["watermark"] is None
    for vendor in world.vendors:
        if vendor is not busy:
            assert first[vendor.vendor_id].status == "ok"
            assert env.stored(vendor.vendor_id) == truth(vendor)

    again = env.orders(batch_orders=200)

    assert again[busy.vendor_id].status == "ok"
    assert env.stored(busy.vendor_id) == truth(busy)
    assert env.count("select count(*) from raw.square_order_line_items") == sum(
        len(truth(v)[1]) for v in world.vendors
    )
    assert env.state(busy.vendor_id)["watermark"] == NOW
    assert len(sleeps) == 1 + 3  # the single drop, then three retries before giving up


def test_a_stale_cursor_restarts_the_window_from_the_watermark(env, world, square):
    env.locations()
    env.orders()
    busy = max(world.vendors, key=lambda v: len(v.orders))
    for k, order in enumerate(o for o in busy.orders[:400] if o["state"] == "COMPLETED"):
        square_history.update_order(busy, order["id"], NOW + dt.timedelta(minutes=k + 1))
    square.app.max_page_orders = 100
    square.requests.clear()
    pages = {"n": 0}
    app = square.app

    def expire_after_two_pages(request):
        if request.path == ORDERS and request.json.get("cursor"):
            pages["n"] += 1
            if pages["n"] == 2:
                app.invalidate_cursors()
        return app(request)

    square.app = expire_after_two_pages
    tomorrow = NOW + dt.timedelta(days=1)
    try:
        results = env.orders(LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=1), tomorrow)
    finally:
        square.app = app

    assert results[busy.vendor_id].status == "ok"
    cursors = [
        r.json.get("cursor")
        for r in order_searches(square)
        if busy.locations[0]["id"] in r.json["location_ids"]
    ]
    restart = cursors.index(None, 1)
    assert restart == 3 and all(cursors[1:restart])  # the 3rd met a stale cursor, the 4th restarted
    starts = {
        r.json["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"]
        for r in order_searches(square)
    }
    assert {parse_rfc3339(s) for s in starts} == {NOW - dt.timedelta(hours=72)}
    assert env.stored(busy.vendor_id) == truth(busy)


# The client's read timeout in the fault tests: short enough that the stall trips it quickly,
# long enough that a busy machine (tests run two at a time) answering a normal page slowly does not.
READ_TIMEOUT_SECONDS = 2.0
STALL_SECONDS = 6


@pytest.mark.parametrize(
    ("fault", "expected_sleeps"),
    [
        (lambda f: f.respond(ORDERS, 429, headers={"Retry-After": "7"}), [7.0]),
        (lambda f: f.respond(ORDERS, 429, headers={"Retry-After-Ms": "1500"}), [1.5]),
        (lambda f: f.respond(ORDERS, 429), None),
        (lambda f: f.respond(ORDERS, 503, body="<html>maintenance</html>", times=2), None),
        (lambda f: f.respond(ORDERS, 408), None),
        (lambda f: f.truncate(ORDERS, keep=0.4), None),
        (lambda f: f.stall(ORDERS, seconds=STALL_SECONDS), None),
    ],
    ids=[
        "429-retry-after",
        "429-retry-after-ms",
        "429-bare",
        "503-html",
        "408",
        "truncated",
        "timeout",
    ],
)
def test_transient_faults_are_retried_and_nothing_is_lost(
    env, world, square, sleeps, fault, expected_sleeps
):
    env.locations()
    env.http = lambda: HttpClient("square", sleep=sleeps.append, read_timeout=READ_TIMEOUT_SECONDS)
    fault(square.faults)

    results = env.orders()

    assert all(r.status == "ok" for r in results.values())
    for vendor in world.vendors:
        assert env.stored(vendor.vendor_id) == truth(vendor)
    if expected_sleeps is not None:
        assert sleeps == expected_sleeps
    else:
        assert 1 <= len(sleeps) <= 2 and all(0.9 <= s <= 2.2 for s in sleeps)


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {
                "orders": [],
                "errors": [
                    {"category": "API_ERROR", "code": "INTERNAL_SERVER_ERROR", "detail": "partial"}
                ],
            },
            200,
            "INTERNAL_SERVER_ERROR",
        ),
        (
            {
                "errors": [
                    {
                        "category": "INVALID_REQUEST_ERROR",
                        "code": "INVALID_TIME_RANGE",
                        "detail": "bad",
                    }
                ]
            },
            400,
            "INVALID_TIME_RANGE",
        ),
    ],
    ids=["errors-inside-200", "other-4xx"],
)
def test_errors_that_retrying_cannot_fix_fail_one_vendor_fast(
    env, world, square, sleeps, body, status, code
):
    env.locations()
    square.faults.respond(ORDERS, status, body=body)  # the first vendor's first page only

    results = env.orders()

    failed = [r for r in results.values() if r.status == "failed"]
    assert len(failed) == 1 and code in failed[0].error and sleeps == []
    assert env.state(failed[0].subject)["error_code"] == code
    assert sum(r.status == "ok" for r in results.values()) == len(world.vendors) - 1


def test_a_revoked_token_marks_its_vendor_and_the_others_load(env, world, square):
    env.locations()
    env.orders()
    revoked, *others = world.vendors
    before = env.stored(revoked.vendor_id)
    square.app.revoke(revoked.access_token, "ACCESS_TOKEN_REVOKED")
    for vendor in others:
        square_history.add_late_order(
            vendor,
            vendor.orders[-1]["id"],
            NOW - dt.timedelta(hours=5),
            NOW + dt.timedelta(hours=1),
        )
    later = NOW + dt.timedelta(hours=2)

    locations = env.locations(later)
    results = env.orders(LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=1), later)

    for outcome in (locations[revoked.vendor_id], results[revoked.vendor_id]):
        assert outcome.status == "failed"
        assert "ACCESS_TOKEN_REVOKED" in outcome.error
        assert f"marketprep vendors add --vendor-id {revoked.vendor_id}" in outcome.error
    for vendor in others:
        assert results[vendor.vendor_id].status == "ok"
        assert env.stored(vendor.vendor_id) == truth(vendor)
    # The revoked vendor's last good rows stay for downstream, flagged by its state row.
    assert env.stored(revoked.vendor_id) == before
    state = env.state(revoked.vendor_id)
    assert (state["status"], state["error_code"]) == ("failed", "ACCESS_TOKEN_REVOKED")
    assert (state["last_success_at"], state["watermark"]) == (NOW, NOW)
    everything = env.warehouse.query("select * from raw.square_sync_state").to_string()
    assert all(v.access_token not in everything for v in world.vendors)

    verdicts = {v.vendor_id: v for v in square_state.vendor_freshness(env.warehouse, later)}
    assert verdicts[revoked.vendor_id].verdict == "warn"
    assert {verdicts[v.vendor_id].verdict for v in others} == {"ok"}
    stale = NOW + dt.timedelta(hours=24, minutes=1)
    assert square_state.vendor_freshness(env.warehouse, stale)[0].verdict == "error"


def test_a_vendor_that_never_loaded_is_an_error_a_day_after_registration(env, world):
    register_vendor(env.warehouse, env.settings, "typo-farm", "Typo Farm", "not-a-token")
    registered = env.warehouse.query(
        "select registered_at from raw.vendors where vendor_id = 'typo-farm'"
    ).iloc[0, 0]
    now = registered.to_pydatetime() + dt.timedelta(hours=1)
    results = env.locations(now)
    assert results["typo-farm"].status == "failed" and "UNAUTHORIZED" in results["typo-farm"].error

    def verdict(at):
        return {v.vendor_id: v for v in square_state.vendor_freshness(env.warehouse, at)}[
            "typo-farm"
        ]

    assert verdict(now).verdict == "warn"
    assert verdict(now + dt.timedelta(days=1)).verdict == "error"
    assert "no orders loaded" in verdict(now + dt.timedelta(days=1)).describe()


def test_a_malformed_order_is_quarantined_the_rest_load_and_a_fix_releases_it(env, world, square):
    env.locations()
    busy = max(world.vendors, key=lambda v: len(v.orders))
    sale = next(o for o in busy.orders if o["state"] == "COMPLETED")
    good_quantity = sale["line_items"][0]["quantity"]
    broken = square_history.update_order(
        busy,
        sale["id"],
        NOW - dt.timedelta(hours=1),
        line_items=[sale["line_items"][0] | {"quantity": "two"}, *sale["line_items"][1:]],
    )

    env.orders()

    held = env.warehouse.query("select * from raw.square_quarantine")
    assert list(held.record_key) == [sale["id"]]
    assert "has quantity 'two', which is not a decimal number" in held.reason[0]
    assert json.loads(held.raw_payload[0]) == broken
    orders, _ = env.stored(busy.vendor_id)
    closed = {o["id"] for o in busy.orders if o["state"] in ("COMPLETED", "CANCELED")}
    assert set(orders) == closed - {sale["id"]}
    assert env.state(busy.vendor_id)["quarantined"] == 1

    square_history.update_order(
        busy,
        sale["id"],
        NOW + dt.timedelta(hours=1),
        line_items=[
            broken["line_items"][0] | {"quantity": good_quantity},
            *broken["line_items"][1:],
        ],
    )
    tomorrow = NOW + dt.timedelta(days=1)
    env.orders(LAST + dt.timedelta(days=1), LAST + dt.timedelta(days=1), tomorrow)

    assert env.count("select count(*) from raw.square_quarantine") == 0
    assert env.stored(busy.vendor_id) == truth(busy)


def test_orders_at_a_location_that_cannot_load_wait_in_quarantine_until_it_does(env, world, square):
    """A location without coordinates cannot be placed at a market: it is quarantined, and so
    are the orders taken there. Once the address is fixed in Square the location loads, and the
    next sync loads those orders from their stored payloads: most are far behind the
    incremental window, and Square is not asked for them again."""
    vendor = next(v for v in world.vendors if len(v.locations) > 1)
    location = vendor.locations[0]
    coordinates = location.pop("coordinates")
    env.locations()
    env.orders()
    at_location = {o["id"] for o in vendor.orders if o["location_id"] == location["id"]}
    held = env.warehouse.query("select record_kind, record_key, reason from raw.square_quarantine")
    assert set(held.record_key[held.record_kind == "order"]) == at_location
    assert held.record_key[held.record_kind == "location"].tolist() == [location["id"]]
    assert all("whose time zone is unknown" in r for r in held.reason[held.record_kind == "order"])
    loaded, _ = env.stored(vendor.vendor_id)
    assert set(loaded) == set(truth(vendor)[0]) - at_location

    location["coordinates"] = coordinates
    later = NOW + dt.timedelta(days=30)
    env.locations(later)
    square.requests.clear()
    env.orders(later.date(), later.date(), later)

    assert env.count("select count(*) from raw.square_quarantine") == 0
    assert env.stored(vendor.vendor_id) == truth(vendor)
    window_starts = {
        parse_rfc3339(r.json["query"]["filter"]["date_time_filter"]["updated_at"]["start_at"])
        for r in order_searches(square)
    }
    assert window_starts == {NOW - dt.timedelta(hours=72)}
    old = [o for o in vendor.orders if o["id"] in at_location]
    assert sum(parse_rfc3339(o["updated_at"]) < min(window_starts) for o in old) > len(old) / 2


def test_history_is_rebuilt_from_the_raw_payloads_without_calling_square(env, world, square):
    env.locations()
    busy = max(world.vendors, key=lambda v: len(v.orders))
    sale = next(o for o in busy.orders if o["state"] == "COMPLETED")
    square_history.add_return(
        busy, sale["id"], sale["line_items"][0]["uid"], "1", NOW - dt.timedelta(hours=2)
    )
    env.orders()
    before = env.stored(busy.vendor_id)
    returns_before = env.count("select count(*) from raw.square_order_returns")
    with env.warehouse.session() as session:
        session.execute(
            "delete from raw.square_order_line_items where vendor_id = ?", [busy.vendor_id]
        )
        session.execute(
            "delete from raw.square_order_returns where vendor_id = ?", [busy.vendor_id]
        )
    square.requests.clear()
    timezones = {loc["id"]: loc["timezone"] for loc in busy.locations}

    stats = rebuild_orders(env.warehouse, busy.vendor_id, timezones, NOW)

    assert square.requests == []
    assert env.stored(busy.vendor_id) == before
    assert env.count("select count(*) from raw.square_order_returns") == returns_before == 1
    assert stats.orders == len(before[0]) and stats.quarantined == 0
    assert UNLINKED_RETURN not in stats.exclusions


def test_an_order_whose_values_do_not_fit_the_tables_is_quarantined_not_its_batch(tmp_path):
    """Square's spec types `name` as a string; should one arrive as a number, the contract
    refuses that order's rows, and only that order is held back."""
    from marketprep.ingest.square_orders import load_orders
    from marketprep.settings import parse_warehouse_url

    warehouse = Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'wh.duckdb'}"))
    zones = {"L1": "America/Los_Angeles"}

    def order(order_id: str, name) -> dict:
        return {
            "id": order_id,
            "location_id": "L1",
            "state": "COMPLETED",
            "version": 1,
            "created_at": "2025-06-07T17:00:00Z",
            "updated_at": "2025-06-07T17:00:01Z",
            "closed_at": "2025-06-07T17:00:01Z",
            "line_items": [{"uid": "a", "name": name, "quantity": "2", "catalog_object_id": "V"}],
        }

    odd_location = order("ORDER-LIST-LOCATION", "Kale") | {"location_id": ["L1"]}
    stats = load_orders(
        warehouse,
        "farm",
        [order("ORDER-OK", "Kale"), order("ORDER-BAD", 5), odd_location],
        zones,
        NOW,
    )

    assert (stats.orders, stats.lines, stats.quarantined) == (1, 1, 2)
    held = warehouse.query("select record_key, reason, raw_payload from raw.square_quarantine")
    reasons = dict(zip(held.record_key, held.reason, strict=True))
    assert "does not fit the raw tables" in reasons["ORDER-BAD"]
    assert "line_name" in reasons["ORDER-BAD"]
    assert "whose time zone is unknown" in reasons["ORDER-LIST-LOCATION"]
    assert json.loads(held.raw_payload[list(held.record_key).index("ORDER-BAD")]) == order(
        "ORDER-BAD", 5
    )


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def bare_warehouse(request, tmp_path) -> Warehouse:
    from marketprep.settings import parse_warehouse_url

    if request.param == "duckdb":
        return Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'wh.duckdb'}"))
    return Warehouse(parse_warehouse_url(request.getfixturevalue("postgres_url")))


def _square_order(order_id: str, location_id: str, version: int, **fields) -> dict:
    return {
        "id": order_id,
        "location_id": location_id,
        "state": "COMPLETED",
        "version": version,
        "created_at": "2025-06-07T16:00:00Z",
        "updated_at": f"2025-06-08T0{version}:00:00Z",
        "total_money": {"amount": 1200, "currency": "USD"},
    } | fields


def _line(uid: str, quantity: str, variation: str | None = "V-KALE", **fields) -> dict:
    money = {"amount": 400, "currency": "USD"}
    return {
        "uid": uid,
        "name": "Kale",
        "catalog_object_id": variation,
        "quantity": quantity,
        "base_price_money": money,
        "gross_sales_money": money,
    } | fields


def test_each_stored_line_and_return_carries_its_own_orders_columns(bare_warehouse):
    """A batch is built column by column, a line's order columns taken from its order by
    position; what is stored must still be, to the microsecond and the local day, the rows
    `order_rows` makes of each order (the newest copy of one), across batches, time zones,
    offsets and an order replaced inside its batch."""
    from marketprep.ingest.square_orders import load_orders
    from sources.square_parse import order_rows

    zones = {"SEA": "America/Los_Angeles", "NYC": "America/New_York"}
    pound = {"measurement_unit": {"weight_unit": "IMPERIAL_POUND"}}
    first_copy = _square_order(
        "A", "SEA", 1, closed_at="2025-06-07T23:30:00.123456-07:00", line_items=[_line("a1", "1")]
    )
    orders = [
        first_copy,
        _square_order(
            "B", "NYC", 1, closed_at="2025-06-08T03:30:00Z", line_items=[_line("b1", "3")]
        ),
        first_copy
        | {
            "version": 2,
            "updated_at": "2025-06-08T07:00:00.000001Z",
            "line_items": [
                _line("a2", "2.25", quantity_unit=pound),
                _line("a3", "1", None, item_type="CUSTOM_AMOUNT", name=None),
            ],
        },
        _square_order(
            "C", "SEA", 1, state="OPEN", created_at="2025-06-08T01:00:00.5Z", line_items=[]
        ),
        _square_order(
            "D",
            "NYC",
            1,
            closed_at="2025-06-08T12:00:00Z",
            returns=[
                {
                    "uid": "r",
                    "source_order_id": "B",
                    "return_line_items": [
                        {"uid": "d1", "quantity": "1", "source_line_item_uid": "b1"},
                        {"uid": "d2", "quantity": "0.5", "quantity_unit": pound},
                    ],
                }
            ],
        ),
        _square_order(
            "E",
            "SEA",
            1,
            closed_at="2025-06-08T06:59:59.999Z",
            line_items=[_line(f"e{k}", str(k)) for k in range(1, 4)],
        ),
    ]

    stats = load_orders(bare_warehouse, "farm", orders, zones, NOW, batch_orders=3)

    newest = {o["id"]: o for o in orders}  # the later copy of A is the newer one
    expected = [order_rows("farm", o, zones, NOW) for o in newest.values()]
    assert (stats.orders, stats.lines, stats.returns) == (5, 6, 2)
    assert stats.exclusions == {CUSTOM_AMOUNT: 1, "order not completed": 0, UNLINKED_RETURN: 1}
    for table, rows, key in [
        ("raw.square_orders", [r.order for r in expected], ("order_id",)),
        ("raw.square_order_line_items", [x for r in expected for x in r.lines], ("line_uid",)),
        ("raw.square_order_returns", [x for r in expected for x in r.returns], ("line_uid",)),
    ]:
        stored = bare_warehouse.query(f"select * from {table}").to_dict("records")
        assert _by_key(stored, key) == _by_key(rows, key), table
    dates = bare_warehouse.query("select order_id, market_date from raw.square_orders")
    assert {o: _plain(d) for o, d in zip(dates.order_id, dates.market_date, strict=True)} == {
        "A": dt.date(2025, 6, 7),  # 23:30 in Seattle is 06:30 UTC the next day
        "B": dt.date(2025, 6, 7),
        "C": dt.date(2025, 6, 7),  # never closed: the local day it was created
        "D": dt.date(2025, 6, 8),
        "E": dt.date(2025, 6, 7),
    }


def _by_key(rows: list[dict], key: tuple[str, ...]) -> dict[tuple, dict]:
    return {tuple(row[k] for k in key): {k: _plain(v) for k, v in row.items()} for row in rows}


def _plain(value):
    """A stored value as Python has it on both backends: None for NaN and NaT, instants and days
    as datetime and date, whole floats of a nullable integer column as ints."""
    import pandas as pd

    if value is None or (not isinstance(value, str | list | dict) and pd.isna(value)):
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def test_a_load_shortens_the_gil_slices_while_it_runs_and_restores_them(tmp_path):
    """The parser would otherwise hold the GIL for 5 ms at a time while the page fetcher and the
    batch writer wait for it; the interpreter's own setting is back once the load is over."""
    import sys

    from marketprep.ingest.square_orders import SWITCH_INTERVAL_S, load_orders
    from marketprep.settings import parse_warehouse_url

    warehouse = Warehouse(parse_warehouse_url(f"duckdb:///{tmp_path / 'wh.duckdb'}"))
    before = sys.getswitchinterval()
    during = []

    def orders():
        during.append(sys.getswitchinterval())
        yield _square_order("A", "L1", 1, closed_at="2025-06-07T17:00:01Z", line_items=[])

    stats = load_orders(warehouse, "farm", orders(), {"L1": "America/Los_Angeles"}, NOW)

    assert stats.orders == 1
    assert during == [min(before, SWITCH_INTERVAL_S)]
    assert sys.getswitchinterval() == before
