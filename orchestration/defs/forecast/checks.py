"""Blocking checks on forecasts and recommendations: nothing implausible reaches serving.

A vendor whose forecasts or recommendations fail is held back (its last published rows stay);
when every vendor fails, the check fails at error severity and nothing is published (see gate).
"""

import dagster as dg

from marketprep.audit import forecast_problems_by_vendor, recommendation_problems_by_vendor
from orchestration.defs.publish.gates import gate
from orchestration.defs.resources import MarketPrepResource

FORECASTS_SANE = "forecasts_sane"
RECOMMENDATIONS_VALID = "recommendations_valid"

HISTORY_MAX_SQL = (
    "select vendor_id, market_id, product_id, max(units_sold) as max_units "
    "from marts.feature_product_market_day where not is_future group by vendor_id, market_id, product_id"
)
EXPECTED_SQL = "select vendor_id, market_id, product_id, market_date from marts.feature_product_market_day where is_future"


@dg.asset_check(asset=["forecast", "demand_forecasts"], name=FORECASTS_SANE, blocking=True)
def forecasts_sane(
    context: dg.AssetCheckExecutionContext, marketprep: MarketPrepResource
) -> dg.AssetCheckResult:
    """No missing values, no negatives, ordered quantiles, no implausible jump against history."""
    warehouse = marketprep.warehouse
    forecasts = warehouse.query("select * from forecast.demand_forecasts")
    history_max = warehouse.query(HISTORY_MAX_SQL).astype({"max_units": "float64"})
    return gate(
        context, marketprep, len(forecasts), forecast_problems_by_vendor(forecasts, history_max)
    )


@dg.asset_check(asset=["forecast", "recommendations"], name=RECOMMENDATIONS_VALID, blocking=True)
def recommendations_valid(
    context: dg.AssetCheckExecutionContext, marketprep: MarketPrepResource
) -> dg.AssetCheckResult:
    """Integers ≥ 0 within their range, explained, one for every active product × upcoming market day."""
    warehouse = marketprep.warehouse
    recommendations = warehouse.query("select * from forecast.recommendations")
    problems = recommendation_problems_by_vendor(recommendations, warehouse.query(EXPECTED_SQL))
    return gate(context, marketprep, len(recommendations), problems)
