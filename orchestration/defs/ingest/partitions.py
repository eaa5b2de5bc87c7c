"""Daily partitions: partition D holds what happened on local day D (sales, weather, events)."""

import datetime as dt

import dagster as dg

from marketprep.runner import RANGE_END_TAG, RANGE_START_TAG

# Partition days and the 04:00 schedule follow the markets' Pacific time; markets in other zones
# bucket sales by their own local day inside the partition (see marketprep.ingest).
DAILY = dg.DailyPartitionsDefinition(start_date="2024-01-01", timezone="America/Los_Angeles")

PARTITION_TAG = "dagster/partition"


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


def run_partition_days(
    context: dg.AssetExecutionContext | dg.AssetCheckExecutionContext,
) -> tuple[dt.date, dt.date] | None:
    """First and last day (inclusive) of the partitions the run ingests, read from its tags, for
    the unpartitioned assets downstream (dbt rebuilds those days); None for a run without them."""
    tags = context.run.tags
    last = tags.get(RANGE_END_TAG) or tags.get(PARTITION_TAG)
    if not last:
        return None
    first = tags.get(RANGE_START_TAG) or last
    return dt.date.fromisoformat(first), dt.date.fromisoformat(last)
