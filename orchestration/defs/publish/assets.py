"""Publication: the audited recommendations replace `serving.recommendations` in one transaction."""

import datetime as dt

import dagster as dg

from data_contracts import contract
from orchestration.defs.resources import MarketPrepResource

SERVING = contract("serving.recommendations")


@dg.asset(
    key=["serving", "recommendations"],
    deps=[["forecast", "recommendations"]],
    group_name="publish",
    kinds={"python"},
)
def serving_recommendations(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """What vendors read: one row per vendor × market × market day × product.

    Runs only after every upstream blocking check passed; readers see the previous rows until the
    swap commits.
    """
    warehouse = marketprep.warehouse
    staged = warehouse.query("select * from forecast.recommendations")
    published_at = dt.datetime.now(dt.UTC)
    written = warehouse.replace(
        SERVING, staged.assign(published_at=published_at, run_id=context.run.run_id)
    )
    return dg.MaterializeResult(
        metadata={
            "rows": written,
            "vendors_published": dg.MetadataValue.json(
                sorted(staged["vendor_id"].unique().tolist())
            ),
            "published_at": published_at.isoformat(),
        }
    )
