"""The records a simulated world is made of: its configuration, markets, vendors and products.

`build_world` (in `sandbox.simulator`) fills a `World`; the fake servers only read it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class SimConfig:
    """What to simulate. `end` is "today" in the sandbox: sales history covers
    [end - history_days, end - 1]; weather and events also cover [end, end + 15]."""

    end: dt.date
    seed: int = 7
    history_days: int = 365
    n_vendors: int = 5
    n_markets: int = 3
    products_per_vendor: int = 8

    @property
    def start(self) -> dt.date:
        """First day of sales history."""
        return self.end - dt.timedelta(days=self.history_days)

    @property
    def horizon_end(self) -> dt.date:
        """Last day that weather and events cover (the forecast API's 16-day reach)."""
        return self.end + dt.timedelta(days=15)


@dataclass(frozen=True)
class Market:
    """One physical farmers market. It opens on `weekdays` (Mon=0) between `opens` and `closes`
    local time; a seasonal market opens only between `season_start` and `season_end` ("MM-DD",
    inclusive); both are None for a year-round market."""

    market_key: str
    name: str
    latitude: float
    longitude: float
    timezone: str
    country: str
    weekdays: frozenset[int]
    season_start: str | None
    season_end: str | None
    opens: dt.time
    closes: dt.time
    traffic: float  # shoppers relative to an average market; scales every vendor's demand there
    address_line_1: str
    locality: str
    region: str
    postal_code: str
    elevation_m: float

    def is_open(self, day: dt.date) -> bool:
        """Whether the market runs on this local day (weekday, season and fixed closures)."""
        if day.weekday() not in self.weekdays or (day.month, day.day) in CLOSED_DAYS:
            return False
        return in_season(day, self.season_start, self.season_end)


# Year-round markets still close on these (month, day).
CLOSED_DAYS = frozenset({(12, 25), (1, 1)})


def in_season(day: dt.date, start: str | None, end: str | None) -> bool:
    """Whether `day` falls in the yearly window start..end ("MM-DD", inclusive); a window may wrap
    over New Year (e.g. 09-15..01-31). No window means all year."""
    if start is None or end is None:
        return True
    md = f"{day.month:02d}-{day.day:02d}"
    if start <= end:
        return start <= md <= end
    return md >= start or md <= end


def open_days(market: Market, first: dt.date, last: dt.date) -> list[dt.date]:
    """The market's open days in first..last (inclusive)."""
    days = (first + dt.timedelta(days=i) for i in range((last - first).days + 1))
    return [day for day in days if market.is_open(day)]


@dataclass(frozen=True)
class Product:
    """One sellable Square ITEM_VARIATION of a vendor: the unit MarketPrep forecasts.

    `unit` is "each" for counted goods or "lb" for weighed ones (sold with decimal quantities).
    `price_cents` is None for variable pricing (the price is typed in at each sale).
    The variation is offered on days in [available_from, available_until) and, within those, only
    in its yearly season; a variation with `available_until` set was deleted in Square that day.
    """

    vendor_id: str
    variation_id: str
    item_id: str
    item_name: str
    variation_name: str
    category: str
    price_cents: int | None
    unit: str
    taxable: bool
    base_demand: float  # mean units per market day at an average market in peak season
    season_start: str | None
    season_end: str | None
    available_from: dt.date | None = None
    available_until: dt.date | None = None

    def offered_on(self, day: dt.date) -> bool:
        if self.available_from is not None and day < self.available_from:
            return False
        if self.available_until is not None and day >= self.available_until:
            return False
        return in_season(day, self.season_start, self.season_end)


@dataclass
class Vendor:
    """One vendor = one Square merchant account, reached with `access_token`.

    `locations`, `catalog_objects` and `orders` are Square wire objects (dicts shaped exactly as
    the API returns them). `catalog_objects` holds the top-level objects: CATEGORY,
    MEASUREMENT_UNIT, ITEM (live variations embedded) and any deleted ITEM_VARIATION, which keeps
    `is_deleted: true`. `orders` is sorted by `closed_at`.
    """

    vendor_id: str
    name: str
    merchant_id: str
    access_token: str
    market_keys: list[str]
    location_by_market: dict[str, str]  # market_key -> Square location id
    locations: list[dict[str, Any]] = field(default_factory=list)
    catalog_objects: list[dict[str, Any]] = field(default_factory=list)
    orders: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class World:
    """Everything the fake servers serve, plus the ground truth tests check against.

    `weather[(market_key, date)]` = {temp_max_c, temp_min_c, precip_mm} for every day from the
    start of history to end + 15. `events` are PredictHQ Event dicts near the markets. `demand` has
    one row per vendor × market × product × market day the product was offered (see
    `sandbox.demand.DEMAND_COLUMNS`).
    """

    config: SimConfig
    markets: list[Market]
    vendors: list[Vendor]
    products: list[Product]
    weather: dict[tuple[str, dt.date], dict[str, float]]
    events: list[dict[str, Any]]
    demand: pd.DataFrame
    events_token: str
