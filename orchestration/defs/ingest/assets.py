"""Ingest assets: Square, weather and events into `raw.*` through the real HTTP clients."""

import datetime as dt

import dagster as dg

from marketprep import ingest
from orchestration.defs.ingest.partitions import DAILY, planning_date, window_days
from orchestration.defs.resources import MarketPrepResource

# Flaky I/O gets Dagster retries on top of the clients' own bounded retries.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
SINGLE_RUN = dg.BackfillPolicy.single_run()


def _metadata(results: list[ingest.SyncResult]) -> dict[str, dg.MetadataValue]:
    failed = [r for r in results if r.status == "failed"]
    table = "| subject | status | rows | skipped | error |\n|---|---|---|---|---|\n" + "\n".join(
        f"| {r.subject} | {r.status} | {r.rows} | {r.skipped} | {r.error or ''} |" for r in results
    )
    return {
        "rows_written": dg.MetadataValue.int(sum(r.rows for r in results)),
        "records_skipped": dg.MetadataValue.int(sum(r.skipped for r in results)),
        "failed": dg.MetadataValue.int(len(failed)),
        "status": dg.MetadataValue.md(table),
    }


def _loaded(
    results: list[ingest.SyncResult], what: str, **extra: str
) -> dict[str, dg.MetadataValue]:
    """Metadata of a load; every subject failing is an outage, not one bad vendor, so the step
    fails and its retry policy applies."""
    if results and all(r.status == "failed" for r in results):
        raise dg.Failure(f"{what}: every load failed; first error: {results[0].error}")
    return _metadata(results) | {
        name: dg.MetadataValue.text(value) for name, value in extra.items()
    }


@dg.asset(
    key=["raw", "square_locations"],
    group_name="ingest",
    kinds={"python", "square"},
    retry_policy=SOURCE_RETRY,
)
def square_locations(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × Square location; each location is the vendor's stall at one market."""
    results = ingest.sync_square_locations(
        marketprep.warehouse, marketprep.settings, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(metadata=_loaded(results, "square_locations"))


@dg.asset(
    key=["raw", "square_catalog"],
    deps=[["raw", "square_order_line_items"]],
    group_name="ingest",
    kinds={"python", "square"},
    retry_policy=SOURCE_RETRY,
)
def square_catalog(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × catalog item variation (the product a vendor sells and we forecast)."""
    results = ingest.sync_square_catalog(
        marketprep.warehouse, marketprep.settings, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(metadata=_loaded(results, "square_catalog"))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "square_orders"],
            deps=[["raw", "square_locations"]],
            group_name="ingest",
            kinds={"python", "square"},
            description="One row per vendor × Square order, raw payload kept.",
        ),
        dg.AssetSpec(
            ["raw", "square_order_line_items"],
            deps=[["raw", "square_locations"]],
            group_name="ingest",
            kinds={"python", "square"},
            description="One row per line item of a Square order.",
        ),
    ],
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
)
def square_orders(context: dg.AssetExecutionContext, marketprep: MarketPrepResource):
    """Orders closed on the partitions' local days, with their line items."""
    first_day, last_day = window_days(context)
    results = ingest.sync_square_orders(
        marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
    )
    metadata = _loaded(results, "square_orders", first_day=str(first_day), last_day=str(last_day))
    yield dg.MaterializeResult(asset_key=["raw", "square_orders"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw", "square_order_line_items"], metadata=metadata)


@dg.asset(
    key=["raw", "weather_daily"],
    deps=[["raw", "square_locations"]],
    group_name="ingest",
    kinds={"python", "open_meteo"},
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
)
def weather_daily(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per market × local day × source: archive for the partitions, forecast for the days ahead."""
    first_day, last_day = window_days(context)
    results = ingest.sync_weather(
        marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(
        metadata=_loaded(results, "weather_daily", planning_date=str(planning_date(context)))
    )


@dg.asset(
    key=["raw", "events"],
    deps=[["raw", "square_locations"]],
    group_name="ingest",
    kinds={"python", "predicthq"},
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
)
def events(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per market × nearby event active during the partitions or the days ahead."""
    first_day, last_day = window_days(context)
    results = ingest.sync_events(
        marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(metadata=_loaded(results, "events"))
