"""Alert sensors: failed blocking checks, held-back (stale) vendors and failed runs.

Each sensor observes the current state of its kind of incident, from Dagster's event log or the
warehouse, and hands it to marketprep.alerts.notify, which keeps ops.alerts and sends one alert per
incident and one resolve when it clears (webhook and email). They launch no runs. The cursor
remembers what was last observed, so a tick with nothing new and nothing owed touches nothing.
"""

import datetime as dt
import json
from collections.abc import Callable

import dagster as dg

from marketprep import alert_channels, alerts
from marketprep.vendors import active_vendors
from orchestration.defs.resources import MarketPrepResource

SERVING_KEY = dg.AssetKey(["serving", "recommendations"])
CHECK_FAILED_TRIGGER = "DagsterAssetCheckFailedError"  # a step failed because its check did
INTERVAL_S = 60
RUNNING = [dg.DagsterRunStatus.STARTING, dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING]
Observation = tuple[list[alerts.Incident], set[str]]  # incidents now, keys whose state is unknown


def _alert(
    context: dg.SensorEvaluationContext,
    marketprep: MarketPrepResource,
    kind: str,
    seen: str,
    observe: Callable[[], Observation],
) -> dg.SkipReason:
    cursor = json.loads(context.cursor or "{}")
    if cursor.get("seen") == seen and not cursor.get("owed"):
        return dg.SkipReason("nothing new")
    settings = marketprep.settings
    if settings.warehouse.kind == "duckdb" and context.instance.get_run_records(
        dg.RunsFilter(statuses=RUNNING), limit=1
    ):
        return dg.SkipReason("a run holds the DuckDB warehouse (one writer); alerting after it")
    observed, unknown = observe() if cursor.get("seen") != seen else (None, set())
    warehouse = marketprep.warehouse
    secrets = alert_channels.settings_secrets(settings) + [
        v.square_token for v in active_vendors(warehouse, settings) if v.square_token
    ]
    outcome = alerts.notify(
        warehouse,
        kind,
        observed,
        dt.datetime.now(dt.UTC),
        alert_channels.channels(settings),
        alerts.Limits(
            dt.timedelta(minutes=settings.alert_min_interval_minutes), settings.alert_max_per_hour
        ),
        unknown=unknown,
        secrets=secrets,
    )
    context.update_cursor(json.dumps({"seen": seen, "owed": outcome.waiting}))
    return dg.SkipReason(
        f"opened {outcome.opened}, resolved {outcome.resolved}, sent {outcome.sent}, "
        f"owed {outcome.waiting}"
        + (f", delivery errors {outcome.errors}" if outcome.errors else "")
    )


def _blocking_check_keys(context: dg.SensorEvaluationContext) -> list[dg.AssetCheckKey]:
    graph = context.repository_def.asset_graph
    return sorted(
        (key for key in graph.asset_check_keys if graph.get(key).blocking),
        key=lambda k: k.to_user_string(),
    )


@dg.sensor(minimum_interval_seconds=INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def failed_checks_alerts(
    context: dg.SensorEvaluationContext, marketprep: MarketPrepResource
) -> dg.SkipReason:
    """An incident per blocking check whose latest evaluation failed at error severity (the run
    stopped before publication); it resolves when the check next passes or only warns."""
    keys = _blocking_check_keys(context)
    records = context.instance.event_log_storage.get_latest_asset_check_execution_by_key(keys)
    seen = str(max((r.id for r in records.values()), default=0))

    def observe() -> Observation:
        incidents, unknown = [], set()
        for key, record in records.items():
            name = f"{key.asset_key.to_user_string()}:{key.name}"
            evaluation = record.event.asset_check_evaluation if record.event else None
            if evaluation is None:  # planned, still running or never reached
                unknown.add(f"check_failed:{name}")
            elif not evaluation.passed and evaluation.severity == dg.AssetCheckSeverity.ERROR:
                incidents.append(
                    alerts.Incident(
                        f"check_failed:{name}",
                        "check_failed",
                        f"Blocking check {name} failed: nothing was published",
                        f"{evaluation.description or 'no description'}\nserving.recommendations "
                        "keeps the last published version for every vendor until a run passes "
                        f"this check. Dagster run {record.run_id}.",
                    )
                )
        return incidents, unknown

    return _alert(context, marketprep, "check_failed", seen, observe)


@dg.sensor(minimum_interval_seconds=INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def stale_vendors_alerts(
    context: dg.SensorEvaluationContext, marketprep: MarketPrepResource
) -> dg.SkipReason:
    """After each publication: an incident per failing vendor or market among the vendors held
    back (their recommendations are stale); it resolves when a publication serves them again."""
    latest = context.instance.fetch_materializations(SERVING_KEY, limit=1).records
    seen = str(latest[0].storage_id) if latest else "none"
    return _alert(
        context,
        marketprep,
        "held_back",
        seen,
        lambda: (alerts.held_back_incidents(marketprep.warehouse), set()),
    )


def _failed_steps(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    """Failed steps and their errors, leaving out steps that failed only because their blocking
    check did (failed_checks_alerts owns those)."""
    found = []
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE):
        error = entry.dagster_event.step_failure_data.error
        if error is not None and error.cls_name == CHECK_FAILED_TRIGGER:
            continue
        cause = error.cause if error is not None and error.cause is not None else error
        message = (cause.message.strip().splitlines() or [""])[0][:300] if cause else ""
        found.append(f"{entry.step_key}: {cause.cls_name if cause else 'error'}: {message}")
    return found


@dg.sensor(minimum_interval_seconds=INTERVAL_S, default_status=dg.DefaultSensorStatus.RUNNING)
def failed_runs_alerts(
    context: dg.SensorEvaluationContext, marketprep: MarketPrepResource
) -> dg.SkipReason:
    """An incident per job whose latest finished run failed (other than by a blocking check); it
    resolves when a later run of the job gets through."""
    jobs = sorted(
        j.name for j in context.repository_def.get_all_jobs() if not j.name.startswith("__")
    )
    latest = {}
    for job in jobs:
        records = context.instance.get_run_records(
            dg.RunsFilter(
                job_name=job, statuses=[dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE]
            ),
            limit=1,
        )
        if records:
            latest[job] = records[0].dagster_run
    seen = ",".join(f"{job}={run.run_id}" for job, run in sorted(latest.items()))

    def observe() -> Observation:
        incidents = []
        for job, run in latest.items():
            steps = (
                _failed_steps(context.instance, run.run_id)
                if run.status == dg.DagsterRunStatus.FAILURE
                else []
            )
            if steps:
                incidents.append(
                    alerts.Incident(
                        f"run_failed:{job}",
                        "run_failed",
                        f"Run of {job} failed: nothing was published",
                        "\n".join(f"- {s}" for s in steps)
                        + f"\nserving.recommendations keeps the last published version. "
                        f"Dagster run {run.run_id}.",
                    )
                )
        return incidents, set()

    return _alert(context, marketprep, "run_failed", seen, observe)
