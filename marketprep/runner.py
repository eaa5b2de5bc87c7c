"""Running the daily job in-process for a logical date, recorded in the local Dagster instance."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg

from marketprep.settings import Settings

RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


@dataclass(frozen=True)
class RunOutcome:
    run_id: str
    success: bool
    failed_steps: list[str]
    failed_checks: list[str]


def prepare_dagster_home(settings: Settings) -> str:
    """Use DAGSTER_HOME when set, else a folder under MARKETPREP_HOME; telemetry off either way."""
    home = os.environ.get("DAGSTER_HOME") or str(settings.home / "dagster")
    os.makedirs(home, exist_ok=True)
    config = os.path.join(home, "dagster.yaml")
    if not os.path.exists(config):
        with open(config, "w") as handle:
            handle.write("telemetry:\n  enabled: false\n")
    os.environ["DAGSTER_HOME"] = home
    return home


def run_daily(
    settings: Settings,
    market_morning: dt.date,
    history_days: int = 1,
    instance: dg.DagsterInstance | None = None,
    log_level: str = "INFO",
    full_refresh: bool = False,
) -> RunOutcome:
    """Plan for `market_morning`: ingest the `history_days` days before it (one run), then everything
    else. dbt rebuilds those days of its incremental models, or all of them with `full_refresh`."""
    from orchestration.definitions import defs
    from orchestration.defs.automation.schedules import DAILY_JOB
    from orchestration.defs.transform.assets import DBT_OP

    if history_days < 1:
        raise ValueError(f"history_days must be at least 1, got {history_days}")
    last = market_morning - dt.timedelta(days=1)
    first = market_morning - dt.timedelta(days=history_days)
    tags = {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
    if instance is None:
        prepare_dagster_home(settings)
        instance = dg.DagsterInstance.get()
    job = defs().resolve_job_def(DAILY_JOB)
    run_config = {
        "loggers": {"console": {"config": {"log_level": log_level}}},
        "ops": {DBT_OP: {"config": {"full_refresh": full_refresh}}},
    }
    result = job.execute_in_process(
        run_config=run_config, instance=instance, tags=tags, raise_on_error=False
    )
    failed_steps = [e.step_key for e in result.all_events if e.is_step_failure and e.step_key]
    failed_checks = errors_among(
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
    )
    return RunOutcome(
        result.run_id, result.success and not failed_checks, failed_steps, failed_checks
    )


def errors_among(evaluations: Iterable[dg.AssetCheckEvaluation]) -> list[str]:
    """`asset:check` of each failed ERROR-severity check. A failed WARN-severity check (a weather
    fallback, unknown events) shows in the Dagster UI but does not fail the run."""
    return [
        f"{e.asset_key.to_user_string()}:{e.check_name}"
        for e in evaluations
        if not e.passed and e.severity == dg.AssetCheckSeverity.ERROR
    ]
