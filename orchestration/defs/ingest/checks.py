"""Blocking checks on the raw layer: bad raw data stops the run before dbt builds on it."""

import datetime as dt

import dagster as dg

from marketprep.ingest import square_state
from orchestration.defs.publish.gates import gate
from orchestration.defs.resources import MarketPrepResource

LINE_ITEMS_HAVE_ORDERS = "line_items_have_orders"
SQUARE_VENDORS_FRESH = "square_vendors_fresh"


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


@dg.asset_check(asset=["raw", "square_orders"], name=SQUARE_VENDORS_FRESH, blocking=True)
def square_vendors_fresh(
    context: dg.AssetCheckExecutionContext, marketprep: MarketPrepResource
) -> dg.AssetCheckResult:
    """Every vendor's Square sync worked. A vendor whose sync failed is a warning while its data
    is under a day old: it is planned from its last good rows. Once its orders are more than 24
    hours old it is held back at publication: its last published recommendations stay, marked
    stale, and the other vendors publish (see gate); all of them stale stops the run."""
    verdicts = square_state.vendor_freshness(marketprep.warehouse, dt.datetime.now(dt.UTC))
    stale = {v.vendor_id: [v.describe()] for v in verdicts if v.verdict == "error"}
    held = gate(context, marketprep, len(verdicts), stale)
    failing = [v.describe() for v in verdicts if v.verdict == "warn"]
    if not failing:
        return held
    return dg.AssetCheckResult(
        passed=False,
        severity=held.severity,
        description="; ".join(
            filter(None, [held.description, "failing, last good data used: " + "; ".join(failing)])
        ),
        metadata={**held.metadata, "vendors_failing": dg.MetadataValue.int(len(failing))},
    )
