"""The Square ingest assets and their freshness check, materialized by Dagster against the fake
Square: per-vendor status in the metadata (never a token); a vendor's failure is a warning while
its data is under a day old (it is still planned for), then it is held back at publication."""

from __future__ import annotations

import datetime as dt

import dagster as dg
import pytest

from marketprep.settings import load_settings
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from orchestration.defs.ingest.assets import square_locations, square_orders
from orchestration.defs.ingest.checks import SQUARE_VENDORS_FRESH, square_vendors_fresh
from orchestration.defs.resources import MarketPrepResource
from sandbox.servers import start_square
from sandbox.simulator import SimConfig, build_world

pytestmark = pytest.mark.integration
CONFIG = SimConfig(end=dt.date(2025, 7, 1), history_days=14, n_vendors=2)
PARTITION = "2025-06-30"


def run(instance: dg.DagsterInstance) -> dg.ExecuteInProcessResult:
    return dg.materialize(
        [square_locations, square_orders, square_vendors_fresh],
        resources={"marketprep": MarketPrepResource()},
        partition_key=PARTITION,
        instance=instance,
        raise_on_error=False,
    )


def check(result: dg.ExecuteInProcessResult) -> dg.AssetCheckEvaluation:
    (evaluation,) = [
        e for e in result.get_asset_check_evaluations() if e.check_name == SQUARE_VENDORS_FRESH
    ]
    return evaluation


def everything_said(result: dg.ExecuteInProcessResult) -> str:
    """Every metadata value and description the run recorded, as text."""
    said = []
    for event in result.get_asset_materialization_events():
        said += [str(v.value) for v in event.materialization.metadata.values()]
    for evaluation in result.get_asset_check_evaluations():
        said += [str(v.value) for v in evaluation.metadata.values()]
        said.append(evaluation.description or "")
    return "\n".join(said)


def test_one_vendors_revoked_token_is_a_warning_then_an_error_once_its_data_is_stale(
    tmp_path, monkeypatch
):
    world = build_world(CONFIG)
    instance = dg.DagsterInstance.ephemeral()
    with start_square(world) as square:
        monkeypatch.setenv("MARKETPREP_SQUARE_BASE_URL", square.url)
        monkeypatch.setenv("MARKETPREP_WAREHOUSE_URL", f"duckdb:///{tmp_path / 'wh.duckdb'}")
        monkeypatch.setenv("MARKETPREP_HOME", str(tmp_path / "home"))
        settings = load_settings()
        warehouse = Warehouse(settings.warehouse)
        for vendor in world.vendors:
            register_vendor(warehouse, settings, vendor.vendor_id, vendor.name, vendor.access_token)
        revoked, other = world.vendors

        healthy = run(instance)
        assert healthy.success and check(healthy).passed

        square.app.revoke(revoked.access_token, "ACCESS_TOKEN_REVOKED")
        warned = run(instance)

        assert warned.success  # the other vendor loaded: the asset is materialized
        metadata = warned.asset_materializations_for_node("square_orders")[0].metadata
        table = metadata["vendors"].value
        assert f"| {revoked.vendor_id} | failed |" in table and "ACCESS_TOKEN_REVOKED" in table
        assert f"| {other.vendor_id} | ok |" in table
        assert metadata["vendors_failed"].value == 1
        evaluation = check(warned)
        assert (evaluation.passed, evaluation.severity) == (False, dg.AssetCheckSeverity.WARN)
        assert "ACCESS_TOKEN_REVOKED" in evaluation.description
        assert evaluation.metadata["vendors_failing"].value == 1
        assert evaluation.metadata["vendors_held_back"].value == []  # still planned for
        said = everything_said(healthy) + everything_said(warned)
        assert all(vendor.access_token not in said for vendor in world.vendors)

        # The revoked vendor's last good data ages past a day: now it is held back at
        # publication, and the other vendor still publishes.
        with warehouse.session() as session:
            session.execute(
                "update raw.square_sync_state set last_success_at = last_success_at - "
                "interval 25 hours where vendor_id = ?",
                [revoked.vendor_id],
            )
        stale = run(instance)
        evaluation = check(stale)
        assert not evaluation.passed
        assert evaluation.metadata["vendors_held_back"].value == [revoked.vendor_id]
        assert "last good orders 25 h ago" in evaluation.description
