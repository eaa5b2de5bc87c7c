"""Audits that decide whether a run's numbers may reach vendors. Each returns the problems found."""

from __future__ import annotations

import pandas as pd

SERIES_DAY = ["vendor_id", "market_id", "product_id", "market_date"]
QUANTILES = ["units_low", "units_p50", "units_high", "units_at_service_level"]


def audit_forecasts(
    forecasts: pd.DataFrame, history_max: pd.DataFrame, jump_factor: float = 5.0
) -> list[str]:
    """No missing or negative quantiles, ordered quantiles, and no implausible jump against history.

    history_max: vendor_id, market_id, product_id, max_units (largest sale of the series so far).
    A median more than `jump_factor` times the series' record (plus a small floor for tiny series)
    is almost surely a model blow-up, not demand.
    """
    problems = []
    missing = forecasts[QUANTILES].isna().any(axis=1)
    if missing.any():
        problems.append(f"{int(missing.sum())} forecast rows have missing quantiles")
    negative = (forecasts[QUANTILES] < 0).any(axis=1)
    if negative.any():
        problems.append(f"{int(negative.sum())} forecast rows have negative quantiles")
    disordered = (forecasts["units_low"] > forecasts["units_p50"] + 1e-9) | (
        forecasts["units_p50"] > forecasts["units_high"] + 1e-9
    )
    if disordered.any():
        problems.append(f"{int(disordered.sum())} forecast rows have low > median or median > high")
    joined = forecasts.merge(history_max, on=["vendor_id", "market_id", "product_id"], how="left")
    jumps = joined[joined["units_p50"] > jump_factor * joined["max_units"].fillna(0) + 10]
    if not jumps.empty:
        example = jumps.iloc[0]
        problems.append(
            f"{len(jumps)} forecasts jump far above history, e.g. {example.vendor_id}/{example.product_id} "
            f"on {example.market_date}: median {example.units_p50:.0f} vs record {example.max_units}"
        )
    return problems


def audit_recommendations(recommendations: pd.DataFrame, expected: pd.DataFrame) -> list[str]:
    """Integers ≥ 0 inside their range, an explanation each, and a row for every expected series day.

    expected: vendor_id, market_id, product_id, market_date of every active product × upcoming market day.
    """
    problems = []
    units = recommendations[["recommended_units", "units_low", "units_high"]]
    if units.isna().any().any():
        problems.append("recommendations have missing units")
        return problems
    if (units["recommended_units"] < 0).any():
        problems.append(
            f"{int((units['recommended_units'] < 0).sum())} recommendations are negative"
        )
    outside = (units["units_low"] > units["recommended_units"]) | (
        units["recommended_units"] > units["units_high"]
    )
    if outside.any():
        problems.append(f"{int(outside.sum())} recommendations fall outside their own range")
    if (recommendations["explanation"].fillna("").str.strip() == "").any():
        problems.append("some recommendations have no explanation")
    key = ["vendor_id", "market_id", "product_id", "market_date"]
    have = recommendations[key].astype(str).drop_duplicates()
    want = expected[key].astype(str).drop_duplicates()
    uncovered = want.merge(have, on=key, how="left", indicator=True)
    uncovered = uncovered[uncovered["_merge"] == "left_only"]
    if not uncovered.empty:
        first = uncovered.iloc[0]
        problems.append(
            f"{len(uncovered)} active product market days have no recommendation, e.g. "
            f"{first.vendor_id}/{first.product_id} at {first.market_id} on {first.market_date}"
        )
    return problems


def forecast_problems_by_vendor(
    forecasts: pd.DataFrame, history_max: pd.DataFrame, jump_factor: float = 5.0
) -> dict[str, list[str]]:
    """`audit_forecasts`, vendor by vendor: vendor_id -> its problems (vendors with none are left out)."""
    found = {}
    for vendor_id, rows in forecasts.groupby("vendor_id", sort=True):
        problems = audit_forecasts(rows, history_max, jump_factor)
        if problems:
            found[str(vendor_id)] = problems
    return found


def recommendation_problems_by_vendor(
    recommendations: pd.DataFrame, expected: pd.DataFrame
) -> dict[str, list[str]]:
    """`audit_recommendations`, vendor by vendor, over every vendor with rows or expected rows."""
    vendors = sorted(set(recommendations["vendor_id"]) | set(expected["vendor_id"]))
    found = {}
    for vendor_id in vendors:
        problems = audit_recommendations(
            recommendations[recommendations["vendor_id"] == vendor_id],
            expected[expected["vendor_id"] == vendor_id],
        )
        if problems:
            found[str(vendor_id)] = problems
    return found
