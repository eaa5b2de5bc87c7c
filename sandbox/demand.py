"""True demand and the stock each vendor brings, per product and market day.

expected = base × market traffic × vendor's pull at that market × weekday session
           × category season × weather × nearby events × holidays × slow growth
demand   ~ negative binomial(mean = expected, dispersion = DISPERSION)

The vendor plans stock from what they know (season, calendar, their usual pull) but not the
weather or events, aiming at about the 80th percentile, so rain leaves stock over and big events
sell products out. Sales are min(demand, stock): what the pipeline sees is censored demand.
"""

from __future__ import annotations

import datetime as dt
import math

import holidays
import numpy as np
import pandas as pd

from sandbox.world import Market, Product, SimConfig, Vendor

DISPERSION = 8.0
# Template base rates are per average stall; busy stalls at these markets see about 1.5 times that.
BUSY_STALL = 1.5
STOCK_Z = 0.85  # about the 80th percentile of demand, as the vendor sees it
MIDWEEK_SESSION = 0.65  # weekday sessions of a market that also opens at the weekend
GROWTH_PER_YEAR = 0.08

DEMAND_COLUMNS = [
    "vendor_id",
    "market_key",
    "location_id",
    "date",  # local market day (datetime.date)
    "variation_id",
    "item_id",
    "item_name",
    "variation_name",
    "category",
    "unit",  # "each", or "lb" for weighed products (demand, stock and sales in pounds)
    "expected",  # mean demand given everything (what a perfect forecast would say)
    "demand",  # true, uncensored demand that day
    "stock",  # what the vendor brought
    "sales",  # min(demand, stock): what Square recorded
    "sold_out",  # demand > stock
    "sold_out_at",  # UTC close time of the last order with the product on a sold-out day
    "weather_factor",
    "event_factor",
    "holiday_factor",
    "temp_max_c",
    "precip_mm",
]


def _bump(doy: int, peak: int, width: float) -> float:
    return math.exp(-(((doy - peak) / width) ** 2))


def category_season(category: str, day: dt.date) -> float:
    """How much of its peak a category sells at this time of year."""
    doy = day.timetuple().tm_yday
    summer = _bump(doy, 215, 55)
    if category == "Produce":
        return 0.55 + 0.65 * summer
    if category == "Flowers":
        return 0.5 + 0.6 * _bump(doy, 180, 50)
    if category == "Bakery":
        return 1.0 + 0.1 * summer + (0.15 if doy >= 320 else 0.0)
    if category == "Honey":
        return 0.85 + 0.1 * summer + 0.35 * _bump(doy, 340, 25)
    if category == "Prepared Food":
        return 0.9 + 0.2 * summer
    return 1.0


def weather_factor(category: str, temp_max_c: float, precip_mm: float) -> float:
    """Rain keeps shoppers home; heat sells fruit and flowers but not hot food; cold dampens
    everything except hot food."""
    factor = math.exp(-0.03 * min(precip_mm, 30.0)) * (0.93 if precip_mm >= 1.0 else 1.0)
    if temp_max_c > 26.0:
        heat = temp_max_c - 26.0
        if category in ("Produce", "Flowers"):
            factor *= 1 + 0.03 * heat
        elif category in ("Prepared Food", "Bakery"):
            factor *= max(0.5, 1 - 0.025 * heat)
    elif temp_max_c < 6.0 and category != "Prepared Food":
        factor *= 0.85
    return factor


def _thanksgiving(year: int) -> dt.date:
    first = dt.date(year, 11, 1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 21)


def _mothers_day(year: int) -> dt.date:
    first = dt.date(year, 5, 1)
    return first + dt.timedelta(days=(6 - first.weekday()) % 7 + 7)


def holiday_factor(category: str, day: dt.date, calendar: holidays.HolidayBase) -> float:
    """Shopping peaks around holidays (Washington's calendar)."""
    factor = 1.0
    if day in calendar:
        factor *= 1.2
    next_monday = day + dt.timedelta(days=7 - day.weekday())
    if day.weekday() >= 5 and next_monday in calendar:
        factor *= 1.15  # long weekend
    if 1 <= (_thanksgiving(day.year) - day).days <= 5:
        factor *= {"Bakery": 1.6, "Produce": 1.4}.get(category, 1.15)
    if 0 <= (_mothers_day(day.year) - day).days <= 1:
        factor *= 2.0 if category == "Flowers" else 1.1
    if day.month == 2 and 8 <= day.day <= 14 and category == "Flowers":
        factor *= 1.6
    if day.month == 12 and 10 <= day.day <= 24:
        factor *= 1.3 if category in ("Honey", "Bakery", "Flowers") else 1.1
    return factor


def simulate_demand(
    config: SimConfig,
    markets: list[Market],
    vendors: list[Vendor],
    products: list[Product],
    weather: dict[tuple[str, dt.date], dict[str, float]],
    event_lift: dict[tuple[str, dt.date], float],
    rng: np.random.Generator,
) -> pd.DataFrame:
    """One row per vendor × attended market × market day in history × product offered that day,
    ordered by vendor, market, day, product (see DEMAND_COLUMNS)."""
    by_key = {m.market_key: m for m in markets}
    calendar = holidays.US(subdiv="WA", years=range(config.start.year, config.end.year + 1))
    last = config.end - dt.timedelta(days=1)
    rows: list[list] = []
    planned: list[float] = []
    for vendor in vendors:
        mine = [p for p in products if p.vendor_id == vendor.vendor_id]
        for market_key in vendor.market_keys:
            market = by_key[market_key]
            pull = float(rng.lognormal(0.0, 0.15))  # how well this vendor does at this market
            day = config.start
            while day <= last:
                if market.is_open(day):
                    w = weather[(market_key, day)]
                    midweek = len(market.weekdays) > 1 and day.weekday() < 5
                    growth = 1 + GROWTH_PER_YEAR * (day - config.start).days / 365
                    known = market.traffic * pull * growth * (MIDWEEK_SESSION if midweek else 1.0)
                    events = event_lift.get((market_key, day), 1.0)
                    for product in mine:
                        if not product.offered_on(day):
                            continue
                        season = category_season(product.category, day)
                        holiday = holiday_factor(product.category, day, calendar)
                        wf = weather_factor(product.category, w["temp_max_c"], w["precip_mm"])
                        usual = product.base_demand * BUSY_STALL * known * season * holiday
                        planned.append(usual)
                        rows.append(
                            [
                                vendor.vendor_id,
                                market_key,
                                vendor.location_by_market[market_key],
                                day,
                                product.variation_id,
                                product.item_id,
                                product.item_name,
                                product.variation_name,
                                product.category,
                                product.unit,
                                usual * wf * events,
                                wf,
                                events,
                                holiday,
                                w["temp_max_c"],
                                w["precip_mm"],
                            ]
                        )
                day += dt.timedelta(days=1)

    head = DEMAND_COLUMNS[:10]
    frame = pd.DataFrame(
        rows,
        columns=[
            *head,
            "expected",
            "weather_factor",
            "event_factor",
            "holiday_factor",
            "temp_max_c",
            "precip_mm",
        ],
    )
    expected = frame["expected"].to_numpy(dtype=float)
    demand = rng.negative_binomial(DISPERSION, DISPERSION / (DISPERSION + expected))
    # The vendor's own guess is off by ~12% either way before they add their safety margin.
    guess = np.asarray(planned, dtype=float) * rng.lognormal(0.0, 0.12, len(planned))
    stock = np.maximum(2, np.ceil(guess + STOCK_Z * np.sqrt(guess + guess**2 / DISPERSION)))
    frame["demand"] = demand.astype(float)
    frame["stock"] = stock
    frame["sales"] = np.minimum(frame["demand"], frame["stock"])
    frame["sold_out"] = frame["demand"] > frame["stock"]
    frame["sold_out_at"] = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns, UTC]")
    return frame[DEMAND_COLUMNS]
