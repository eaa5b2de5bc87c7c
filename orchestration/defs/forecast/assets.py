"""Forecast assets: demand distributions per series, then newsvendor recommendations."""

import datetime as dt
import time

import dagster as dg

from data_contracts import contract
from marketprep import planning
from orchestration.defs.ingest.partitions import planning_date
from orchestration.defs.resources import MarketPrepResource

FORECASTS = contract("forecast.demand_forecasts")
RECOMMENDATIONS = contract("forecast.recommendations")


@dg.asset(
    key=["forecast", "demand_forecasts"],
    deps=[["marts", "feature_product_market_day"]],
    group_name="forecast",
    kinds={"python", "prophet"},
)
def demand_forecasts(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × market × product × upcoming market day: quantiles of demand and their drivers."""
    settings = marketprep.settings
    features = planning.load_features(marketprep.warehouse)
    started = time.perf_counter()
    run = planning.forecast(features, settings.default_cost_ratio, settings.forecast_workers)
    seconds = time.perf_counter() - started
    for error in run.errors.itertuples():
        context.log.warning(
            f"no forecast for {error.vendor_id}/{error.market_id}/{error.product_id}: {error.error}"
        )
    rows = run.forecasts.assign(planning_date=planning_date(context), run_id=context.run.run_id)
    written = marketprep.warehouse.replace(FORECASTS, rows)
    series = rows.groupby(["vendor_id", "market_id", "product_id"]).ngroups
    return dg.MaterializeResult(
        metadata={
            "rows": written,
            "series": series,
            "series_failed": len(run.errors),
            "fit_seconds": round(seconds, 1),
            "models": dg.MetadataValue.json(rows["model"].value_counts().to_dict()),
            "first_day": str(rows["market_date"].min()) if written else "",
        }
    )


@dg.asset(
    key=["forecast", "recommendations"],
    deps=[FORECASTS.table.split(".")],
    group_name="forecast",
    kinds={"python"},
)
def recommendations(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × market × market day × product: units to bring, a range and the reasons."""
    warehouse = marketprep.warehouse
    features = planning.load_features(warehouse)
    forecasts = warehouse.query(f"select * from {FORECASTS.table}")
    rows = planning.recommendations(forecasts, features).assign(
        published_at=dt.datetime.now(dt.UTC), run_id=context.run.run_id
    )
    written = warehouse.replace(RECOMMENDATIONS, rows)
    preview = rows.sort_values(["vendor_id", "market_date", "product_name"]).head(10)
    return dg.MaterializeResult(
        metadata={
            "rows": written,
            "vendors": int(rows["vendor_id"].nunique()),
            "total_units": int(rows["recommended_units"].sum()),
            "preview": dg.MetadataValue.md(
                preview[
                    [
                        "vendor_id",
                        "market_date",
                        "product_name",
                        "recommended_units",
                        "units_low",
                        "units_high",
                        "explanation",
                    ]
                ].to_markdown(index=False)
            ),
        }
    )
