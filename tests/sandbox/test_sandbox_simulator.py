"""The simulated world: deterministic, big enough, and internally consistent (orders realise
the sales, sales are demand capped by stock) with the effects the pipeline has to learn."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from sandbox.geo import distance_km
from sandbox.simulator import build_world
from sandbox.world import World, open_days


def _parse(stamp: str) -> dt.datetime:
    return dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))


def _fingerprint(world: World) -> str:
    """Everything the servers serve, plus the ground truth, as one canonical text."""
    return json.dumps(
        {
            "vendors": [
                [v.vendor_id, v.access_token, v.locations, v.catalog_objects, v.orders]
                for v in world.vendors
            ],
            "events": world.events,
            "weather": sorted((k, d.isoformat(), w) for (k, d), w in world.weather.items()),
            "demand": world.demand.to_csv(),
            "token": world.events_token,
        },
        sort_keys=True,
    )


def _line_totals(world: World) -> dict[tuple, Decimal]:
    """Units sold per (vendor, location, variation, local market day), read from the orders."""
    totals: dict[tuple, Decimal] = defaultdict(Decimal)
    for vendor in world.vendors:
        zones = {loc["id"]: ZoneInfo(loc["timezone"]) for loc in vendor.locations}
        for order in vendor.orders:
            if order["state"] != "COMPLETED":
                continue
            day = _parse(order["closed_at"]).astimezone(zones[order["location_id"]]).date()
            for line in order["line_items"]:
                if line["item_type"] == "ITEM":
                    key = (vendor.vendor_id, order["location_id"], line["catalog_object_id"], day)
                    totals[key] += Decimal(line["quantity"])
    return totals


def test_the_same_config_builds_a_byte_identical_world(small_world):
    assert _fingerprint(build_world(small_world.config)) == _fingerprint(small_world)


def test_another_seed_builds_another_world(small_world):
    config = small_world.config
    other = build_world(dataclasses.replace(config, seed=config.seed + 1))
    assert [o["id"] for o in other.vendors[0].orders[:5]] != [
        o["id"] for o in small_world.vendors[0].orders[:5]
    ]
    assert other.weather != small_world.weather
    assert [e["id"] for e in other.events] != [e["id"] for e in small_world.events]
    assert not other.demand["demand"].equals(small_world.demand["demand"])


def test_the_default_world_is_big_enough(default_world):
    world = default_world
    assert len(world.vendors) >= 5 and len(world.markets) >= 3
    for vendor in world.vendors:
        offered = {p.variation_id for p in world.products if p.vendor_id == vendor.vendor_id}
        assert len(offered) >= 8
        assert 1 <= len(vendor.market_keys) <= 3
        assert len(vendor.locations) == len(vendor.market_keys)
    assert {m.market_key for m in world.markets} == {
        k for v in world.vendors for k in v.market_keys
    }

    seasonal = [m for m in world.markets if m.season_start is not None]
    year_round = [m for m in world.markets if m.season_start is None]
    assert seasonal and year_round
    last = world.config.end - dt.timedelta(days=1)
    for market in year_round:
        assert len(open_days(market, world.config.start, last)) >= 50  # a year of weekly days
    for market in seasonal:
        assert not any(d.month in (1, 2, 12) for d in open_days(market, world.config.start, last))

    for a in world.markets:
        for b in world.markets:
            if a is not b:
                assert 5 <= distance_km(a.latitude, a.longitude, b.latitude, b.longitude) <= 30

    days = world.demand.groupby(["vendor_id", "market_key", "date"]).ngroups
    orders = sum(len(v.orders) for v in world.vendors)
    assert 40 <= orders / days <= 150


def test_weather_covers_history_and_the_next_16_days(small_world):
    config = small_world.config
    for market in small_world.markets:
        day = config.start
        while day <= config.end + dt.timedelta(days=15):
            weather = small_world.weather[(market.market_key, day)]
            assert weather["temp_min_c"] < weather["temp_max_c"]
            assert weather["precip_mm"] >= 0
            day += dt.timedelta(days=1)
    assert len(small_world.weather) == len(small_world.markets) * (config.history_days + 16)


def test_sales_are_demand_capped_by_stock_and_some_products_sell_out(default_world):
    demand = default_world.demand
    assert (demand["sales"] == demand[["demand", "stock"]].min(axis=1)).all()
    sold_out = demand[demand["sold_out"]]
    assert 0.05 < len(sold_out) / len(demand) < 0.4
    assert (sold_out["sales"] == sold_out["stock"]).all()
    assert (sold_out["demand"] > sold_out["stock"]).all()
    assert sold_out["sold_out_at"].notna().all()
    assert demand.loc[~demand["sold_out"], "sold_out_at"].isna().all()


def test_orders_realise_exactly_the_recorded_sales(small_world):
    totals = _line_totals(small_world)
    demand = small_world.demand
    expected = {
        (r.vendor_id, r.location_id, r.variation_id, r.date): Decimal(str(r.sales))
        for r in demand.itertuples()
        if r.sales > 0
    }
    assert {k: v.normalize() for k, v in totals.items()} == {
        k: v.normalize() for k, v in expected.items()
    }


def test_sold_out_products_stop_appearing_after_their_sell_out_time(small_world):
    last_sale: dict[tuple, dt.datetime] = {}
    for vendor in small_world.vendors:
        for order in vendor.orders:
            if order["state"] != "COMPLETED":
                continue
            closed = _parse(order["closed_at"])
            for line in order["line_items"]:
                key = (order["location_id"], line.get("catalog_object_id"), closed.date())
                last_sale[key] = max(last_sale.get(key, closed), closed)
    sold_out = small_world.demand[small_world.demand["sold_out"]]
    assert len(sold_out) > 10
    for row in sold_out.itertuples():
        at = row.sold_out_at.to_pydatetime()
        # The market day is the same UTC day here: markets close by 14:00 Pacific.
        assert last_sale[(row.location_id, row.variation_id, at.date())] == at
        close = dt.datetime.combine(row.date, dt.time(14), ZoneInfo("America/Los_Angeles"))
        assert at <= close


def test_rain_lowers_demand_and_big_events_raise_it(default_world):
    demand = default_world.demand
    usual = demand["expected"] / (demand["weather_factor"] * demand["event_factor"])
    relative = demand["demand"] / usual
    rainy, dry = demand["precip_mm"] >= 5, demand["precip_mm"] == 0
    assert rainy.sum() > 50 and dry.sum() > 50
    assert relative[rainy].mean() < 0.85 * relative[dry].mean()
    assert demand.loc[rainy, "demand"].mean() < demand.loc[dry, "demand"].mean()

    festival = demand["event_factor"] >= 1.15
    assert festival.sum() > 20
    assert relative[festival & dry].mean() > 1.1 * relative[~festival & dry].mean()
    assert demand.loc[festival, "sold_out"].mean() > demand.loc[~festival, "sold_out"].mean()


def test_a_deleted_variation_still_appears_in_old_orders(small_world):
    deleted = [
        (vendor, obj)
        for vendor in small_world.vendors
        for obj in vendor.catalog_objects
        if obj["type"] == "ITEM_VARIATION" and obj["is_deleted"]
    ]
    assert deleted
    vendor, variation = deleted[0]
    deleted_at = _parse(variation["updated_at"])
    item_id = variation["item_variation_data"]["item_id"]
    item = next(o for o in vendor.catalog_objects if o["id"] == item_id)
    live_ids = [v["id"] for v in item["item_data"]["variations"]]
    assert variation["id"] not in live_ids

    def closings(variation_id: str) -> list[dt.datetime]:
        return [
            _parse(order["closed_at"])
            for order in vendor.orders
            for line in order["line_items"]
            if line.get("catalog_object_id") == variation_id
        ]

    old = closings(variation["id"])
    assert old and max(old) < deleted_at
    replacement = closings(live_ids[0])
    assert replacement and min(replacement) > deleted_at


def test_orders_have_squares_wire_shape(small_world):
    orders = [o for v in small_world.vendors for o in v.orders]
    lines = [line for o in orders for line in o["line_items"]]
    for vendor in small_world.vendors:
        closed = [_parse(o["closed_at"]) for o in vendor.orders]
        assert closed == sorted(closed)
    assert {o["state"] for o in orders} == {"COMPLETED", "CANCELED"}
    assert all(isinstance(line["quantity"], str) for line in lines)
    assert all(1 <= len(o["line_items"]) <= 3 for o in orders)
    assert all(any(li["item_type"] == "ITEM" for li in o["line_items"]) for o in orders)

    weighed = [line for line in lines if "quantity_unit" in line]
    assert weighed
    for line in weighed:
        unit = line["quantity_unit"]
        assert unit["measurement_unit"]["weight_unit"] == "IMPERIAL_POUND"
        assert unit["precision"] == 2
        assert len(line["quantity"].split(".")[1]) == 2
    assert any(Decimal(line["quantity"]) % 1 for line in weighed)

    custom = [line for line in lines if line["item_type"] == "CUSTOM_AMOUNT"]
    assert custom and all("catalog_object_id" not in line for line in custom)
    for order in orders:
        assert order["total_money"]["amount"] == sum(
            li["total_money"]["amount"] for li in order["line_items"]
        )
        assert order["version"] >= 2
        assert (
            _parse(order["created_at"]) <= _parse(order["closed_at"]) <= _parse(order["updated_at"])
        )
    stamps = [o["closed_at"] for o in orders]
    assert any("." in s for s in stamps) and any("." not in s for s in stamps)
    assert any(o["updated_at"] != o["closed_at"] for o in orders)  # touched again later


def test_locations_stand_at_their_markets(small_world):
    markets = {m.market_key: m for m in small_world.markets}
    for vendor in small_world.vendors:
        assert vendor.vendor_id.startswith("v") and vendor.vendor_id[1:3].isdigit()
        for key, location in zip(vendor.market_keys, vendor.locations, strict=True):
            market = markets[key]
            assert location["id"] == vendor.location_by_market[key]
            assert location["coordinates"] == {
                "latitude": market.latitude,
                "longitude": market.longitude,
            }
            assert location["timezone"] == market.timezone
            assert location["status"] == "ACTIVE" and location["country"] == "US"
    tokens = [v.access_token for v in small_world.vendors]
    assert len(set(tokens)) == len(tokens)


def test_events_are_near_the_markets_with_holidays_and_a_cancellation(small_world):
    events = small_world.events
    cancelled = [
        e for e in events if e["state"] == "deleted" and e.get("deleted_reason") == "cancelled"
    ]
    assert cancelled
    holidays = [e for e in events if e["category"] == "public-holidays"]
    assert holidays and all(e["timezone"] is None and "Z" not in e["start"] for e in holidays)
    for event in events:
        if event["scope"] == "locality":
            lon, lat = event["location"]
            assert event["geo"]["geometry"]["coordinates"] == [lon, lat]
            nearest = min(
                distance_km(lat, lon, m.latitude, m.longitude) for m in small_world.markets
            )
            assert nearest <= 10
    config = small_world.config
    starts = {dt.date.fromisoformat(e["start"][:10]) for e in events}
    assert min(starts) >= config.start - dt.timedelta(days=3)
    assert max(starts) > config.end  # upcoming events for the forecast horizon


def test_the_cancelled_event_lifts_nobody(small_world):
    demand = small_world.demand
    for event in small_world.events:
        if event["state"] != "deleted" or event.get("deleted_reason") != "cancelled":
            continue
        lon, lat = event["location"]
        day = dt.date.fromisoformat(event["start_local"][:10])
        near = [
            m.market_key
            for m in small_world.markets
            if distance_km(lat, lon, m.latitude, m.longitude) < 2
        ]
        rows = demand[(demand["date"] == day) & demand["market_key"].isin(near)]
        assert not rows.empty
        assert (rows["event_factor"] < 1.05).all()


@pytest.mark.parametrize(
    "change", [{"n_markets": 0}, {"n_markets": 7}, {"products_per_vendor": 11}, {"history_days": 3}]
)
def test_impossible_configs_are_refused_with_a_reason(small_world, change):
    with pytest.raises(ValueError, match=next(iter(change))):
        build_world(dataclasses.replace(small_world.config, **change))
