"""A snapshot of the asset graph (keys, deps, checks, jobs, schedules, sensors), so graph changes show in review.

Regenerate after an intended change: `UPDATE_SNAPSHOTS=1 uv run pytest tests/unit/test_asset_graph.py`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import dagster as dg

from orchestration.definitions import defs

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"


def graph_snapshot(definitions: dg.Definitions) -> dict:
    graph = definitions.resolve_asset_graph()
    checks: dict[dg.AssetKey, list[str]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks.setdefault(check_key.asset_key, []).append(
            f"{spec.name}{' (blocking)' if spec.blocking else ''}"
        )
    assets = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        assets[key.to_user_string()] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "partitioned": node.partitions_def is not None,
            "group": node.group_name,
            "checks": sorted(checks.get(key, [])),
        }
    repository = definitions.get_repository_def()
    return {
        "assets": assets,
        "jobs": sorted(
            job.name for job in definitions.resolve_all_job_defs() if not job.name.startswith("__")
        ),
        "schedules": sorted(
            f"{s.name} {s.cron_schedule} {s.execution_timezone}" for s in repository.schedule_defs
        ),
        "sensors": sorted(s.name for s in repository.sensor_defs),
    }


def test_asset_graph_matches_snapshot():
    current = graph_snapshot(defs())
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.parent.mkdir(exist_ok=True)
        SNAPSHOT.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n")
    assert current == json.loads(SNAPSHOT.read_text())


def test_lineage_runs_unbroken_from_square_to_serving():
    graph = defs().resolve_asset_graph()
    upstream = graph.get_ancestor_asset_keys(dg.AssetKey(["serving", "recommendations"]))
    for source in (
        "square_locations",
        "square_catalog",
        "square_orders",
        "square_order_line_items",
        "weather_daily",
        "events",
    ):
        assert dg.AssetKey(["raw", source]) in upstream, f"raw/{source} is not upstream of serving"
