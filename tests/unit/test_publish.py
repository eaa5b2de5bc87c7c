"""Write-audit-publish on both backends: vendors with findings keep their previous rows (stale,
with the reason), the others get the new ones, and every version lands in the history."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import pandas as pd
import pytest

from data_contracts import contract
from marketprep.publish import publish
from marketprep.warehouse import Warehouse, to_arrow

STAGING = contract("forecast.recommendations")
FINDINGS = contract("ops.check_findings")
MONDAY = dt.date(2026, 6, 1)
NOW = dt.datetime(2026, 6, 1, 11, 0, tzinfo=dt.UTC)


def staged_rows(
    units: int, vendors=("ann", "bob", "cid"), days=(MONDAY, MONDAY + dt.timedelta(days=6))
):
    """Two products per vendor per day, every recommendation `units`."""
    return pd.DataFrame(
        [
            {
                "vendor_id": vendor,
                "market_id": "ballard",
                "market_date": day,
                "product_id": f"{vendor}-p{i}",
                "product_name": f"Product {i}",
                "recommended_units": units,
                "units_low": max(units - 2, 0),
                "units_high": units + 2,
                "service_level": 0.8,
                "model": "prophet",
                "explanation": "usual day",
                "published_at": NOW,
                "run_id": "staging",
            }
            for vendor in vendors
            for day in days
            for i in (1, 2)
        ]
    )


def stage(warehouse: Warehouse, units: int, **kwargs) -> None:
    warehouse.replace(STAGING, staged_rows(units, **kwargs))


def find(warehouse: Warehouse, *findings: tuple[str, str, str]) -> None:
    """Replace every finding: (vendor_id, subject, reason) of one check."""
    warehouse.replace(
        FINDINGS,
        [
            {
                "check_key": "raw/square_orders:matches_contract",
                "vendor_id": vendor,
                "subject": subject,
                "reason": reason,
                "run_id": "r",
                "checked_at": NOW,
            }
            for vendor, subject, reason in findings
        ],
    )


def serving(warehouse: Warehouse) -> pd.DataFrame:
    return warehouse.query(
        "select * from serving.recommendations order by vendor_id, market_date, product_id"
    )


def units_by_vendor(warehouse: Warehouse) -> dict[str, set[int]]:
    rows = serving(warehouse)
    return {v: set(g["recommended_units"]) for v, g in rows.groupby("vendor_id")}


def test_first_publication_serves_every_clean_vendor(warehouse):
    stage(warehouse, 10)

    publication = publish(warehouse, "run-1", MONDAY, NOW)

    assert publication.version == 1
    assert publication.published == ("ann", "bob", "cid")
    assert publication.held_back == ()
    rows = serving(warehouse)
    assert list(rows.columns) == contract("serving.recommendations").column_names
    assert len(rows) == 12 and not rows["is_stale"].any()
    assert set(rows["run_id"]) == {"run-1"}


def test_vendor_with_findings_keeps_previous_rows_marked_stale(warehouse):
    stage(warehouse, 10)
    publish(warehouse, "run-1", MONDAY, NOW)
    stage(warehouse, 20)
    find(warehouse, ("bob", "vendor:bob", "raw.square_catalog not refreshed by the last load"))

    publication = publish(warehouse, "run-2", MONDAY, NOW + dt.timedelta(days=1))

    assert units_by_vendor(warehouse) == {"ann": {20}, "bob": {10}, "cid": {20}}
    rows = serving(warehouse)
    bob = rows[rows["vendor_id"] == "bob"]
    assert bob["is_stale"].all() and set(bob["run_id"]) == {"run-1"}
    assert set(bob["stale_reason"]) == {"raw.square_catalog not refreshed by the last load"}
    assert not rows[rows["vendor_id"] != "bob"]["is_stale"].any()
    assert publication.published == ("ann", "cid")
    [held] = publication.held_back
    assert (held.vendor_id, held.rows_kept) == ("bob", 4)
    status = warehouse.query("select * from serving.vendor_status order by vendor_id")
    assert list(status["status"]) == ["published", "held_back", "published"]
    assert status.set_index("vendor_id").loc["bob", "reason"].startswith("raw.square_catalog")


def test_held_back_vendor_keeps_only_upcoming_days_and_its_first_stale_time(warehouse):
    stage(warehouse, 10)
    publish(warehouse, "run-1", MONDAY, NOW)
    find(warehouse, ("bob", "market:ballard", "weather stale"))
    first = publish(warehouse, "run-2", MONDAY + dt.timedelta(days=1), NOW + dt.timedelta(days=1))
    second = publish(warehouse, "run-3", MONDAY + dt.timedelta(days=2), NOW + dt.timedelta(days=2))

    rows = serving(warehouse)
    bob_days = set(pd.to_datetime(rows[rows["vendor_id"] == "bob"]["market_date"]).dt.date)
    assert bob_days == {MONDAY + dt.timedelta(days=6)}  # Monday is past; Sunday is still ahead
    assert (
        first.held_back[0].stale_since
        == second.held_back[0].stale_since
        == NOW + dt.timedelta(days=1)
    )


def test_every_version_is_kept_whole_in_history(warehouse):
    stage(warehouse, 10)
    publish(warehouse, "run-1", MONDAY, NOW)
    stage(warehouse, 20)
    find(warehouse, ("cid", "vendor:cid", "negative forecasts"))
    publish(warehouse, "run-2", MONDAY, NOW)

    history = warehouse.query(
        "select version, vendor_id, min(recommended_units) as units, count(*) as n "
        "from serving.recommendation_history group by version, vendor_id order by version, vendor_id"
    )
    assert history.values.tolist() == [
        [1, "ann", 10, 4],
        [1, "bob", 10, 4],
        [1, "cid", 10, 4],
        [2, "ann", 20, 4],
        [2, "bob", 20, 4],
        [2, "cid", 10, 4],
    ]
    publications = warehouse.query(
        "select version, rows, vendors_held_back from serving.publications order by version"
    )
    assert publications["version"].tolist() == [1, 2]
    assert "negative forecasts" in publications["vendors_held_back"].iloc[1]


def test_vendor_that_recovers_is_published_again(warehouse):
    stage(warehouse, 10)
    publish(warehouse, "run-1", MONDAY, NOW)
    find(warehouse, ("ann", "vendor:ann", "token revoked"))
    stage(warehouse, 20)
    publish(warehouse, "run-2", MONDAY, NOW)
    find(warehouse)
    stage(warehouse, 30)

    publication = publish(warehouse, "run-3", MONDAY, NOW)

    assert publication.held_back == ()
    assert units_by_vendor(warehouse) == {"ann": {30}, "bob": {30}, "cid": {30}}
    assert not serving(warehouse)["is_stale"].any()


def test_failure_inside_the_transaction_leaves_the_previous_version(warehouse):
    stage(warehouse, 10)
    publish(warehouse, "run-1", MONDAY, NOW)
    stage(warehouse, 20)

    def crash() -> None:
        raise RuntimeError("disk full")

    with pytest.raises(RuntimeError, match="disk full"):
        publish(warehouse, "run-2", MONDAY, NOW, before_commit=crash)

    assert units_by_vendor(warehouse) == {"ann": {10}, "bob": {10}, "cid": {10}}
    assert warehouse.query("select max(version) as v from serving.publications")["v"].iloc[0] == 1
    assert warehouse.query("select distinct version from serving.recommendation_history")[
        "version"
    ].tolist() == [1]


def test_serving_table_of_the_older_contract_is_migrated(warehouse):
    """Before the quality gates, serving had exactly the staging columns (no is_stale)."""
    with warehouse.session() as session:
        session.ensure_table(replace(STAGING, table="serving.recommendations"))
        session.insert("serving.recommendations", to_arrow(STAGING, staged_rows(7)))
    stage(warehouse, 9)
    find(warehouse, ("ann", "vendor:ann", "held"))

    publish(warehouse, "run-1", MONDAY, NOW)

    assert units_by_vendor(warehouse) == {"ann": {7}, "bob": {9}, "cid": {9}}
    assert list(serving(warehouse).columns) == contract("serving.recommendations").column_names


def test_nothing_staged_names_the_asset_to_run(duckdb_warehouse):
    with pytest.raises(LookupError, match="materialize forecast/recommendations"):
        publish(duckdb_warehouse, "run-1", MONDAY, NOW)
