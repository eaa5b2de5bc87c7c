"""From the feature table to recommendations: service levels, forecasts, newsvendor quantities.

Plain functions between the warehouse and `models_ml`, so the Dagster assets stay thin.
"""

from __future__ import annotations

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
    ]
    features[numeric] = features[numeric].astype("float64")
    features["is_future"] = features["is_future"].astype(bool)
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


def forecast(features: pd.DataFrame, cost_ratio: float, workers: int) -> ForecastRun:
    return forecast_all(
        features, service_levels(features, cost_ratio), ForecastSettings(workers=workers)
    )


def recommendations(forecasts: pd.DataFrame, features: pd.DataFrame) -> pd.DataFrame:
    products = features.drop_duplicates(["vendor_id", "product_id"], keep="last")[
        ["vendor_id", "product_id", "product_name"]
    ]
    return recommend(forecasts, products)
