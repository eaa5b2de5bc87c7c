"""Daily partitions: partition D holds what happened on local day D (sales, weather, events)."""

import datetime as dt

import dagster as dg

# Partition days and the 04:00 schedule follow the markets' Pacific time; markets in other zones
# bucket sales by their own local day inside the partition (see marketprep.ingest).
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/Los_Angeles")

PARTITION_TAG = "dagster/partition"
RANGE_END_TAG = "dagster/asset_partition_range_end"


def planning_date(context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext) -> dt.date:
    """The first upcoming market day this run plans for: the day after the last partition it ingests.

    Unpartitioned assets (dbt, forecasts, publish) read it from the run's partition tags, so every
    asset in one run agrees on it; a run with no partition plans from today (UTC).
    """
    tags = context.run.tags
    last = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if last:
        return dt.date.fromisoformat(last) + dt.timedelta(days=1)
    return dt.datetime.now(dt.UTC).date()


def window_days(context: dg.AssetExecutionContext) -> tuple[dt.date, dt.date]:
    """First and last local day (inclusive) of the partitions this run materializes."""
    window = context.partition_time_window
    return window.start.date(), window.end.date() - dt.timedelta(days=1)
