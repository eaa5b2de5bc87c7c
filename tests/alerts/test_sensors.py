"""The alert sensors' own logic (the bad-data cases in tests/integration/test_quality_gates.py
drive them end to end): they stay off a DuckDB warehouse a run is writing to, and a tick with
nothing new touches nothing."""

from __future__ import annotations

import dagster as dg
import pytest
from dagster._core.test_utils import create_run_for_test

from orchestration.definitions import defs
from orchestration.defs.automation.sensors import failed_runs_alerts, stale_vendors_alerts
from orchestration.defs.resources import MarketPrepResource


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'warehouse.duckdb'}")
    monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
    return tmp_path / "warehouse.duckdb"


def evaluate(sensor, instance, cursor=None) -> tuple[str, str | None]:
    context = dg.build_sensor_context(
        instance=instance,
        cursor=cursor,
        definitions=defs(),
        resources={"marketprep": MarketPrepResource()},
    )
    return sensor(context).skip_message, context.cursor


def test_sensor_waits_while_a_run_holds_the_duckdb_warehouse(env):
    with dg.instance_for_test() as instance:
        create_run_for_test(
            instance, job_name="marketprep_daily", status=dg.DagsterRunStatus.STARTED
        )

        message, cursor = evaluate(failed_runs_alerts, instance)

    assert "holds the DuckDB warehouse" in message
    assert cursor is None  # evaluated again on the next tick
    assert not env.exists()  # the warehouse was not opened


def test_nothing_new_touches_nothing(env):
    with dg.instance_for_test() as instance:
        first, cursor = evaluate(stale_vendors_alerts, instance)
        env.unlink()
        second, _ = evaluate(stale_vendors_alerts, instance, cursor)

    assert first.startswith("opened [], resolved []")
    assert second == "nothing new"
    assert not env.exists()
