"""Forecast assets: demand distributions per series, then newsvendor recommendations."""

import datetime as dt
import time

import dagster as dg
import pandas as pd

from data_contracts import contract
from marketprep import planning
from orchestration.defs.ingest.partitions import planning_date
from orchestration.defs.resources import MarketPrepResource

FEEDBACK = contract("raw.vendor_feedback")
FORECASTS = contract("forecast.demand_forecasts")
RECOMMENDATIONS = contract("forecast.recommendations")


@dg.asset(key=FEEDBACK.table.split("."), group_name="ingest", kinds={"python", "csv"})
def vendor_feedback(marketprep: MarketPrepResource) -> dg.MaterializeResult:
    """One row per vendor × market × product × market day a vendor reported on (units brought,
    sold, sold out). `marketprep feedback import FILE.csv` writes the rows; this asset makes sure
    the table exists for dbt and reports what it holds."""
    warehouse = marketprep.warehouse
    warehouse.ensure_tables([FEEDBACK])
    held = warehouse.query(
        f"select count(*) as n, max(market_date) as last_day from {FEEDBACK.table}"
    ).iloc[0]
    return dg.MaterializeResult(
        metadata={
            "rows": int(held["n"]),
            "last_day": "" if pd.isna(held["last_day"]) else str(held["last_day"]),
        }
    )


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
    warehouse = marketprep.warehouse
    features = planning.load_features(warehouse)
    previous = planning.load_previous_forecasts(warehouse, FORECASTS.table)
    started = time.perf_counter()
    run = planning.forecast(
        features, settings.default_cost_ratio, settings.forecast_workers, previous
    )
    seconds = time.perf_counter() - started
    for error in run.errors.itertuples():
        context.log.warning(
            f"no forecast for {error.vendor_id}/{error.market_id}/{error.product_id}: {error.error}"
        )
    rows = run.forecasts.assign(planning_date=planning_date(context), run_id=context.run.run_id)
    written = warehouse.replace(FORECASTS, rows)
    series = rows.groupby(["vendor_id", "market_id", "product_id"]).ngroups
    models = rows.drop_duplicates(["vendor_id", "market_id", "product_id"])["model"]
    # Floats, so the UI plots each figure across materializations.
    accuracy = {
        name: dg.MetadataValue.float(float(value))
        for name, value in planning.backtest_metrics(rows).items()
    }
    return dg.MaterializeResult(
        metadata={
            "rows": written,
            "series": series,
            "series_failed": len(run.errors),
            "series_refitted": series - run.reused,
            "series_reused": run.reused,
            "fit_seconds": dg.MetadataValue.float(round(seconds, 1)),
            "models": dg.MetadataValue.json(models.value_counts().to_dict()),
            "first_day": str(rows["market_date"].min()) if written else "",
            **accuracy,
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
