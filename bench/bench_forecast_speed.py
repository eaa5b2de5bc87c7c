"""Forecast throughput: two-year weekly market-day series through forecast_all, 2 processes.

`uv run python bench/bench_forecast_speed.py [N_SERIES]` (default 200). Each series is 104
Saturdays of history and 2 upcoming Saturdays, drawn from a seeded market: a level between 2
and 80 units, a summer peak, rain and event effects, Poisson noise; every fifth product sells
on about a third of the days. The timed run is the production path (the ladder's selection
backtest, Prophet where eligible, drivers), with worker start-up included. A second run with
the first run's forecasts as `previous` and one series given a new market day shows that only
that series is refitted.
"""

import sys
import time
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models_ml.forecast import forecast_all
from models_ml.settings import ForecastSettings

HISTORY_DAYS = 104
FUTURE_DAYS = 2


def weekly_series(n_series: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    days = [date(2023, 6, 3) + timedelta(weeks=week) for week in range(HISTORY_DAYS + FUTURE_DAYS)]
    day_of_year = np.array([day.timetuple().tm_yday for day in days])
    frames = []
    for index in range(n_series):
        n = len(days)
        precip = np.where(rng.random(n) < 0.3, rng.gamma(2.0, 5.0, n) + 1, 0.0)
        attendance = np.where(rng.random(n) < 0.15, 8000.0, 0.0)
        temperature = (
            15 + 10 * np.cos(2 * np.pi * (day_of_year - 196) / 365.25) + rng.normal(0, 3, n)
        )
        level = rng.uniform(2, 80)
        mean = (
            level
            * (1 + 0.4 * np.cos(2 * np.pi * (day_of_year - 196) / 365.25))
            * np.where(precip >= 1, 0.7, 1.0)
            * np.where(attendance > 0, 1.25, 1.0)
        )
        if index % 5 == 0:
            mean = mean * (rng.random(n) < 0.35)
        units = rng.poisson(mean).astype(float)
        is_future = np.arange(n) >= HISTORY_DAYS
        frames.append(
            pd.DataFrame(
                {
                    "vendor_id": f"v{index % 10}",
                    "market_id": "m1",
                    "product_id": f"p{index}",
                    "category": f"c{index % 3}",
                    "country": "US",
                    "market_date": pd.to_datetime(days),
                    "is_future": is_future,
                    "units_sold": np.where(is_future, np.nan, units),
                    "is_censored": False,
                    "temp_max_c": temperature,
                    "precip_mm": precip,
                    "event_attendance": attendance,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def main(n_series: int) -> None:
    features = weekly_series(n_series)
    levels = features[["vendor_id", "product_id"]].drop_duplicates().assign(service_level=0.7)
    settings = ForecastSettings(workers=int(sys.argv[2]) if len(sys.argv) > 2 else 2)

    started = time.perf_counter()
    run = forecast_all(features, levels, settings)
    seconds = time.perf_counter() - started
    models = run.forecasts.drop_duplicates(["product_id"])["model"].value_counts().to_dict()
    print(f"series: {n_series}, failed: {len(run.errors)}, models chosen: {models}")
    print(f"first run: {seconds:.1f} s wall, {n_series / seconds:.1f} series/s (2 processes)")

    # The next run: one series got a new market day (its first upcoming day became history).
    changed = features.copy()
    first = changed.index[(changed["product_id"] == "p1") & changed["is_future"]][0]
    changed.loc[first, ["is_future", "units_sold"]] = [False, 12.0]
    started = time.perf_counter()
    rerun = forecast_all(changed, levels, settings, previous=run.forecasts)
    seconds = time.perf_counter() - started
    print(
        f"next run, one series with new data: {n_series - rerun.reused} refitted, "
        f"{rerun.reused} reused, {seconds:.1f} s"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 200)
