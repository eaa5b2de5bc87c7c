"""Years of raw farmers-market history for the dbt benchmark, written as the ingest writes it.

A seeded `World` (`build_world`): ten US markets in five time zones (weekly market days, two
of them seasonal, held on one or two weekdays), vendors of seven kinds (bakery, farm, ranch,
creamery, pantry, flowers, food stall), each at one to three markets of one region, with 8 to
25 products (some weighed, some priced at the till, some seasonal, some deleted or introduced
part-way through, and about one in eight sells out on a given day). Some vendors join late,
some leave (inactive), and every vendor misses a market day now and then. Each vendor market day has about 60 to 200 orders (seasons, rain,
heat and nearby events move it) of one to three line items; a few lines are custom amounts or
gift cards, a few orders are canceled, and a few lines come back in a linked return the same
day or the next week. Weather (archive with the provider's lag, and the latest forecast),
events and which events source answered exist for every market that has vendors.

Everything is numpy and pyarrow: a day's sales are drawn at once, from a generator seeded by
the day alone, so a day is the same whichever window or batch draws it. The writes go through
`marketprep.warehouse` into tables made from the raw contracts (Arrow into DuckDB, COPY into
PostgreSQL), a month at a time, so memory holds one month whatever the history's length.

`write_history` loads every day before `world.day` (the catalog, locations and vendor
snapshots as the ingest holds them that morning); `write_next_day` adds `world.day` as the
next morning's daily ingest does: the day's orders, line items and returns, its archive
weather, the new forecast, the events fetch for the coming days and fresh snapshots.
Order payloads have Square's shape, trimmed to the fields the contract requires plus the line
items (about 0.5 kB; Square's are about 2 kB). Nothing downstream reads them.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from typing import NamedTuple, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from data_contracts import Contract, all_contracts, contract
from marketprep.holidays import holiday_rows
from marketprep.warehouse import ARROW_TYPES, Session, Warehouse
from sources.markets import market_id_for

EPOCH = dt.date(1970, 1, 1)
US_PER_DAY = 86_400_000_000
US_PER_MINUTE = 60_000_000
SCALE = 100_000  # quantities are decimal(18, 5)
BATCH_DAYS = 31
HORIZON_DAYS = 14  # days the forecast and the events fetch cover beyond the run day
ARCHIVE_LAG_DAYS = 5  # Open-Meteo's archive reports nulls for the last five days
RETURN_DELAY_DAYS = 7  # a late return comes back at the next week's market
FORECAST_SOURCES = "('open_meteo_forecast', 'nws_forecast')"
T = TypeVar("T")

VENDORS = contract("raw.vendors")
LOCATIONS = contract("raw.square_locations")
CATALOG = contract("raw.square_catalog")
ORDERS = contract("raw.square_orders")
LINES = contract("raw.square_order_line_items")
RETURNS = contract("raw.square_order_returns")
SYNC_STATE = contract("raw.square_sync_state")
WEATHER = contract("raw.weather_daily")
EVENTS = contract("raw.events")
EVENTS_STATUS = contract("raw.events_fetch_status")
OVERRIDES = contract("raw.market_schedule_overrides")
FEEDBACK = contract("raw.vendor_feedback")
HOLIDAYS = contract("raw.public_holidays")
# every raw table, the ones left empty here too (quarantines, the NWS grid cache): dbt reads them
RAW_CONTRACTS: tuple[Contract, ...] = tuple(
    c for name, c in sorted(all_contracts().items()) if name.startswith("raw.")
)


class MarketSpec(NamedTuple):
    name: str
    timezone: str
    latitude: float
    longitude: float
    weekdays: tuple[int, ...]  # ISO, 1 = Monday
    season: tuple[str, str] | None  # MM-DD .. MM-DD, None = all year
    hours: tuple[float, float]  # local opening and closing hour
    region: str
    rain_chance: float


# fmt: off
MARKETS: tuple[MarketSpec, ...] = (
    MarketSpec("Union Square Greenmarket", "America/New_York", 40.7359, -73.9911, (3, 6), None, (8, 18), "east", 0.32),
    MarketSpec("Grand Army Plaza Greenmarket", "America/New_York", 40.6722, -73.9700, (6,), None, (8, 15), "east", 0.32),
    MarketSpec("Dupont Circle Market", "America/New_York", 38.9097, -77.0432, (7,), None, (8.5, 13.5), "east", 0.3),
    MarketSpec("Green City Market", "America/Chicago", 41.9214, -87.6336, (3, 6), ("05-01", "10-31"), (7, 13), "midwest", 0.3),
    MarketSpec("Dane County Farmers Market", "America/Chicago", 43.0747, -89.3842, (6,), ("04-12", "11-15"), (6.5, 13.5), "midwest", 0.3),
    MarketSpec("Boulder County Farmers Market", "America/Denver", 40.0150, -105.2776, (6,), None, (8, 14), "mountain", 0.22),
    MarketSpec("Phoenix Public Market", "America/Phoenix", 33.4556, -112.0719, (6,), None, (8, 13), "mountain", 0.08),
    MarketSpec("Ferry Plaza Farmers Market", "America/Los_Angeles", 37.7955, -122.3937, (2, 6), None, (8, 14), "west", 0.2),
    MarketSpec("Santa Monica Wednesday Market", "America/Los_Angeles", 34.0160, -118.4960, (3,), None, (8, 13), "west", 0.1),
    MarketSpec("Ballard Sunday Market", "America/Los_Angeles", 47.6679, -122.3848, (7,), None, (9, 14), "west", 0.45),
)


class Item(NamedTuple):
    name: str
    variations: tuple[str, ...]  # "" is Square's "Regular"
    category: str
    cents: int  # per unit, per lb when weighed; the usual till price when priced at the till
    unit: str  # each, lb (weighed, IMPERIAL_POUND) or till (variable price, no catalog price)
    popularity: float
    season: tuple[str, str] | None = None


class Kind(NamedTuple):
    noun: str
    share: float
    items: tuple[Item, ...]


P = Item
KINDS: tuple[Kind, ...] = (
    Kind("Bakery", 0.18, (
        P("Sourdough", ("Regular", "Seeded", "Whole Wheat"), "Bread", 900, "each", 3.0),
        P("Baguette", ("",), "Bread", 450, "each", 2.5),
        P("Rye Loaf", ("",), "Bread", 850, "each", 1.0),
        P("Focaccia", ("Plain", "Rosemary", "Olive"), "Bread", 700, "each", 1.5),
        P("Croissant", ("Butter", "Chocolate", "Almond", "Ham and Cheese"), "Pastry", 425, "each", 3.0),
        P("Scone", ("Blueberry", "Cheddar Chive"), "Pastry", 375, "each", 1.5),
        P("Cinnamon Roll", ("",), "Pastry", 450, "each", 2.0),
        P("Cookie", ("Chocolate Chip", "Oatmeal Raisin", "Ginger"), "Cookies", 300, "each", 2.0),
        P("Fruit Pie", ("Apple", "Cherry", "Pumpkin"), "Pies", 2400, "each", 0.6, ("08-01", "12-31")),
        P("Granola", ("12 oz",), "Pantry", 1100, "each", 0.7),
        P("Brownie", ("",), "Cookies", 400, "each", 1.2),
        P("Celebration Cake", ("",), "Cakes", 4500, "till", 0.2),
    )),
    Kind("Farm", 0.25, (
        P("Kale", ("Bunch",), "Greens", 400, "each", 1.5),
        P("Salad Mix", ("Half Pound",), "Greens", 800, "each", 2.0, ("04-01", "11-30")),
        P("Carrots", ("Bunch",), "Vegetables", 450, "each", 1.5),
        P("Heirloom Tomatoes", ("",), "Vegetables", 550, "lb", 2.0, ("07-01", "10-15")),
        P("Cherry Tomatoes", ("Pint",), "Vegetables", 600, "each", 1.5, ("07-01", "10-15")),
        P("Potatoes", ("Yukon Gold", "Fingerling"), "Vegetables", 300, "lb", 1.5),
        P("Onions", ("Yellow", "Red"), "Vegetables", 250, "lb", 1.0),
        P("Zucchini", ("",), "Vegetables", 300, "lb", 1.0, ("06-15", "09-30")),
        P("Sweet Corn", ("Ear",), "Vegetables", 100, "each", 2.5, ("07-15", "09-30")),
        P("Strawberries", ("Pint",), "Fruit", 700, "each", 3.0, ("05-15", "07-15")),
        P("Blueberries", ("Pint",), "Fruit", 800, "each", 2.0, ("07-01", "08-31")),
        P("Apples", ("Honeycrisp", "Gala", "Mixed"), "Fruit", 350, "lb", 2.0, ("08-20", "03-31")),
        P("Winter Squash", ("Butternut", "Delicata"), "Vegetables", 250, "lb", 1.2, ("09-01", "02-28")),
        P("Garlic", ("Head",), "Vegetables", 200, "each", 1.0),
        P("Herbs", ("Basil", "Cilantro", "Parsley"), "Herbs", 300, "each", 1.0),
        P("Peppers", ("Sweet", "Hot Mix"), "Vegetables", 450, "lb", 1.0, ("07-15", "10-31")),
    )),
    Kind("Ranch", 0.12, (
        P("Eggs", ("Dozen", "Half Dozen"), "Eggs", 700, "each", 4.0),
        P("Duck Eggs", ("Half Dozen",), "Eggs", 900, "each", 0.5),
        P("Ground Beef", ("1 lb",), "Beef", 1000, "each", 2.5),
        P("Steak", ("Ribeye", "NY Strip", "Flank"), "Beef", 2800, "lb", 1.2),
        P("Whole Chicken", ("",), "Poultry", 2400, "till", 1.0),
        P("Chicken Thighs", ("",), "Poultry", 900, "lb", 1.0),
        P("Sausage", ("Breakfast", "Italian", "Chorizo"), "Pork", 1100, "each", 1.5),
        P("Bacon", ("Thick Cut",), "Pork", 1400, "each", 1.5),
        P("Pork Chops", ("",), "Pork", 1300, "lb", 0.8),
        P("Lamb Chops", ("",), "Lamb", 2200, "lb", 0.5),
        P("Bone Broth", ("Beef", "Chicken"), "Pantry", 1200, "each", 0.8),
        P("Soup Bones", ("",), "Beef", 500, "lb", 0.3),
        P("Turkey", ("Whole",), "Poultry", 900, "lb", 0.2, ("11-01", "12-24")),
    )),
    Kind("Creamery", 0.10, (
        P("Cheddar", ("Mild", "Aged", "Smoked"), "Cheese", 1800, "lb", 2.0),
        P("Gouda", ("Young", "Aged"), "Cheese", 2000, "lb", 1.5),
        P("Brie", ("Wheel",), "Cheese", 1400, "each", 1.0),
        P("Chevre", ("Plain", "Herb", "Honey"), "Cheese", 800, "each", 1.5),
        P("Feta", ("8 oz",), "Cheese", 900, "each", 0.8),
        P("Yogurt", ("Quart", "Pint"), "Dairy", 700, "each", 1.5),
        P("Milk", ("Half Gallon Whole", "Half Gallon Skim"), "Dairy", 650, "each", 2.0),
        P("Butter", ("Salted", "Unsalted"), "Dairy", 900, "each", 1.2),
        P("Ice Cream", ("Vanilla", "Strawberry", "Chocolate"), "Frozen", 1000, "each", 1.5, ("05-15", "09-15")),
        P("Cheese Curds", ("",), "Cheese", 700, "each", 1.0),
        P("Cheese Board", ("",), "Cheese", 3000, "till", 0.3),
    )),
    Kind("Pantry", 0.13, (
        P("Honey", ("8 oz", "16 oz", "Comb"), "Honey", 1000, "each", 2.5),
        P("Bulk Honey", ("",), "Honey", 1200, "lb", 0.5),
        P("Jam", ("Strawberry", "Peach", "Blackberry", "Apricot"), "Preserves", 900, "each", 2.0),
        P("Pickles", ("Dill", "Bread and Butter"), "Preserves", 1000, "each", 1.0),
        P("Hot Sauce", ("Mild", "Habanero"), "Sauces", 1000, "each", 1.0),
        P("Salsa", ("Verde", "Roja"), "Sauces", 800, "each", 1.2),
        P("Maple Syrup", ("Pint", "Quart"), "Pantry", 1600, "each", 0.8),
        P("Beeswax Candle", ("Taper Pair", "Pillar"), "Home", 1400, "each", 0.6),
        P("Gift Box", ("",), "Gifts", 3500, "till", 0.3, ("11-15", "12-31")),
        P("Apple Butter", ("",), "Preserves", 900, "each", 0.6),
    )),
    Kind("Flower Farm", 0.08, (
        P("Bouquet", ("Small", "Large"), "Flowers", 1500, "each", 3.0, ("04-01", "10-31")),
        P("Tulips", ("Bunch of 10",), "Flowers", 1200, "each", 2.0, ("03-01", "05-15")),
        P("Sunflowers", ("Stem", "Bunch of 5"), "Flowers", 300, "each", 2.0, ("07-01", "09-30")),
        P("Dahlias", ("Bunch",), "Flowers", 1600, "each", 1.5, ("07-15", "10-15")),
        P("Peonies", ("Bunch",), "Flowers", 2000, "each", 1.5, ("05-01", "06-30")),
        P("Herb Start", ("4 in Pot",), "Plants", 500, "each", 1.5, ("03-15", "06-30")),
        P("Succulent", ("Small", "Large"), "Plants", 800, "each", 1.0),
        P("Houseplant", ("",), "Plants", 2500, "till", 0.5),
        P("Wreath", ("Small", "Large"), "Holiday", 4500, "each", 1.5, ("11-15", "12-24")),
        P("Dried Flowers", ("Bundle",), "Flowers", 1800, "each", 0.8),
    )),
    Kind("Kitchen", 0.14, (
        P("Coffee", ("Drip", "Latte", "Cold Brew", "Cappuccino"), "Drinks", 450, "each", 3.0),
        P("Coffee Beans", ("12 oz House", "12 oz Decaf"), "Coffee", 1600, "each", 1.0),
        P("Tamales", ("Pork", "Chicken", "Veggie"), "Prepared", 450, "each", 2.0),
        P("Empanada", ("Beef", "Spinach"), "Prepared", 500, "each", 1.5),
        P("Dumplings", ("Dozen Pork", "Dozen Veggie"), "Frozen", 1400, "each", 1.2),
        P("Kombucha", ("Ginger", "Hibiscus"), "Drinks", 500, "each", 1.2),
        P("Lemonade", ("Classic", "Strawberry"), "Drinks", 500, "each", 1.5, ("05-15", "09-15")),
        P("Hot Cider", ("",), "Drinks", 400, "each", 1.0, ("10-01", "03-15")),
        P("Breakfast Burrito", ("",), "Prepared", 1000, "each", 2.0),
        P("Catering Tray", ("",), "Prepared", 6000, "till", 0.1),
    )),
)
# fmt: on
del P
# fmt: off
NAME_PREFIXES = (
    "Sunny Slope", "Old Mill", "Green Valley", "Cedar Hill", "Blue Heron", "Red Barn", "Little Creek",
    "Wild Rose", "Hillside", "River Bend", "Stone Wall", "Maple Grove", "Prairie Wind", "Juniper",
    "Twin Oaks", "Golden Hour", "Three Sisters", "Fox Hollow", "Lark Song", "Copper Kettle",
)
# fmt: on
EVENT_CATEGORIES = ("community", "festivals", "concerts", "sports", "expos", "performing-arts")


@dataclass(frozen=True)
class World:
    """Who sells what, where and when; every day's sales are drawn from it and the day alone."""

    seed: int
    day: dt.date  # the first day not in the history: the daily run's new partition
    first_day: dt.date  # the first day of the history
    market_ids: tuple[str, ...]
    sites: np.ndarray  # indices of the markets that have vendors
    vendor_ids: pa.Array
    vendor_names: tuple[str, ...]
    vendor_start: np.ndarray  # epoch days, first day at any market
    vendor_end: np.ndarray  # epoch days, last day (far future when still trading)
    vm_vendor: np.ndarray  # vendor × market (one Square location each)
    vm_market: np.ndarray
    vm_start: np.ndarray
    vm_end: np.ndarray
    vm_orders: np.ndarray  # mean orders on an average market day
    vm_location_ids: pa.Array
    product_vendor: np.ndarray  # products, flat
    product_ids: pa.Array  # Square ITEM_VARIATION ids
    product_item_ids: tuple[str, ...]
    product_items: tuple[Item, ...]
    product_variation: tuple[str, ...]
    product_line_names: pa.Array
    product_cents: np.ndarray
    product_unit: np.ndarray  # 0 each, 1 lb, 2 till
    product_intro: np.ndarray  # epoch days
    product_retire: np.ndarray  # epoch days; deleted in Square after this day
    vendor_products: np.ndarray  # [vendor, slot] -> flat product index, -1 past the last
    slot_weight: np.ndarray  # [vendor, slot] popularity (0 for empty slots)
    slot_season: np.ndarray  # [vendor, slot, 2] season as day-of-year bounds, -1 = all year
    weather_first: int  # epoch day of weather[:, 0]
    temp_max: np.ndarray  # [market, day]
    temp_min: np.ndarray
    precip: np.ndarray
    event_attendance: np.ndarray  # [market, day] attendance of the live events around
    events: dict[str, np.ndarray]  # one row per event
    events_source: np.ndarray  # [market, day] 0 predicthq, 1 ticketmaster, 2 none
    reporting_vendors: np.ndarray  # bool per vendor: imports feedback

    @property
    def n_vendors(self) -> int:
        return len(self.vendor_names)


def epoch_day(day: dt.date) -> int:
    return (day - EPOCH).days


def from_epoch(days: int) -> dt.date:
    return EPOCH + dt.timedelta(days=int(days))


def _day_of_year(month_day: str) -> int:
    month, day = map(int, month_day.split("-"))
    return dt.date(2001, month, day).timetuple().tm_yday  # a common year: 1 .. 365


def _in_season(doy: np.ndarray, start: np.ndarray, end: np.ndarray) -> np.ndarray:
    """Day of year within start..end (inclusive, may run over New Year); start -1 = all year."""
    return (start < 0) | np.where(
        start <= end, (doy >= start) & (doy <= end), (doy >= start) | (doy <= end)
    )


def _days_of_year(days: np.ndarray) -> np.ndarray:
    dates = days.astype("datetime64[D]")
    return (dates - dates.astype("datetime64[Y]")).astype(np.int64) + 1


def _uniform(seed: int, *keys: np.ndarray) -> np.ndarray:
    """A uniform [0, 1) per key tuple (splitmix64): the same draw whenever it is asked for."""
    z = np.full(np.broadcast(*keys).shape, seed, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for key in keys:
            z = z * np.uint64(0x100000001B3) + np.asarray(key).astype(np.uint64)
            z = z + np.uint64(0x9E3779B97F4A7C15)
            z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
            z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            z = z ^ (z >> np.uint64(31))
    return (z >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def _ids(rng: np.random.Generator, n: int, length: int, alphabet: bytes) -> np.ndarray:
    """n random ids of `length` characters, as fixed-width bytes (Square's ids look like this)."""
    letters = np.frombuffer(alphabet, dtype=np.uint8)
    drawn = letters[rng.integers(0, len(letters), size=(n, length), dtype=np.uint8)]
    return drawn.view(f"S{length}").ravel()


SQUARE_ID = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
SQUARE_UID = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def _strings(values: np.ndarray) -> pa.Array:
    return pa.array(values).cast(pa.string())


def build_world(
    vendors: int = 200, years: float = 3.0, day: dt.date = dt.date(2025, 6, 14), seed: int = 7
) -> World:
    """The vendors, markets, catalogs, weather and events of a history of `years` before `day`."""
    if vendors < 1 or years <= 0:
        raise ValueError(
            f"need at least one vendor and a positive history, got {vendors=} {years=}"
        )
    rng = np.random.default_rng([seed, 0])
    first = day - dt.timedelta(days=round(365.25 * years))
    d0, d_end = epoch_day(first), epoch_day(day)
    span = d_end - d0
    market_ids = tuple(market_id_for(m.latitude, m.longitude) for m in MARKETS)
    regions = sorted({m.region for m in MARKETS})
    region_markets = {r: [i for i, m in enumerate(MARKETS) if m.region == r] for r in regions}
    region_weight = np.array([len(region_markets[r]) for r in regions], dtype=float)

    # vendors: most trade from the start, a fifth join later, a few have stopped
    kind = rng.choice(
        len(KINDS), size=vendors, p=np.array([k.share for k in KINDS]) / sum(k.share for k in KINDS)
    )
    late = rng.random(vendors) < 0.2
    vendor_start = np.where(
        late,
        rng.integers(d0, max(d0 + 1, d_end - 90), size=vendors),
        d0 + rng.integers(0, min(45, span), size=vendors),
    )
    vendor_start = np.minimum(vendor_start, d_end - 1)
    leaves = (rng.random(vendors) < 0.04) & (vendor_start < d_end - 400)
    vendor_end = np.where(
        leaves, rng.integers(d_end - 400, d_end - 30, size=vendors), d_end + 10_000
    )
    names, slugs = [], []
    for v in range(vendors):
        name = f"{NAME_PREFIXES[rng.integers(len(NAME_PREFIXES))]} {KINDS[kind[v]].noun}"
        names.append(name)
        slugs.append(f"{name.lower().replace(' ', '-')}-{v + 1:03d}")

    # vendor × market: one to three markets of the vendor's region
    vm_vendor, vm_market, vm_start, vm_end = [], [], [], []
    for v in range(vendors):
        region = regions[rng.choice(len(regions), p=region_weight / region_weight.sum())]
        choices = region_markets[region]
        count = min(len(choices), int(rng.choice([1, 2, 3], p=[0.5, 0.35, 0.15])))
        for position, m in enumerate(rng.choice(choices, size=count, replace=False)):
            start = vendor_start[v]
            if position > 0 and rng.random() < 0.25:  # added a market later
                start = rng.integers(start, max(start + 1, d_end - 60))
            end = vendor_end[v]
            if position > 0 and end > d_end and rng.random() < 0.1:  # gave a market up
                end = rng.integers(start, d_end) if start < d_end - 1 else end
            vm_vendor.append(v)
            vm_market.append(int(m))
            vm_start.append(int(start))
            vm_end.append(int(end))
    vm_vendor_a = np.array(vm_vendor)
    vm_market_a = np.array(vm_market)
    vm_orders = np.exp(rng.uniform(np.log(60), np.log(200), size=len(vm_vendor)))
    location_ids = _strings(_ids(rng, len(vm_vendor), 13, SQUARE_ID))
    location_ids = pc.binary_join_element_wise("L", location_ids, "")

    # catalogs: 8 to 25 variations of the vendor's kind
    product_vendor, items, variations, intro, retire = [], [], [], [], []
    item_ids: dict[tuple[int, str], str] = {}
    slots = np.zeros(vendors, dtype=int)
    for v in range(vendors):
        offered = [(item, var) for item in KINDS[kind[v]].items for var in item.variations]
        count = int(rng.integers(8, min(25, len(offered)) + 1))
        for i in sorted(rng.choice(len(offered), size=count, replace=False)):
            item, variation = offered[i]
            start, end = vendor_start[v], d_end + 10_000
            if rng.random() < 0.1:  # introduced part-way through
                start = rng.integers(start, max(start + 1, d_end - 30))
            if rng.random() < 0.08 and start < d_end - 90:  # deleted in Square part-way through
                end = rng.integers(start + 60, d_end - 14)
            product_vendor.append(v)
            items.append(item)
            variations.append(variation)
            intro.append(int(start))
            retire.append(int(end))
            item_ids.setdefault((v, item.name), "")
        slots[v] = count
    for key in item_ids:
        item_ids[key] = _ids(rng, 1, 24, SQUARE_ID)[0].decode()
    n_products = len(product_vendor)
    product_vendor_a = np.array(product_vendor)
    # a variation's name tells it apart only from the vendor's other variations of the item
    variation_counts = Counter((v, it.name) for v, it in zip(product_vendor, items, strict=True))
    multi = {key for key, count in variation_counts.items() if count > 1}
    line_names = [
        f"{it.name} {var}" if (v, it.name) in multi and var else it.name
        for v, it, var in zip(product_vendor, items, variations, strict=True)
    ]
    vendor_products = np.full((vendors, max(slots)), -1)
    slot_weight = np.zeros(vendor_products.shape)
    slot_season = np.full((*vendor_products.shape, 2), -1)
    cursor = np.zeros(vendors, dtype=int)
    for p, v in enumerate(product_vendor):
        s = cursor[v]
        cursor[v] += 1
        vendor_products[v, s] = p
        slot_weight[v, s] = items[p].popularity * rng.lognormal(0, 0.3)
        if items[p].season:
            slot_season[v, s] = [_day_of_year(items[p].season[0]), _day_of_year(items[p].season[1])]

    # weather, by market and day, a little past the forecast horizon
    w_days = np.arange(d0 - 1, d_end + 60)
    doy = _days_of_year(w_days)
    lat = np.array([m.latitude for m in MARKETS])[:, None]
    mean = 36 - 0.45 * lat + 11 * np.cos(2 * np.pi * (doy[None, :] - 200) / 365.25)
    temp_max = np.round(mean + rng.normal(0, 3.5, size=(len(MARKETS), len(w_days))), 1)
    temp_min = np.round(temp_max - rng.uniform(6, 12, size=temp_max.shape), 1)
    rain_chance = np.array([m.rain_chance for m in MARKETS])[:, None]
    wet = rng.random(temp_max.shape) < rain_chance
    precip = np.round(np.where(wet, rng.gamma(1.2, 5.0, size=temp_max.shape), 0.0), 1)

    # events around each market: about three a month, one to three days long
    rows: dict[str, list] = {
        k: [] for k in ("market", "start", "end", "attendance", "rank", "state", "category")
    }
    for m in range(len(MARKETS)):
        count = rng.poisson(3 * len(w_days) / 30)
        starts = rng.integers(w_days[0], w_days[-1] - 3, size=count)
        rows["market"] += [m] * count
        rows["start"] += list(starts)
        rows["end"] += list(starts + rng.choice([0, 1, 2], size=count, p=[0.6, 0.25, 0.15]))
        rows["attendance"] += list(np.round(rng.lognormal(7.5, 1.0, size=count)).astype(np.int64))
        rows["rank"] += list(rng.integers(20, 91, size=count))
        rows["state"] += list(rng.choice(3, size=count, p=[0.85, 0.1, 0.05]))
        rows["category"] += list(rng.integers(0, len(EVENT_CATEGORIES), size=count))
    events = {k: np.array(v, dtype=np.int64) for k, v in rows.items()}
    events["id"] = _ids(rng, len(events["market"]), 20, SQUARE_UID)
    events["has_attendance"] = rng.random(len(events["market"])) < 0.9
    attendance = np.zeros(temp_max.shape)
    live = events["state"] != 2
    for m, s, e, a in zip(
        events["market"][live],
        events["start"][live],
        events["end"][live],
        events["attendance"][live],
        strict=True,
    ):
        attendance[m, s - w_days[0] : e - w_days[0] + 1] += a
    events_source = rng.choice(3, size=temp_max.shape, p=[0.95, 0.04, 0.01])

    return World(
        seed=seed,
        day=day,
        first_day=first,
        market_ids=market_ids,
        sites=np.unique(vm_market_a),
        vendor_ids=pa.array(slugs),
        vendor_names=tuple(names),
        vendor_start=vendor_start,
        vendor_end=vendor_end,
        vm_vendor=vm_vendor_a,
        vm_market=vm_market_a,
        vm_start=np.array(vm_start),
        vm_end=np.array(vm_end),
        vm_orders=vm_orders,
        vm_location_ids=location_ids,
        product_vendor=product_vendor_a,
        product_ids=_strings(_ids(rng, n_products, 24, SQUARE_ID)),
        product_item_ids=tuple(
            item_ids[v, it.name] for v, it in zip(product_vendor, items, strict=True)
        ),
        product_items=tuple(items),
        product_variation=tuple(variations),
        product_line_names=pa.array(line_names),
        product_cents=np.array([it.cents for it in items]),
        product_unit=np.array([("each", "lb", "till").index(it.unit) for it in items]),
        product_intro=np.array(intro),
        product_retire=np.array(retire),
        vendor_products=vendor_products,
        slot_weight=slot_weight,
        slot_season=slot_season,
        weather_first=int(w_days[0]),
        temp_max=temp_max,
        temp_min=temp_min,
        precip=precip,
        event_attendance=attendance,
        events=events,
        events_source=events_source,
        reporting_vendors=rng.random(vendors) < 0.1,
    )


@cache
def _local_midnight_us(timezone: str, day: int) -> int:
    """The UTC instant, in microseconds, at which `day` (epoch days) starts in `timezone`."""
    midnight = dt.datetime.combine(from_epoch(day), dt.time(0), ZoneInfo(timezone))
    return int(midnight.astimezone(dt.UTC).timestamp()) * 1_000_000


def _opening_us(world: World, markets: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray]:
    """Opening instant (UTC microseconds) and hours open of each market on `day`."""
    midnight = np.array([_local_midnight_us(MARKETS[m].timezone, day) for m in range(len(MARKETS))])
    opens = np.array([MARKETS[m].hours[0] for m in range(len(MARKETS))])
    hours = np.array([MARKETS[m].hours[1] - MARKETS[m].hours[0] for m in range(len(MARKETS))])
    return (midnight + opens * 3_600_000_000).astype(np.int64)[markets], hours[markets]


@cache
def _held(day: int) -> np.ndarray:
    """Which markets are held on `day`: their weekday, in season, not Christmas or New Year."""
    date = from_epoch(day)
    month_day = f"{date.month:02d}-{date.day:02d}"
    if month_day in ("12-25", "01-01"):
        return np.zeros(len(MARKETS), dtype=bool)
    held = []
    for market in MARKETS:
        start, end = market.season or ("01-01", "12-31")
        in_season = start <= month_day <= end if start <= end else not end < month_day < start
        held.append(date.isoweekday() in market.weekdays and in_season)
    return np.array(held)


def _slot_weights(world: World, vms: np.ndarray, days: np.ndarray) -> np.ndarray:
    """[row, slot] popularity of each product the vendor of vms[row] offers on days[row]."""
    vendors = world.vm_vendor[vms]
    products = world.vendor_products[vendors]
    valid = products >= 0
    safe = np.where(valid, products, 0)
    doy = _days_of_year(days)[:, None]
    season = world.slot_season[vendors]
    offered = (
        valid
        & (world.product_intro[safe] <= days[:, None])
        & (world.product_retire[safe] >= days[:, None])
        & _in_season(doy, season[..., 0], season[..., 1])
    )
    return np.where(offered, world.slot_weight[vendors], 0.0)


def _present(world: World, vms: np.ndarray, day: int) -> np.ndarray:
    """Whether the vendor of each vendor-market stands at that market on `day`."""
    days = np.full(len(vms), day)
    return (
        _held(day)[world.vm_market[vms]]
        & (world.vm_start[vms] <= day)
        & (world.vm_end[vms] >= day)
        & (_uniform(world.seed, vms, days) >= 0.08)  # a missed market day
        & (_slot_weights(world, vms, days).sum(axis=1) > 0)  # something to sell
    )


@dataclass
class DaySales:
    """One day's orders, line items and returns as numpy columns (orders before their lines)."""

    orders: dict[str, np.ndarray]
    lines: dict[str, np.ndarray]
    returns: dict[str, np.ndarray]  # dated this day or RETURN_DELAY_DAYS later
    feedback: dict[str, np.ndarray]


def _day_sales(world: World, day: int) -> DaySales:
    """Everything sold on `day`, drawn from a generator seeded by the world's seed and the day."""
    rng = np.random.default_rng([world.seed, 1, day])
    candidates = np.flatnonzero(_held(day)[world.vm_market])
    vms = candidates[_present(world, candidates, day)]
    weights = _slot_weights(world, vms, np.full(len(vms), day))
    markets = world.vm_market[vms]
    w = day - world.weather_first
    doy = _days_of_year(np.array([day]))[0]
    season = 0.95 + 0.15 * np.cos(2 * np.pi * (doy - 200) / 365.25)
    rain = np.where(world.precip[markets, w] > 2, 0.8, 1.0)
    heat = np.where((world.temp_max[markets, w] > 33) | (world.temp_max[markets, w] < 2), 0.88, 1.0)
    crowd = 1 + np.minimum(world.event_attendance[markets, w] / 20_000, 0.25)
    n_orders = np.maximum(rng.poisson(world.vm_orders[vms] * season * rain * heat * crowd), 1)

    # orders: closing instants spread over opening hours, increasing within a stall
    o_vm = np.repeat(np.arange(len(vms)), n_orders)
    n = len(o_vm)
    opening, hours = _opening_us(world, markets, day)
    spread = np.sort(rng.random(n) + o_vm)  # sorted within each stall, stalls in order
    rank = np.arange(n) - np.repeat(np.cumsum(n_orders) - n_orders, n_orders)
    closed = (
        opening[o_vm]
        + ((spread - o_vm) * hours[o_vm] * 3_600_000_000).astype(np.int64)
        + rank  # strictly increasing: no two sales of a stall share an instant
    )
    created = closed - rng.integers(20, 300, size=n) * 1_000_000
    canceled = rng.random(n) < 0.015
    n_lines = rng.choice([1, 2, 3], size=n, p=[0.6, 0.28, 0.12])

    # line items: a product by popularity, custom amounts and gift cards now and then
    l_order = np.repeat(np.arange(n), n_lines)
    m = len(l_order)
    l_vm = o_vm[l_order]
    cdf = np.cumsum(weights, axis=1)
    pick = (rng.random(m)[:, None] * cdf[l_vm, -1:] >= cdf[l_vm]).sum(axis=1)
    # a product that sells out stops selling for the rest of the day: its later buyers pick
    # among what is left (or keep their pick when nothing is)
    in_day = (spread - o_vm)[l_order]
    cutoff = np.where(rng.random(weights.shape) < 0.12, rng.uniform(0.35, 0.95, weights.shape), 2.0)
    late_buyers = np.flatnonzero(in_day > cutoff[l_vm, pick])
    left = weights[l_vm[late_buyers]] * (cutoff[l_vm[late_buyers]] > in_day[late_buyers, None])
    left_cdf = np.cumsum(left, axis=1)
    again = (rng.random(len(late_buyers))[:, None] * left_cdf[:, -1:] >= left_cdf).sum(axis=1)
    pick[late_buyers] = np.where(left_cdf[:, -1] > 0, again, pick[late_buyers])
    product = world.vendor_products[world.vm_vendor[vms[l_vm]], pick]
    kind_draw = rng.random(m)
    item_type = np.where(kind_draw < 0.02, 1, np.where(kind_draw < 0.021, 2, 0))  # custom, gift
    product = np.where(item_type == 0, product, -1)
    unit = np.where(product >= 0, world.product_unit[np.maximum(product, 0)], 2)
    counted = rng.choice([1, 2, 3, 4, 6], size=m, p=[0.7, 0.18, 0.07, 0.03, 0.02]) * SCALE
    pounds = np.maximum(np.round(rng.lognormal(0.2, 0.5, size=m), 2), 0.1)
    quantity = np.where(unit == 0, counted, np.where(unit == 1, np.round(pounds * SCALE), SCALE))
    cents = world.product_cents[np.maximum(product, 0)]
    till = np.round(np.where(product >= 0, cents, 1500) * rng.uniform(0.6, 1.5, size=m) / 25) * 25
    base = np.where((unit == 2) | (product < 0), till, cents).astype(np.int64)
    gross = np.round(base * quantity / SCALE).astype(np.int64)
    total = np.bincount(l_order, weights=gross, minlength=n).astype(np.int64)
    line_uids = _ids(rng, m, 22, SQUARE_UID)
    order_ids = _ids(rng, n, 24, SQUARE_UID)

    # linked returns: a few completed item lines come back later that day or the next week
    returned = np.flatnonzero((rng.random(m) < 0.003) & (item_type == 0) & ~canceled[l_order])
    late = rng.random(len(returned)) < 0.25
    if late.any():
        late[late] = _present(world, vms[l_vm[returned[late]]], day + RETURN_DELAY_DAYS)
    r_quantity = np.where(
        unit[returned] == 0, np.minimum(quantity[returned], SCALE), quantity[returned]
    )
    r_closed = closed[l_order[returned]] + rng.integers(15, 120, size=len(returned)) * US_PER_MINUTE
    if late.any():
        later_opening, later_hours = _opening_us(
            world, markets[l_vm[returned[late]]], day + RETURN_DELAY_DAYS
        )
        r_closed[late] = later_opening + (
            rng.random(late.sum()) * later_hours * 3_600_000_000
        ).astype(np.int64)

    # feedback: vendors who import it report the units they brought of what they sold
    sold_out = cutoff[l_vm, pick] <= 1
    feedback = _feedback(world, rng, day, vms, l_vm, product, quantity, canceled[l_order], sold_out)
    return DaySales(
        orders={
            "vm": vms[o_vm],
            "order_id": order_ids,
            "canceled": canceled,
            "created": created,
            "closed": closed,
            "total": total,
            "n_lines": n_lines,
            "version": rng.integers(1, 5, size=n),
            "day": np.full(n, day),
        },
        lines={
            "uid": line_uids,
            "product": product,
            "item_type": item_type,
            "quantity": quantity.astype(np.int64),
            "weighed": unit == 1,
            "base": base,
            "gross": gross,
        },
        returns={
            "vm": vms[l_vm[returned]],
            "order_id": _ids(rng, len(returned), 24, SQUARE_UID),
            "uid": _ids(rng, len(returned), 22, SQUARE_UID),
            "return_uid": _ids(rng, len(returned), 22, SQUARE_UID),
            "source_order_id": order_ids[l_order[returned]],
            "source_uid": line_uids[returned],
            "product": product[returned],
            "quantity": r_quantity.astype(np.int64),
            "weighed": unit[returned] == 1,
            "base": base[returned],
            "gross": np.round(base[returned] * r_quantity / SCALE).astype(np.int64),
            "closed": r_closed,
            "day": np.where(late, day + RETURN_DELAY_DAYS, day),
        },
        feedback=feedback,
    )


def _feedback(
    world, rng, day, vms, l_vm, product, quantity, canceled, sold_out
) -> dict[str, np.ndarray]:
    """What reporting vendors import for about half of their market days: the units they brought
    of each product they sold (all of it when it sold out), sometimes whether it sold out, and
    sometimes their own count of units sold (cash sales included)."""
    reports = world.reporting_vendors[world.vm_vendor[vms]] & (rng.random(len(vms)) < 0.5)
    keep = reports[l_vm] & (product >= 0) & ~canceled
    if not keep.any():
        return {k: np.array([]) for k in ("vm", "product", "brought", "sold", "sold_out", "day")}
    keys, inverse = np.unique(
        np.stack([vms[l_vm[keep]], product[keep]]), axis=1, return_inverse=True
    )
    units = np.bincount(inverse.ravel(), weights=quantity[keep] / SCALE)
    ran_out = np.bincount(inverse.ravel(), weights=sold_out[keep]) > 0
    brought = np.where(ran_out, np.ceil(units), np.ceil(units * rng.uniform(1.05, 1.5, len(units))))
    cash = (rng.random(len(units)) < 0.15) & ~ran_out  # more than it brought otherwise
    return {
        "vm": keys[0],
        "product": keys[1],
        "brought": brought,
        "sold": np.where(cash, np.round(units * 1.1, 2), np.nan),
        "sold_out": np.where(rng.random(len(units)) < 0.5, ran_out.astype(float), np.nan),
        "day": np.full(len(units), day),
    }


def _concat(parts: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}


def _take(values: pa.Array, indices: np.ndarray) -> pa.Array:
    """values[indices], null where the index is negative."""
    return pc.take(values, pa.array(indices, mask=indices < 0))


def _us(values: np.ndarray) -> pa.Array:
    return pa.array(values.astype(np.int64), type=ARROW_TYPES["timestamp_tz"])


def _dates(days: np.ndarray) -> pa.Array:
    return pa.array(days.astype(np.int32), type=pa.date32())


def _decimal(scaled: np.ndarray) -> pa.Array:
    """Exact decimal(18, 5) values from integers scaled by 10^5 (two's complement, 128 bits)."""
    words = np.empty((len(scaled), 2), dtype=np.int64)
    words[:, 0] = scaled
    words[:, 1] = np.where(scaled < 0, -1, 0)
    return pa.Array.from_buffers(ARROW_TYPES["decimal"], len(scaled), [None, pa.py_buffer(words)])


def _join(*parts: pa.Array | str) -> pa.Array:
    return pc.binary_join_element_wise(*parts, "")


def _money(amounts: np.ndarray) -> pa.Array:
    return _join('{"amount":', pc.cast(pa.array(amounts), pa.string()), ',"currency":"USD"}')


def _iso(instants: np.ndarray) -> pa.Array:
    """UTC microseconds as Square writes instants, 2025-06-14T15:04:05.123Z (a cast and two
    slices: twenty times faster than strftime)."""
    text = pc.cast(pa.array(instants // 1000, type=pa.timestamp("ms")), pa.string())
    return _join(
        pc.utf8_slice_codeunits(text, 0, 10), "T", pc.utf8_slice_codeunits(text, 11, 23), "Z"
    )


def _quantity_text(scaled: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(scaled / SCALE), pa.string())


def _typed(table_contract: Contract, columns: dict[str, object], rows: int) -> pa.Table:
    """The columns as an Arrow table of exactly the contract's columns, types and nullability;
    a scalar is repeated, None is a null column."""
    arrays = []
    for column in table_contract.columns:
        if column.name not in columns:
            raise ValueError(f"{table_contract.table}: no values for column {column.name}")
        arrow_type = ARROW_TYPES[column.type]
        values = columns[column.name]
        if values is None:
            array = pa.nulls(rows, arrow_type)
        elif isinstance(values, pa.Array | pa.ChunkedArray):
            array = values if values.type == arrow_type else values.cast(arrow_type)
        elif isinstance(values, np.ndarray | list):
            array = pa.array(values, type=arrow_type, from_pandas=True)
        else:
            array = pa.array([values] * rows, type=arrow_type)
        if len(array) != rows:
            raise ValueError(
                f"{table_contract.table}.{column.name}: {len(array)} values for {rows} rows"
            )
        if not column.nullable and array.null_count:
            raise ValueError(
                f"{table_contract.table}.{column.name} is not nullable but has {array.null_count} nulls"
            )
        arrays.append(array)
    return pa.Table.from_arrays(arrays, names=table_contract.column_names)


def _ingested_at(days: np.ndarray) -> np.ndarray:
    """The daily ingest loads a market day the next morning, 10:00 UTC."""
    return (days + 1) * US_PER_DAY + 10 * 3_600_000_000


def sales_tables(
    world: World, days: list[DaySales], returns: dict[str, np.ndarray]
) -> dict[str, pa.Table]:
    """raw.square_orders, raw.square_order_line_items and raw.square_order_returns for days of
    sales and the returns dated within them (the return orders included)."""
    o = _concat([d.orders for d in days])
    ln = _concat([d.lines for d in days])
    n, m = len(o["vm"]), len(ln["uid"])
    l_order = np.repeat(np.arange(n), o["n_lines"])
    vendor_ids = _take(world.vendor_ids, world.vm_vendor[o["vm"]])
    locations = _take(world.vm_location_ids, o["vm"])
    order_ids = _strings(o["order_id"])
    states = _take(pa.array(["COMPLETED", "CANCELED"]), o["canceled"].astype(np.int64))
    created, closed = _us(o["created"]), _us(o["closed"])
    uids = _strings(ln["uid"])
    variation = _take(world.product_ids, ln["product"])
    line_names = pc.if_else(
        pa.array(ln["product"] >= 0),
        _take(world.product_line_names, np.maximum(ln["product"], 0)),
        _take(pa.array(["", "Custom Amount", "Gift Card"]), ln["item_type"]),
    )
    weighed = pa.array(ln["weighed"])
    line_json = _join(
        '{"uid":"',
        uids,
        '",',
        pc.if_else(
            pa.array(ln["product"] >= 0),
            _join('"catalog_object_id":"', pc.fill_null(variation, ""), '",'),
            "",
        ),
        '"name":"',
        line_names,
        '","quantity":"',
        _quantity_text(ln["quantity"]),
        '",',
        pc.if_else(
            weighed,
            '"quantity_unit":{"measurement_unit":{"weight_unit":"IMPERIAL_POUND"},"precision":2},',
            "",
        ),
        '"item_type":"',
        _take(pa.array(["ITEM", "CUSTOM_AMOUNT", "GIFT_CARD"]), ln["item_type"]),
        '","base_price_money":',
        _money(ln["base"]),
        ',"gross_sales_money":',
        _money(ln["gross"]),
        "}",
    )
    closed_text = _iso(o["closed"])
    offsets = np.concatenate([[0], np.cumsum(o["n_lines"])]).astype(np.int32)
    line_lists = pc.binary_join(pa.ListArray.from_arrays(pa.array(offsets), line_json), ",")
    payloads = _join(
        '{"id":"',
        order_ids,
        '","location_id":"',
        locations,
        '","state":"',
        states,
        '","version":',
        pc.cast(pa.array(o["version"]), pa.string()),
        ',"created_at":"',
        _iso(o["created"]),
        '","updated_at":"',
        closed_text,
        '","closed_at":"',
        closed_text,
        '","line_items":[',
        line_lists,
        '],"total_money":',
        _money(o["total"]),
        "}",
    )
    ingested = _ingested_at(o["day"])
    orders = _typed(
        ORDERS,
        {
            "vendor_id": vendor_ids,
            "order_id": order_ids,
            "order_version": o["version"],
            "location_id": locations,
            "state": states,
            "created_at": created,
            "updated_at": closed,
            "closed_at": closed,
            "market_date": _dates(o["day"]),
            "total_amount": o["total"],
            "currency": "USD",
            "raw_payload": payloads,
            "ingested_at": _us(ingested),
        },
        n,
    )
    lines = _typed(
        LINES,
        {
            "vendor_id": pc.take(vendor_ids, pa.array(l_order)),
            "order_id": pc.take(order_ids, pa.array(l_order)),
            "line_uid": uids,
            "location_id": pc.take(locations, pa.array(l_order)),
            "state": pc.take(states, pa.array(l_order)),
            "closed_at": pc.take(closed, pa.array(l_order)),
            "market_date": _dates(o["day"][l_order]),
            "catalog_object_id": variation,
            "item_type": _take(pa.array(["ITEM", "CUSTOM_AMOUNT", "GIFT_CARD"]), ln["item_type"]),
            "line_name": line_names,
            "quantity": _decimal(ln["quantity"]),
            "quantity_unit": pc.if_else(weighed, "IMPERIAL_POUND", pa.scalar(None, pa.string())),
            "base_price_amount": ln["base"],
            "gross_sales_amount": ln["gross"],
            "currency": "USD",
            "ingested_at": _us(ingested[l_order]),
        },
        m,
    )
    return_orders, return_lines = _return_tables(world, returns)
    return {
        ORDERS.table: pa.concat_tables([orders, return_orders]),
        LINES.table: lines,
        RETURNS.table: return_lines,
    }


def _return_tables(world: World, r: dict[str, np.ndarray]) -> tuple[pa.Table, pa.Table]:
    """A return order per returned line (no sale lines, total 0) and the return line itself."""
    k = len(r["vm"])
    vendor_ids = _take(world.vendor_ids, world.vm_vendor[r["vm"]])
    locations = _take(world.vm_location_ids, r["vm"])
    order_ids, uids = _strings(r["order_id"]), _strings(r["uid"])
    return_uids, source_orders = _strings(r["return_uid"]), _strings(r["source_order_id"])
    source_uids = _strings(r["source_uid"])
    variation = _take(world.product_ids, r["product"])
    names = _take(world.product_line_names, r["product"])
    closed = _us(r["closed"])
    created = _us(r["closed"] - 60_000_000)
    stamp = _iso(r["closed"])
    payloads = _join(
        '{"id":"',
        order_ids,
        '","location_id":"',
        locations,
        '","state":"COMPLETED","version":1,"created_at":"',
        _iso(r["closed"] - 60_000_000),
        '","updated_at":"',
        stamp,
        '","closed_at":"',
        stamp,
        '","returns":[{"uid":"',
        return_uids,
        '","source_order_id":"',
        source_orders,
        '","return_line_items":[{"uid":"',
        uids,
        '","source_line_item_uid":"',
        source_uids,
        '","catalog_object_id":"',
        variation,
        '","name":"',
        names,
        '","quantity":"',
        _quantity_text(r["quantity"]),
        '","base_price_money":',
        _money(r["base"]),
        ',"gross_return_money":',
        _money(r["gross"]),
        '}]}],"total_money":',
        _money(np.zeros(k, dtype=np.int64)),
        "}",
    )
    ingested = _us(_ingested_at(r["day"]))
    orders = _typed(
        ORDERS,
        {
            "vendor_id": vendor_ids,
            "order_id": order_ids,
            "order_version": np.ones(k, dtype=np.int64),
            "location_id": locations,
            "state": "COMPLETED",
            "created_at": created,
            "updated_at": closed,
            "closed_at": closed,
            "market_date": _dates(r["day"]),
            "total_amount": np.zeros(k, dtype=np.int64),
            "currency": "USD",
            "raw_payload": payloads,
            "ingested_at": ingested,
        },
        k,
    )
    lines = _typed(
        RETURNS,
        {
            "vendor_id": vendor_ids,
            "order_id": order_ids,
            "line_uid": uids,
            "return_uid": return_uids,
            "source_order_id": source_orders,
            "source_line_uid": source_uids,
            "location_id": locations,
            "state": "COMPLETED",
            "closed_at": closed,
            "market_date": _dates(r["day"]),
            "catalog_object_id": variation,
            "item_type": "ITEM",
            "line_name": names,
            "quantity": _decimal(r["quantity"]),
            "quantity_unit": pc.if_else(
                pa.array(r["weighed"]), "IMPERIAL_POUND", pa.scalar(None, pa.string())
            ),
            "base_price_amount": r["base"],
            "gross_return_amount": r["gross"],
            "currency": "USD",
            "ingested_at": ingested,
        },
        k,
    )
    return orders, lines


def feedback_table(world: World, days: list[DaySales]) -> pa.Table:
    f = _concat([d.feedback for d in days])
    k = len(f["vm"])
    vm, product = f["vm"].astype(np.int64), f["product"].astype(np.int64)
    sold_out = pa.array(f["sold_out"] == 1, mask=np.isnan(f["sold_out"]))
    return _typed(
        FEEDBACK,
        {
            "vendor_id": _take(world.vendor_ids, world.vm_vendor[vm]),
            "market_id": _take(pa.array(world.market_ids), world.vm_market[vm]),
            "product_id": _take(world.product_ids, product),
            "market_date": _dates(f["day"]),
            "units_brought": f["brought"],
            "units_sold": f["sold"],
            "sold_out": sold_out,
            "source_file": "feedback.csv",
            "imported_at": _us(_ingested_at(f["day"].astype(np.int64)) + 8 * 3_600_000_000),
        },
        k,
    )


def iter_sales(
    world: World, first: int, last: int, batch_days: int = BATCH_DAYS
) -> Iterator[dict[str, pa.Table]]:
    """Sales of days first..last (epoch days, inclusive) in batches of `batch_days`, each with
    the returns dated within it (a late return was drawn with the sale it takes back, up to
    RETURN_DELAY_DAYS earlier) and the feedback of its days."""
    pending: list[dict[str, np.ndarray]] = []
    batch: list[DaySales] = []
    for day in range(first - RETURN_DELAY_DAYS, last + 1):
        sales = _day_sales(world, day)
        pending.append(sales.returns)
        if day < first:
            continue
        batch.append(sales)
        if len(batch) == batch_days or day == last:
            waiting = _concat(pending)
            due = (waiting["day"] >= first) & (waiting["day"] <= day)
            later = waiting["day"] > day
            pending = [{k: v[later] for k, v in waiting.items()}]
            tables = sales_tables(world, batch, {k: v[due] for k, v in waiting.items()})
            tables[FEEDBACK.table] = feedback_table(world, batch)
            batch = []
            yield tables


def _json_column(objects: list[dict]) -> list[str]:
    return [json.dumps(o, separators=(",", ":")) for o in objects]


def snapshot_tables(world: World, as_of: dt.date) -> dict[str, pa.Table]:
    """What the morning's ingest holds in the snapshot tables: vendors, their Square locations
    and catalogs as of `as_of`, the sync state, the operator's schedule file and the public
    holidays."""
    now_us = epoch_day(as_of) * US_PER_DAY + 6 * 3_600_000_000
    today = epoch_day(as_of)
    n_v = world.n_vendors
    vendors = _typed(
        VENDORS,
        {
            "vendor_id": world.vendor_ids,
            "vendor_name": list(world.vendor_names),
            "active": world.vendor_end >= today,
            "square_token_encrypted": [f"gAAAAAB{v:06d}-not-a-real-token" for v in range(n_v)],
            "registered_at": _us(world.vendor_start * US_PER_DAY),
        },
        n_v,
    )
    listed = np.flatnonzero(world.vm_start < today)
    k = len(listed)
    markets = world.vm_market[listed]
    location_ids = _take(world.vm_location_ids, listed).to_pylist()
    names = [
        f"{world.vendor_names[world.vm_vendor[i]]} at {MARKETS[m].name}"
        for i, m in zip(listed, markets, strict=True)
    ]
    status = np.where(world.vm_end[listed] >= today, "ACTIVE", "INACTIVE")
    locations = _typed(
        LOCATIONS,
        {
            "vendor_id": _take(world.vendor_ids, world.vm_vendor[listed]),
            "location_id": location_ids,
            "market_id": [world.market_ids[m] for m in markets],
            "location_name": names,
            "timezone": [MARKETS[m].timezone for m in markets],
            "latitude": [MARKETS[m].latitude for m in markets],
            "longitude": [MARKETS[m].longitude for m in markets],
            "country": "US",
            "status": status,
            "raw_payload": _json_column(
                [
                    {
                        "id": loc,
                        "name": name,
                        "timezone": MARKETS[m].timezone,
                        "status": s,
                        "country": "US",
                    }
                    for loc, name, m, s in zip(location_ids, names, markets, status, strict=True)
                ]
            ),
            "ingested_at": now_us,
        },
        k,
    )
    existing = np.flatnonzero(world.product_intro < today)
    deleted = world.product_retire[existing] < today
    ids = _take(world.product_ids, existing).to_pylist()
    rows = []
    for p, pid, gone in zip(existing, ids, deleted, strict=True):
        item = world.product_items[p]
        variation = world.product_variation[p] or "Regular"
        price = None if item.unit == "till" else item.cents
        payload = {
            "type": "ITEM_VARIATION",
            "id": pid,
            "is_deleted": bool(gone),
            "item_variation_data": {
                "item_id": world.product_item_ids[p],
                "name": variation,
                "pricing_type": "VARIABLE_PRICING" if price is None else "FIXED_PRICING",
            }
            | ({} if price is None else {"price_money": {"amount": price, "currency": "USD"}}),
        }
        changed = world.product_retire[p] if gone else world.product_intro[p]
        rows.append((item, variation, price, payload, changed))
    catalog = _typed(
        CATALOG,
        {
            "vendor_id": _take(world.vendor_ids, world.product_vendor[existing]),
            "variation_id": ids,
            "item_id": [world.product_item_ids[p] for p in existing],
            "item_name": [r[0].name for r in rows],
            "variation_name": [r[1] for r in rows],
            "category_id": [f"CAT_{r[0].category.upper()}" for r in rows],
            "category_name": [r[0].category for r in rows],
            "price_amount": [r[2] for r in rows],
            "currency": "USD",
            "is_deleted": deleted,
            "updated_at": _us(np.array([r[4] for r in rows], dtype=np.int64) * US_PER_DAY),
            "raw_payload": _json_column([r[3] for r in rows]),
            "ingested_at": now_us,
        },
        len(existing),
    )
    streams = ["locations", "catalog", "orders"]
    state_vendors = np.repeat(np.arange(n_v), len(streams))
    stream = streams * n_v
    is_orders = np.array([s == "orders" for s in stream])
    sync_state = _typed(
        SYNC_STATE,
        {
            "vendor_id": _take(world.vendor_ids, state_vendors),
            "stream": stream,
            "status": "ok",
            "last_attempt_at": now_us,
            "last_success_at": now_us,
            "error_code": None,
            "error": None,
            "watermark": pa.array(
                np.where(is_orders, now_us, 0), type=ARROW_TYPES["timestamp_tz"], mask=~is_orders
            ),
            "mode": pa.array(np.where(is_orders, "incremental", ""), mask=~is_orders),
            "window_start": None,
            "window_end": None,
            "rows_loaded": np.zeros(len(stream), dtype=np.int64),
            "quarantined": np.zeros(len(stream), dtype=np.int64),
            "lines_excluded": np.zeros(len(stream), dtype=np.int64),
            "exclusions": None,
        },
        len(stream),
    )
    holidays = holiday_rows(
        ["US"],
        world.first_day.year,
        as_of.year + 1,
        dt.datetime.fromtimestamp(now_us / 1e6, dt.UTC),
    ).rows
    return {
        VENDORS.table: vendors,
        LOCATIONS.table: locations,
        CATALOG.table: catalog,
        SYNC_STATE.table: sync_state,
        OVERRIDES.table: _overrides(world, as_of),
        HOLIDAYS.table: _typed(
            HOLIDAYS, {k: [r[k] for r in holidays] for k in HOLIDAYS.column_names}, len(holidays)
        ),
    }


def _overrides(world: World, as_of: dt.date) -> pa.Table:
    """The schedule file: Green City's season, and Union Square closed one Wednesday ahead."""
    union, green = world.market_ids[0], world.market_ids[3]
    closed = as_of + dt.timedelta(days=7 + (3 - as_of.isoweekday()) % 7)
    rows = [
        (green, "season", "season", None, "05-01", "10-31", None, "Outdoor season"),
        (union, f"closed:{closed}", "closed", None, None, None, closed, "Street resurfacing"),
    ]
    columns = dict(
        zip(
            (
                "market_id",
                "rule_key",
                "rule",
                "day_of_week",
                "season_start",
                "season_end",
                "closed_on",
                "note",
            ),
            zip(*rows, strict=True),
            strict=True,
        )
    )
    return _typed(
        OVERRIDES,
        {**{k: list(v) for k, v in columns.items()}, "loaded_at": epoch_day(as_of) * US_PER_DAY},
        len(rows),
    )


def weather_table(world: World, archive: tuple[int, int], as_of: dt.date) -> pa.Table:
    """Archive rows for the days of `archive` (epoch days, inclusive; null values for the last
    ARCHIVE_LAG_DAYS before `as_of`, as the provider sends them) and the forecast fetched the
    morning of `as_of`: the lagged days and HORIZON_DAYS + 2 days ahead."""
    today = epoch_day(as_of)
    fetched = today * US_PER_DAY + 6 * 3_600_000_000
    a_days = np.arange(archive[0], archive[1] + 1)
    f_days = np.arange(today - ARCHIVE_LAG_DAYS, today + HORIZON_DAYS + 2)
    sites = world.sites
    market = np.concatenate([np.repeat(sites, len(a_days)), np.repeat(sites, len(f_days))])
    day = np.concatenate([np.tile(a_days, len(sites)), np.tile(f_days, len(sites))])
    is_archive = np.arange(len(day)) < len(sites) * len(a_days)
    w = day - world.weather_first
    noise = np.where(is_archive, 0.0, np.round(np.sin(day * 1.7 + market) * 1.5, 1))
    lagging = is_archive & (day >= today - ARCHIVE_LAG_DAYS)

    def value(grid: np.ndarray) -> pa.Array:
        return pa.array(grid[market, w] + noise, mask=lagging)

    return _typed(
        WEATHER,
        {
            "market_id": _take(pa.array(world.market_ids), market),
            "weather_date": _dates(day),
            "source": np.where(is_archive, "open_meteo_archive", "open_meteo_forecast"),
            "temp_max_c": value(world.temp_max),
            "temp_min_c": value(world.temp_min),
            "precip_mm": pa.array(np.maximum(world.precip[market, w] + noise, 0), mask=lagging),
            "fetched_at": _us(
                np.where(is_archive, (day + 1) * US_PER_DAY + 6 * 3_600_000_000, fetched)
            ),
        },
        len(day),
    )


def events_tables(world: World, first: int, last: int, as_of: dt.date) -> dict[str, pa.Table]:
    """The events active on a day of first..last at markets with vendors, and which source
    answered for each of those days."""
    e = world.events
    keep = np.flatnonzero(
        np.isin(e["market"], world.sites) & (e["end"] >= first) & (e["start"] <= last)
    )
    fetched = epoch_day(as_of) * US_PER_DAY + 6 * 3_600_000_000
    market = e["market"][keep]
    from_ticketmaster = world.events_source[market, e["start"][keep] - world.weather_first] == 1
    events = _typed(
        EVENTS,
        {
            "market_id": _take(pa.array(world.market_ids), market),
            "event_id": _strings(e["id"][keep]),
            "title": [
                f"{EVENT_CATEGORIES[c].replace('-', ' ').title()} near {MARKETS[m].name}"
                for c, m in zip(e["category"][keep], market, strict=True)
            ],
            "category": _take(pa.array(EVENT_CATEGORIES), e["category"][keep]),
            "start_date": _dates(e["start"][keep]),
            "end_date": _dates(e["end"][keep]),
            "attendance": pa.array(
                e["attendance"][keep], mask=from_ticketmaster | ~e["has_attendance"][keep]
            ),
            "rank": pa.array(e["rank"][keep], mask=from_ticketmaster),
            "state": _take(pa.array(["active", "predicted", "deleted"]), e["state"][keep]),
            "fetched_at": fetched,
        },
        len(keep),
    )
    days = np.arange(first, last + 1)
    market = np.repeat(world.sites, len(days))
    day = np.tile(days, len(world.sites))
    source = world.events_source[market, day - world.weather_first]
    status = _typed(
        EVENTS_STATUS,
        {
            "market_id": _take(pa.array(world.market_ids), market),
            "event_date": _dates(day),
            "source": _take(
                pa.array(["predicthq", "ticketmaster"]), np.where(source == 2, -1, source)
            ),
            "problem": _take(
                pa.array(
                    [
                        "predicthq: GET /v1/events/ failed",
                        "predicthq: GET /v1/events/ failed; ticketmaster: HTTP 503",
                    ]
                ),
                source - 1,
            ),
            "fetched_at": fetched,
        },
        len(day),
    )
    return {EVENTS.table: events, EVENTS_STATUS.table: status}


@dataclass
class Written:
    """Rows written per table, and the seconds spent drawing them and writing them."""

    rows: dict[str, int] = field(default_factory=dict)
    generate_s: float = 0.0
    write_s: float = 0.0

    @contextmanager
    def writing(self, warehouse: Warehouse) -> Iterator[Session]:
        """A transaction whose time, commit included, counts as writing."""
        start = time.perf_counter()
        with warehouse.session() as session:
            yield session
        self.write_s += time.perf_counter() - start

    def add(self, session: Session, tables: dict[str, pa.Table]) -> None:
        for table, data in tables.items():
            self.rows[table] = self.rows.get(table, 0) + session.insert(table, data)


def create_raw_tables(warehouse: Warehouse) -> None:
    """Every raw table, empty, as the ingest creates it from its contract."""
    warehouse.ensure_tables(RAW_CONTRACTS)


def _timed(written: Written, make: Callable[[], T]) -> T:
    start = time.perf_counter()
    result = make()
    written.generate_s += time.perf_counter() - start
    return result


def write_history(
    warehouse: Warehouse,
    world: World,
    batch_days: int = BATCH_DAYS,
    progress: Callable[[str], None] | None = None,
) -> Written:
    """Every raw table as the ingest leaves it on the morning of `world.day`: sales up to the
    day before, a month per transaction; `progress` hears of every sixth month."""
    written = Written()
    first, last = epoch_day(world.first_day), epoch_day(world.day) - 1
    create_raw_tables(warehouse)
    with warehouse.connected():
        batches = iter_sales(world, first, last, batch_days)
        for count in itertools.count(1):
            tables = _timed(written, lambda: next(batches, None))
            if tables is None:
                break
            with written.writing(warehouse) as session:
                written.add(session, tables)
            if progress and count % 6 == 0:
                through = tables[ORDERS.table].column("market_date")
                progress(
                    f"through {pc.max(through)}: {written.rows[LINES.table]:,} line items "
                    f"(drawing {written.generate_s:.0f} s, writing {written.write_s:.0f} s)"
                )
        others = _timed(
            written,
            lambda: {
                **snapshot_tables(world, world.day),
                WEATHER.table: weather_table(world, (first, last), world.day),
                **events_tables(world, first, last + HORIZON_DAYS, world.day),
            },
        )
        with written.writing(warehouse) as session:
            written.add(session, others)
    return written


def write_next_day(warehouse: Warehouse, world: World) -> Written:
    """`world.day` as the next morning's ingest writes it, replacing what it covers: the day's
    sales and returns, its archive weather and the new forecast, the events fetch for the
    coming days, and fresh vendor, location, catalog, sync-state and schedule snapshots."""
    written = Written()
    day = epoch_day(world.day)
    as_of = world.day + dt.timedelta(days=1)
    tables = _timed(written, lambda: next(iter_sales(world, day, day)))
    tables |= _timed(
        written,
        lambda: {
            **snapshot_tables(world, as_of),
            WEATHER.table: weather_table(world, (day, day), as_of),
            **events_tables(world, day + 1, day + 1 + HORIZON_DAYS, as_of),
        },
    )
    scopes = {
        ORDERS.table: ("market_date = ?", [world.day]),
        LINES.table: ("market_date = ?", [world.day]),
        RETURNS.table: ("market_date = ?", [world.day]),
        FEEDBACK.table: ("market_date = ?", [world.day]),
        WEATHER.table: (
            f"(source = 'open_meteo_archive' and weather_date = ?) or source in {FORECAST_SOURCES}",
            [world.day],
        ),
        EVENTS.table: (
            "end_date >= ? and start_date <= ?",
            [world.day + dt.timedelta(days=1), world.day + dt.timedelta(days=1 + HORIZON_DAYS)],
        ),
        EVENTS_STATUS.table: ("event_date >= ?", [world.day + dt.timedelta(days=1)]),
    }
    with written.writing(warehouse) as session:
        for table in tables:
            where, params = scopes.get(table, ("true", []))
            session.execute(f"delete from {table} where {where}", params)
        written.add(session, tables)
    return written
