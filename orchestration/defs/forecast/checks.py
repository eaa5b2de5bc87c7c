"""Blocking checks on forecasts and recommendations: nothing implausible reaches serving."""

import dagster as dg

from marketprep.audit import audit_forecasts, audit_recommendations
from orchestration.defs.resources import MarketPrepResource

FORECASTS_SANE = "forecasts_sane"
RECOMMENDATIONS_VALID = "recommendations_valid"

HISTORY_MAX_SQL = (
    "select vendor_id, market_id, product_id, max(units_sold) as max_units "
    "from marts.feature_product_market_day where not is_future group by vendor_id, market_id, product_id"
)
EXPECTED_SQL = "select vendor_id, market_id, product_id, market_date from marts.feature_product_market_day where is_future"


def _result(problems: list[str], checked: int) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) or None,
        metadata={"rows_checked": checked, "problems": len(problems)},
    )


@dg.asset_check(asset=["forecast", "demand_forecasts"], name=FORECASTS_SANE, blocking=True)
def forecasts_sane(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """No missing values, no negatives, ordered quantiles, no implausible jump against history."""
    warehouse = marketprep.warehouse
    forecasts = warehouse.query("select * from forecast.demand_forecasts")
    history_max = warehouse.query(HISTORY_MAX_SQL).astype({"max_units": "float64"})
    return _result(audit_forecasts(forecasts, history_max), len(forecasts))


@dg.asset_check(asset=["forecast", "recommendations"], name=RECOMMENDATIONS_VALID, blocking=True)
def recommendations_valid(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """Integers ≥ 0 within their range, explained, one for every active product × upcoming market day."""
    warehouse = marketprep.warehouse
    recommendations = warehouse.query("select * from forecast.recommendations")
    return _result(
        audit_recommendations(recommendations, warehouse.query(EXPECTED_SQL)), len(recommendations)
    )
