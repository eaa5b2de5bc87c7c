"""Blocking checks on the raw layer: bad raw data stops the run before dbt builds on it."""

import datetime as dt

import dagster as dg

from orchestration.defs.ingest.partitions import planning_date
from orchestration.defs.resources import MarketPrepResource

WEATHER_COVERS_HORIZON = "weather_covers_planning_days"
LINE_ITEMS_HAVE_ORDERS = "line_items_have_orders"


@dg.asset_check(asset=["raw", "weather_daily"], name=WEATHER_COVERS_HORIZON, blocking=True)
def weather_covers_planning_days(
    context: dg.AssetCheckExecutionContext, marketprep: MarketPrepResource
) -> dg.AssetCheckResult:
    """Every active market has a temperature for each of the first 7 planned days."""
    first = planning_date(context)
    last = first + dt.timedelta(days=6)
    gaps = marketprep.warehouse.query(
        "select l.market_id, count(distinct w.weather_date) as days "
        "from (select distinct market_id from raw.square_locations where status = 'ACTIVE') l "
        "left join raw.weather_daily w on w.market_id = l.market_id and w.temp_max_c is not null "
        "and w.weather_date between ? and ? group by l.market_id",
        [first, last],
    )
    missing = gaps[gaps["days"] < 7]
    return dg.AssetCheckResult(
        passed=missing.empty,
        severity=dg.AssetCheckSeverity.ERROR,
        description=None
        if missing.empty
        else f"markets without weather for {first}..{last}: "
        + ", ".join(f"{r.market_id} ({r.days}/7 days)" for r in missing.itertuples()),
        metadata={
            "markets": len(gaps),
            "markets_missing_days": len(missing),
            "first_day": str(first),
        },
    )


@dg.asset_check(
    asset=["raw", "square_order_line_items"], name=LINE_ITEMS_HAVE_ORDERS, blocking=True
)
def line_items_have_orders(marketprep: MarketPrepResource) -> dg.AssetCheckResult:
    """Every line item belongs to a loaded order (orders and lines load in one transaction)."""
    orphans = marketprep.warehouse.query(
        "select count(*) as n from raw.square_order_line_items li left join raw.square_orders o "
        "on o.vendor_id = li.vendor_id and o.order_id = li.order_id where o.order_id is null"
    )
    count = int(orphans["n"].iloc[0])
    return dg.AssetCheckResult(passed=count == 0, metadata={"orphan_line_items": count})
