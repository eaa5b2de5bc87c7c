"""Synthetic market-day series with a known structure, shaped like the dbt feature table."""

from collections.abc import Callable
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

BASE_UNITS = 40.0
RAIN_EFFECT = -0.30  # on a day with at least 1 mm of rain
EVENT_EFFECT = 0.25  # on a day with a nearby event
SUMMER_AMPLITUDE = 0.4  # ±40 % around the year, peaking mid-July


def true_mean(market_date: date, precip_mm: float, event_attendance: float) -> float:
    """The expected units sold the synthetic market was drawn from."""
    season = 1 + SUMMER_AMPLITUDE * np.cos(
        2 * np.pi * (market_date.timetuple().tm_yday - 196) / 365.25
    )
    rain = 1 + RAIN_EFFECT if precip_mm >= 1 else 1.0
    event = 1 + EVENT_EFFECT if event_attendance > 0 else 1.0
    return BASE_UNITS * season * rain * event


def market_days(
    n_history: int,
    n_future: int = 2,
    seed: int = 1,
    first_day: date = date(2023, 6, 3),
    vendor_id: str = "v1",
    market_id: str = "m1",
    product_id: str = "p1",
) -> pd.DataFrame:
    """Feature-table rows of one series: Saturdays, ~30 % rainy, ~15 % with an 8,000-person event.

    The last ``n_future`` days are is_future rows (units_sold NaN) with the same weather and
    event process, so tests overwrite the conditions they care about.
    """
    rng = np.random.default_rng(seed)
    n = n_history + n_future
    days = [first_day + timedelta(weeks=week) for week in range(n)]
    precip = np.where(rng.random(n) < 0.3, rng.gamma(2.0, 5.0, n) + 1, 0.0)
    attendance = np.where(rng.random(n) < 0.15, 8000.0, 0.0)
    temperature = [
        15 + 10 * np.cos(2 * np.pi * (day.timetuple().tm_yday - 196) / 365.25) for day in days
    ] + rng.normal(0, 3, n)
    units = rng.poisson(
        [true_mean(d, p, a) for d, p, a in zip(days, precip, attendance, strict=True)]
    )
    is_future = np.arange(n) >= n_history
    return pd.DataFrame(
        {
            "vendor_id": vendor_id,
            "market_id": market_id,
            "product_id": product_id,
            "product_name": f"product {product_id}",
            "category": "bakery",
            "country": "US",
            "timezone": "America/New_York",
            "market_date": days,
            "is_future": is_future,
            "units_sold": np.where(is_future, np.nan, units.astype(float)),
            "unit_price": 6.0,
            "currency": "USD",
            "temp_max_c": temperature,
            "precip_mm": precip,
            "weather_source": "open-meteo",
            "event_attendance": attendance,
            "events_count": (attendance > 0).astype(int),
        }
    )


@pytest.fixture(scope="session")
def make_series() -> Callable[..., pd.DataFrame]:
    """market_days, for tests that shape their own series."""
    return market_days


@pytest.fixture(name="true_mean", scope="session")
def true_mean_fixture() -> Callable[[date, float, float], float]:
    return true_mean


@pytest.fixture(scope="session")
def two_years() -> pd.DataFrame:
    """104 Saturdays of history and the next two Saturdays to forecast."""
    return market_days(104)
