"""A seeded farmers-market world: markets, vendors, weather, events, demand and Square orders.

`build_world(config)` is deterministic: each part draws from its own generator seeded from
`config.seed`, never from global random state or the wall clock, so the same config gives the
same world byte for byte, and changing one part's draws does not reshuffle the others.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
from collections.abc import Iterator
from zoneinfo import ZoneInfo

import numpy as np

from sandbox import ids
from sandbox.demand import simulate_demand
from sandbox.events import event_effects, simulate_events
from sandbox.ids import IdMaker
from sandbox.merchants import build_vendors
from sandbox.orders import simulate_orders
from sandbox.templates import MARKETS
from sandbox.weather import simulate_weather
from sandbox.world import Market, Product, SimConfig, Vendor, World

__all__ = ["Market", "Product", "SimConfig", "Vendor", "World", "build_world", "sandbox_now"]

TIMEZONE = "America/Los_Angeles"


def _rng(config: SimConfig, stream: int) -> np.random.Generator:
    return np.random.default_rng([config.seed, stream])


def sandbox_now(config: SimConfig) -> dt.datetime:
    """The sandbox clock: local midnight starting `config.end`, after every simulated sale."""
    return dt.datetime.combine(config.end, dt.time(0), ZoneInfo(TIMEZONE)).astimezone(dt.UTC)


def _markets(config: SimConfig) -> list[Market]:
    if not 1 <= config.n_markets <= len(MARKETS):
        raise ValueError(f"n_markets={config.n_markets} must be 1..{len(MARKETS)}")
    return [
        Market(
            market_key=t.key,
            name=t.name,
            latitude=t.latitude,
            longitude=t.longitude,
            timezone=TIMEZONE,
            country="US",
            weekdays=t.weekdays,
            season_start=t.season[0] if t.season else None,
            season_end=t.season[1] if t.season else None,
            opens=t.hours[0],
            closes=t.hours[1],
            traffic=t.traffic,
            address_line_1=t.address,
            locality=t.locality,
            region="WA",
            postal_code=t.postal_code,
            elevation_m=t.elevation_m,
        )
        for t in MARKETS[: config.n_markets]
    ]


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """A year of orders is a million small acyclic dicts; the cyclic collector would rescan the
    growing heap again and again while they are built, doubling the build time."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def build_world(config: SimConfig) -> World:
    """Simulate `config.history_days` days of market history ending the day before `config.end`."""
    with _no_cyclic_gc():
        return _build(config)


def _build(config: SimConfig) -> World:
    if config.history_days < 7:
        raise ValueError(f"history_days={config.history_days}: simulate at least a week")
    if config.n_vendors < 1:
        raise ValueError(f"n_vendors={config.n_vendors} must be at least 1")
    now = sandbox_now(config)
    markets = _markets(config)
    vendors, products, sale_versions = build_vendors(config, markets, _rng(config, 1))
    weather = simulate_weather(markets, config.start, config.horizon_end, _rng(config, 2))
    events = simulate_events(
        markets, config.start, config.horizon_end, now, config.end, _rng(config, 3)
    )
    demand = simulate_demand(
        config, markets, vendors, products, weather, event_effects(events, markets), _rng(config, 4)
    )
    simulate_orders(demand, vendors, markets, products, sale_versions, now, _rng(config, 5))
    return World(
        config=config,
        markets=markets,
        vendors=vendors,
        products=products,
        weather=weather,
        events=events,
        demand=demand,
        events_token=IdMaker(_rng(config, 6)).one(ids.API_TOKEN),
    )
