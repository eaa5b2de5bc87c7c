"""From the feature table to recommendations: service levels, forecasts, newsvendor quantities.

Plain functions between the warehouse and `models_ml`, so the Dagster assets stay thin.
"""

from __future__ import annotations

import json

import pandas as pd

from models_ml.forecast import ForecastRun, ForecastSettings, forecast_all
from models_ml.newsvendor import service_level
from models_ml.recommend import recommend

FEATURES_SQL = "select * from marts.feature_product_market_day order by vendor_id, market_id, product_id, market_date"


def load_features(warehouse) -> pd.DataFrame:
    """The feature table with the dtypes models_ml expects on either backend."""
    features = warehouse.query(FEATURES_SQL)
    features["market_date"] = pd.to_datetime(features["market_date"])
    numeric = [
        "units_sold",
        "unit_price",
        "temp_max_c",
        "precip_mm",
        "event_attendance",
        "lag_units_1",
        "rolling_mean_units_4",
        "units_brought",
    ]
    features[numeric] = features[numeric].astype("float64")
    features["is_future"] = features["is_future"].astype(bool)
    features["is_censored"] = features["is_censored"].astype(bool)
    return features


def service_levels(features: pd.DataFrame, cost_ratio: float) -> pd.DataFrame:
    """τ per vendor × product from its price, with unit cost = cost_ratio × price (no salvage value)."""
    prices = features.groupby(["vendor_id", "product_id"], as_index=False)["unit_price"].last()

    def tau(price: float) -> float:
        # A product with no known price gets the level a typical margin implies.
        price = price if pd.notna(price) and price > 0 else 1.0
        return service_level(price, cost_ratio * price)

    prices["service_level"] = prices["unit_price"].map(tau)
    return prices[["vendor_id", "product_id", "service_level"]]


def load_previous_forecasts(warehouse, table: str) -> pd.DataFrame | None:
    """The last run's forecasts (None before the first run), for forecast_all to reuse."""
    if not warehouse.table_exists(table):
        return None
    previous = warehouse.query(f"select * from {table}")
    if "fingerprint" not in previous.columns:
        return None  # written before fingerprints existed: refit everything once
    previous["market_date"] = pd.to_datetime(previous["market_date"])
    return previous


def forecast(
    features: pd.DataFrame,
    cost_ratio: float,
    workers: int,
    previous: pd.DataFrame | None = None,
) -> ForecastRun:
    return forecast_all(
        features,
        service_levels(features, cost_ratio),
        ForecastSettings(workers=workers),
        previous=previous,
    )


def backtest_metrics(forecasts: pd.DataFrame) -> dict[str, float]:
    """The run's selection-backtest figures, summed over series (each series counted once).

    pinball (per unit sold) of the chosen models at τ and of the two baselines, the chosen
    models' improvement over each (share, negative is better), WAPE and bias of the median,
    coverage of [units_low, units_high] and the share of days at or below the τ-quantile.
    Empty when no series was long enough to backtest.
    """
    per_series = forecasts.drop_duplicates(["vendor_id", "market_id", "product_id"])
    sums = pd.DataFrame([json.loads(text) for text in per_series["backtest"]]).sum()
    if sums.empty or sums.get("days", 0) == 0 or sums.get("actual", 0) <= 0:
        return {}
    sold, days = float(sums["actual"]), float(sums["days"])
    return {
        "backtest_days": days,
        "backtest_pinball": sums["pinball"] / sold,
        "backtest_pinball_seasonal_naive": sums["pinball_seasonal_naive"] / sold,
        "backtest_pinball_weekday_quantile": sums["pinball_weekday_quantile"] / sold,
        "backtest_vs_seasonal_naive": sums["pinball"] / sums["pinball_seasonal_naive"] - 1,
        "backtest_vs_weekday_quantile": sums["pinball"] / sums["pinball_weekday_quantile"] - 1,
        "backtest_wape": sums["abs_error"] / sold,
        "backtest_bias": sums["error"] / sold,
        "backtest_coverage": sums["covered"] / days,
        "backtest_below_tau": sums["below_tau"] / days,
    }


def recommendations(forecasts: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    products = features.drop_duplicates(["vendor_id", "product_id"], keep="last")[
        ["vendor_id", "product_id", "product_name"]
    ]
    return recommend(forecasts, products)
