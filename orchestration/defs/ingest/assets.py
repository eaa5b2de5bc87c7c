"""Ingest assets: Square, weather and events into `raw.*` through the real HTTP clients."""

import datetime as dt

import dagster as dg

from data_contracts import contract
from marketprep import ingest
from marketprep.calendar import load_schedule_overrides
from marketprep.holidays import holiday_rows
from marketprep.ingest import square_state
from orchestration.defs.ingest.partitions import DAILY, planning_date, window_days
from orchestration.defs.resources import MarketPrepResource
from sources.open_meteo import DailyLimitExceeded

# Flaky I/O gets Dagster retries on top of the clients' own bounded retries.
SOURCE_RETRY = dg.RetryPolicy(
    max_retries=2, delay=5, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
SINGLE_RUN = dg.BackfillPolicy.single_run()
# Source data must land by 06:00 on the market morning, from a run that started that night; the
# partitions' time zone is the markets' (a policy has one zone per asset: each market's own
# deadline is the contract's freshness rule, audited per market by the matches_contract checks).
SOURCE_FRESHNESS = dg.FreshnessPolicy.cron(
    deadline_cron="0 6 * * *", lower_bound_delta=dt.timedelta(hours=6), timezone=DAILY.timezone
)
SCHEDULE_OVERRIDES = contract("raw.market_schedule_overrides")
PUBLIC_HOLIDAYS = contract("raw.public_holidays")


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


def _square_loaded(
    results: list[ingest.SyncResult],
    marketprep: MarketPrepResource,
    stream: str,
    **extra: str,
) -> dict[str, dg.MetadataValue]:
    """`_loaded` plus each vendor's sync state (mode, watermark, quarantine, exclusions, error
    code) from raw.square_sync_state: what an analyst checks when one vendor looks stale."""
    metadata = _loaded(results, f"square {stream}", **extra)
    states = square_state.status_table(marketprep.warehouse, [r.subject for r in results], stream)
    columns = [
        "vendor_id",
        "status",
        "mode",
        "watermark",
        "last_success_at",
        "rows_loaded",
        "quarantined",
        "lines_excluded",
        "error_code",
    ]
    table = "| " + " | ".join(columns) + " |\n|" + "---|" * len(columns) + "\n"
    table += "\n".join(
        "| " + " | ".join("" if row[c] is None else str(row[c]) for c in columns) + " |"
        for row in states
    )
    return metadata | {
        "vendors": dg.MetadataValue.md(table),
        "vendors_failed": dg.MetadataValue.int(sum(r["status"] == "failed" for r in states)),
        "quarantined": dg.MetadataValue.int(sum(int(r["quarantined"]) for r in states)),
    }


@dg.asset(
    key=["raw", "square_locations"],
    group_name="ingest",
    kinds={"python", "square"},
    retry_policy=SOURCE_RETRY,
    freshness_policy=SOURCE_FRESHNESS,
)
def square_locations(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × Square location; each location is the vendor's stall at one market."""
    results = ingest.sync_square_locations(
        marketprep.warehouse, marketprep.settings, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(metadata=_square_loaded(results, marketprep, "locations"))


@dg.asset(
    key=["raw", "square_catalog"],
    deps=[["raw", "square_order_line_items"]],
    group_name="ingest",
    kinds={"python", "square"},
    retry_policy=SOURCE_RETRY,
    freshness_policy=SOURCE_FRESHNESS,
)
def square_catalog(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per vendor × catalog item variation (the product a vendor sells and we forecast)."""
    results = ingest.sync_square_catalog(
        marketprep.warehouse, marketprep.settings, dt.datetime.now(dt.UTC)
    )
    return dg.MaterializeResult(metadata=_square_loaded(results, marketprep, "catalog"))


SQUARE_ORDER_TABLES = {
    "square_orders": "One row per vendor × Square order (any closed state), newest version, "
    "raw payload kept for replay.",
    "square_order_line_items": "One row per line item of a Square order, as sold.",
    "square_order_returns": "One row per returned line item, naming the sale line it takes back.",
    "square_sync_state": "One row per vendor × Square stream: last sync, watermark, failures.",
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", table],
            deps=[["raw", "square_locations"]],
            group_name="ingest",
            kinds={"python", "square"},
            freshness_policy=SOURCE_FRESHNESS,
            description=description,
        )
        for table, description in SQUARE_ORDER_TABLES.items()
    ],
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
)
def square_orders(context: dg.AssetExecutionContext, marketprep: MarketPrepResource):
    """Each vendor's orders: incremental on UPDATED_AT from its watermark (the daily run), or the
    CLOSED_AT window of older partitions (a backfill); see marketprep.ingest.square."""
    first_day, last_day = window_days(context)
    results = ingest.sync_square_orders(
        marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
    )
    metadata = _square_loaded(
        results, marketprep, "orders", first_day=str(first_day), last_day=str(last_day)
    )
    for table in SQUARE_ORDER_TABLES:
        yield dg.MaterializeResult(asset_key=["raw", table], metadata=metadata)


@dg.asset(
    key=["raw", "weather_daily"],
    deps=[["raw", "square_locations"]],
    group_name="ingest",
    kinds={"python", "open_meteo", "nws"},
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
    freshness_policy=SOURCE_FRESHNESS,
)
def weather_daily(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per market × local day × source: Open-Meteo archive for the partitions, a forecast
    for the days ahead (Open-Meteo, else NWS for US markets; else dbt falls back to climatology)."""
    first_day, last_day = window_days(context)
    try:
        results = ingest.sync_weather(
            marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
        )
    except DailyLimitExceeded as exc:
        # Retrying before the quota resets only spends more of tomorrow's: stop, say when.
        raise dg.Failure(description=str(exc), allow_retries=False) from exc
    metadata = _loaded(results, "weather_daily", planning_date=str(planning_date(context)))
    fell_back = sum(r.status == "fallback" for r in results)
    return dg.MaterializeResult(metadata=metadata | {"markets_fell_back": fell_back})


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["raw", "events"],
            deps=[["raw", "square_locations"]],
            group_name="ingest",
            kinds={"python", "predicthq", "ticketmaster"},
            freshness_policy=SOURCE_FRESHNESS,
            description="One row per market × nearby event active during the partitions or the "
            "days ahead (PredictHQ, else Ticketmaster).",
        ),
        dg.AssetSpec(
            ["raw", "events_fetch_status"],
            deps=[["raw", "square_locations"]],
            group_name="ingest",
            kinds={"python", "predicthq", "ticketmaster"},
            freshness_policy=SOURCE_FRESHNESS,
            description="One row per market × local day: which events source answered, or none "
            "(events unknown).",
        ),
    ],
    partitions_def=DAILY,
    backfill_policy=SINGLE_RUN,
    retry_policy=SOURCE_RETRY,
)
def events(context: dg.AssetExecutionContext, marketprep: MarketPrepResource):
    """Events near each market, down the chain PredictHQ, Ticketmaster, unknown."""
    first_day, last_day = window_days(context)
    results = ingest.sync_events(
        marketprep.warehouse, marketprep.settings, first_day, last_day, dt.datetime.now(dt.UTC)
    )
    metadata = _loaded(results, "events") | {
        "markets_fell_back": sum(r.status == "fallback" for r in results),
        "markets_unknown": sum(r.status == "unknown" for r in results),
    }
    yield dg.MaterializeResult(asset_key=["raw", "events"], metadata=metadata)
    yield dg.MaterializeResult(asset_key=["raw", "events_fetch_status"], metadata=metadata)


@dg.asset(key=["raw", "market_schedule_overrides"], group_name="ingest", kinds={"python", "yaml"})
def market_schedule_overrides(marketprep: MarketPrepResource) -> dg.MaterializeResult:
    """One row per market × schedule rule from MARKETPREP_MARKET_SCHEDULE_FILE (none when unset)."""
    settings = marketprep.settings
    path = settings.market_schedule_file
    rows = load_schedule_overrides(path, dt.datetime.now(dt.UTC)) if path else []
    written = marketprep.warehouse.replace(SCHEDULE_OVERRIDES, rows)
    return dg.MaterializeResult(
        metadata={
            "rows_written": dg.MetadataValue.int(written),
            "markets": dg.MetadataValue.int(len({r["market_id"] for r in rows})),
            "file": dg.MetadataValue.text(path or "(MARKETPREP_MARKET_SCHEDULE_FILE not set)"),
        }
    )


@dg.asset(
    key=["raw", "public_holidays"],
    deps=[["raw", "square_locations"]],
    group_name="ingest",
    kinds={"python"},
)
def public_holidays(
    context: dg.AssetExecutionContext, marketprep: MarketPrepResource
) -> dg.MaterializeResult:
    """One row per country × public holiday for the markets' countries, from the first year of
    sales through the year after the planning date. A country the calendar does not know is named
    in the metadata and gets no holidays; the others still load."""
    warehouse = marketprep.warehouse
    countries = warehouse.query("select distinct country from raw.square_locations")["country"]
    planned = planning_date(context)
    first_year = planned.year
    if warehouse.table_exists("raw.square_orders"):
        years = warehouse.query("select min(market_date) as first_day from raw.square_orders")
        first_day = years["first_day"].dropna()
        first_year = min(first_year, first_day.iloc[0].year) if len(first_day) else first_year
    loaded = holiday_rows(countries, first_year, planned.year + 1, dt.datetime.now(dt.UTC))
    if loaded.unknown_countries:
        context.log.warning(
            "no public holidays known for %s: their markets' days count as ordinary days",
            ", ".join(loaded.unknown_countries),
        )
    written = warehouse.replace(PUBLIC_HOLIDAYS, loaded.rows)
    return dg.MaterializeResult(
        metadata={
            "rows_written": dg.MetadataValue.int(written),
            "years": dg.MetadataValue.text(f"{first_year}–{planned.year + 1}"),
            "unknown_countries": dg.MetadataValue.text(", ".join(loaded.unknown_countries)),
        }
    )
