"""The daily job and its schedule: everything, for yesterday's partition, early in the morning."""

import dagster as dg

from orchestration.defs.ingest.partitions import DAILY
from orchestration.environment import current_environment

DAILY_JOB = "marketprep_daily"


@dg.definitions
def automation() -> dg.Definitions:
    environment = current_environment()
    job = dg.define_asset_job(
        DAILY_JOB,
        selection=dg.AssetSelection.all(),
        partitions_def=DAILY,
        executor_def=environment.executor,
        description="Ingest yesterday, rebuild the features, forecast, audit and publish.",
    )
    schedule = dg.build_schedule_from_partitioned_job(
        job,
        hour_of_day=4,
        minute_of_hour=0,
        name=f"{DAILY_JOB}_schedule",
        default_status=dg.DefaultScheduleStatus.RUNNING,
    )
    return dg.Definitions(jobs=[job], schedules=[schedule])
