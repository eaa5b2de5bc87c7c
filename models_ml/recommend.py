"""Turn forecast quantiles into what the vendor reads: whole units, a range and a reason."""

import json
import math
from collections.abc import Mapping

import numpy as np
import pandas as pd

from models_ml import baseline
from models_ml.validation import require_columns

RECOMMENDATION_COLUMNS = [
    "vendor_id",
    "market_id",
    "market_date",
    "product_id",
    "product_name",
    "recommended_units",
    "units_low",
    "units_high",
    "service_level",
    "model",
    "explanation",
]
_FORECAST_INPUT_COLUMNS = [
    "vendor_id",
    "market_id",
    "product_id",
    "market_date",
    "model",
    "units_low",
    "units_p50",
    "units_high",
    "units_at_service_level",
    "service_level",
    "drivers",
    "history_market_days",
    "precip_mm",
    "temp_max_c",
    "event_attendance",
]
# Effects smaller than this are within the noise of a market day and not worth a vendor's time.
DRIVER_THRESHOLD = 0.05
MAX_EXPLANATION_CHARS = 160
TYPICAL_DAY = "a typical day for this product"
# Below two units of median forecast the product most likely sells none or one that day; the
# percentages would then describe a unit or less, so the reason is said in plain words.
FEW_UNITS = 2.0
# Likewise when the drivers together leave under a tenth of a typical day: the model has
# little to go on (often a product out of season), whatever number of units it still gives.
FEW_SHARE = 0.1
FEW_SALES_RECENTLY = "few sales recently"
FEW_SALES_THIS_TIME_OF_YEAR = "few sales at this time of year"
FEW_SALES_EXPECTED = "few sales expected"
_MINUS = "\u2212"


def recommend(forecasts: pd.DataFrame, products: pd.DataFrame) -> pd.DataFrame:
    """One row per vendor × market × market_date × product with RECOMMENDATION_COLUMNS.

    ``forecasts`` is forecast_all's output; ``products`` has vendor_id, product_id and
    product_name (a product missing there is shown by its product_id). recommended_units is
    the service-level quantile rounded to the nearest unit, units_low the low quantile rounded
    down and units_high the high quantile rounded up, all clipped at 0. When the service level
    lies outside the range's quantiles the range is widened to include the recommendation, so
    0 ≤ units_low ≤ recommended_units ≤ units_high always holds.
    """
    require_columns(forecasts, _FORECAST_INPUT_COLUMNS, "forecasts")
    require_columns(products, ["vendor_id", "product_id", "product_name"], "products")
    quantiles = forecasts[["units_low", "units_high", "units_at_service_level"]].astype(float)
    if quantiles.isna().any().any():
        raise ValueError(
            f"forecasts has {int(quantiles.isna().any(axis=1).sum())} rows with a missing "
            "quantile; forecast_series never produces them, so the forecasts were altered"
        )
    duplicated = products.duplicated(["vendor_id", "product_id"])
    if duplicated.any():
        raise ValueError(
            f"products has {int(duplicated.sum())} duplicate vendor_id × product_id rows; "
            "expected one name per product"
        )

    rows = forecasts.merge(
        products[["vendor_id", "product_id", "product_name"]],
        on=["vendor_id", "product_id"],
        how="left",
    )
    rows["product_name"] = rows["product_name"].fillna(rows["product_id"])
    quantiles = quantiles.clip(lower=0).to_numpy()
    recommended = np.floor(quantiles[:, 2] + 0.5)  # half up: np.round sends 2.5 to 2
    rows["recommended_units"] = recommended.astype(int)
    rows["units_low"] = np.minimum(np.floor(quantiles[:, 0]), recommended).astype(int)
    rows["units_high"] = np.maximum(np.ceil(quantiles[:, 1]), recommended).astype(int)
    rows["explanation"] = [_explanation(row) for row in rows.itertuples(index=False)]
    return rows[RECOMMENDATION_COLUMNS].reset_index(drop=True)


def explain(
    drivers: Mapping[str, float],
    facts: Mapping[str, float] | None = None,
    threshold: float = DRIVER_THRESHOLD,
) -> str:
    """Plain words for the up to three largest drivers, e.g. "rain forecast (12 mm), −15 %".

    ``drivers`` are forecast_series' drivers: the relative change each effect makes to the
    series' typical level, each ≥ −1, so a stated percentage is never below −100 %. ``facts``
    are the day's precip_mm, temp_max_c and event_attendance, used for the numbers in brackets
    when known, and optionally units_p50 (the median forecast) and holiday (whether the day is
    a public holiday). The rules, in order:

    - Few sales: when units_p50 is known and below FEW_UNITS, or the drivers multiply up to
      less than FEW_SHARE of a typical day, there is too little to split into percentages;
      the text is one plain reason from the largest negative driver:
      FEW_SALES_RECENTLY (trend), FEW_SALES_THIS_TIME_OF_YEAR (season), FEW_SALES_EXPECTED
      followed by the condition (e.g. "few sales expected, rain forecast (12 mm)") for another
      driver, or FEW_SALES_EXPECTED alone when no driver lowers the day.
    - Only what happens that day is a reason: the event driver is shown only when
      event_attendance is known and above 0, the holiday driver not when holiday is known and
      false (forecast_series already makes both 0 on an ordinary day).
    - Drivers below ``threshold`` in size are left out; when none is left the day is
      "a typical day for this product".

    The text never exceeds MAX_EXPLANATION_CHARS.
    """
    facts = facts or {}
    notable = sorted(
        (
            (name, share)
            for name, share in drivers.items()
            if math.isfinite(share) and abs(share) >= threshold and _happens(name, facts)
        ),
        key=lambda item: abs(item[1]),
        reverse=True,
    )
    median = _known(facts.get("units_p50"))
    share_of_typical = math.prod(1 + share for share in drivers.values() if math.isfinite(share))
    if (median is not None and median < FEW_UNITS) or share_of_typical < FEW_SHARE:
        return _few_sales(notable, facts)
    parts: list[str] = []
    for name, share in notable[:3]:
        part = f"{_describe(name, share, facts)}, {_percent(share)}"
        if len("; ".join([*parts, part])) > MAX_EXPLANATION_CHARS:
            break
        parts.append(part)
    return "; ".join(parts) if parts else TYPICAL_DAY


def _happens(name: str, facts: Mapping[str, float]) -> bool:
    """Whether the driver describes something that happens that day (absence is the norm)."""
    if name == "event":
        attendance = _known(facts.get("event_attendance"))
        return attendance is not None and attendance > 0
    if name == "holiday":
        holiday = _known(facts.get("holiday"))
        return holiday is None or bool(holiday)
    return True


def _few_sales(notable: list[tuple[str, float]], facts: Mapping[str, float]) -> str:
    lowering = [(name, share) for name, share in notable if share < 0]
    if not lowering:
        return FEW_SALES_EXPECTED
    name, share = lowering[0]
    if name == "trend":
        return FEW_SALES_RECENTLY
    if name == "season":
        return FEW_SALES_THIS_TIME_OF_YEAR
    return f"{FEW_SALES_EXPECTED}, {_describe(name, share, facts)}"


def _explanation(row: tuple) -> str:
    if row.model == baseline.MODEL_NAME:
        days = row.history_market_days
        if days == 0:
            return "no sales history at this market yet"
        return (
            f"based on recent sales ({days} past market day{'s' if days > 1 else ''}); "
            "too little history to weigh weather or events"
        )
    facts = {
        "precip_mm": row.precip_mm,
        "temp_max_c": row.temp_max_c,
        "event_attendance": row.event_attendance,
        "units_p50": row.units_p50,
    }
    return explain(json.loads(row.drivers), facts)


def _describe(name: str, share: float, facts: Mapping[str, float]) -> str:
    rain = _known(facts.get("precip_mm"))
    temperature = _known(facts.get("temp_max_c"))
    attendance = _known(facts.get("event_attendance"))
    if name == "rain":
        # Worded by the day's forecast, not by the sign: the sign says how the model weighs rain
        # for this product, and "rain forecast (0 mm)" would read as nonsense.
        if rain is None:
            return "dry forecast" if share > 0 else "rain forecast"
        return "dry forecast" if rain < 1 else f"rain forecast ({rain:.0f} mm)"
    if name == "temperature":
        return "temperature" if temperature is None else f"forecast high {temperature:.0f} °C"
    if name == "event":
        return (
            "event nearby" if not attendance else f"event nearby (~{_about(attendance):,} people)"
        )
    if name == "holiday":
        return "public holiday"
    if name == "season":
        return "busy time of year" if share > 0 else "quiet time of year"
    if name == "trend":
        # The trend driver compares the sales level now with the series' average level.
        return "sales higher than usual lately" if share > 0 else "sales lower than usual lately"
    # A driver this module does not know yet is shown by its name, cut so the first one always
    # fits within MAX_EXPLANATION_CHARS.
    return name.replace("_", " ")[:60]


def _percent(share: float) -> str:
    return f"{'+' if share > 0 else _MINUS}{abs(round(100 * share))} %"


def _known(value: float | None) -> float | None:
    return None if value is None or pd.isna(value) else float(value)


def _about(count: float) -> int:
    """Two significant figures: 8,437 people reads as ~8,400."""
    digits = max(int(math.floor(math.log10(count))) - 1, 0)
    return int(round(count, -digits))
