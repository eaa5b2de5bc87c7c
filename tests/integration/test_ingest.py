"""Ingestion through the real clients against the sandbox servers, into a real DuckDB file."""

import datetime as dt

import pytest

from marketprep import ingest
from marketprep.vendors import register_vendor
from marketprep.warehouse import Warehouse
from sandbox.simulator import SimConfig, build_world

pytestmark = pytest.mark.integration
NOW = dt.datetime(2025, 7, 1, 12, tzinfo=dt.UTC)
WORLD = build_world(SimConfig(end=dt.date(2025, 7, 1), history_days=60, n_vendors=3))


@pytest.fixture
def loaded(sandboxed):
    """A warehouse with the world's vendors plus one whose Square token was revoked."""
    with sandboxed(WORLD) as (sandbox, warehouse, settings):
        register_vendor(warehouse, settings, "revoked-farm", "Revoked Farm", "not-a-valid-token")
        yield warehouse, settings


def count(warehouse: Warehouse, sql: str) -> int:
    return int(warehouse.query(sql).iloc[0, 0])


def test_one_vendors_bad_token_does_not_stop_the_others(loaded):
    warehouse, settings = loaded
    results = {r.subject: r for r in ingest.sync_square_locations(warehouse, settings, NOW)}
    assert results["revoked-farm"].status == "failed"
    assert "401" in results["revoked-farm"].error or "UNAUTHORIZED" in results["revoked-farm"].error
    assert "not-a-valid-token" not in results["revoked-farm"].error
    for vendor in WORLD.vendors:
        assert results[vendor.vendor_id].status == "ok"
        assert results[vendor.vendor_id].rows == len(vendor.locations)
    loaded_vendors = warehouse.query("select distinct vendor_id from raw.square_locations")
    assert set(loaded_vendors.vendor_id) == {v.vendor_id for v in WORLD.vendors}


def test_orders_reload_replaces_and_catalog_keeps_deleted_products(loaded):
    warehouse, settings = loaded
    ingest.sync_square_locations(warehouse, settings, NOW)
    first, last = dt.date(2025, 5, 2), dt.date(2025, 6, 30)
    ingest.sync_square_orders(warehouse, settings, first, last, NOW)
    lines = count(warehouse, "select count(*) from raw.square_order_line_items")
    orders = count(warehouse, "select count(*) from raw.square_orders")
    # The window covers the whole simulated history: every closed order (canceled ones stay raw,
    # staging leaves them out) is loaded exactly once.
    assert orders == sum(len(v.orders) for v in WORLD.vendors)
    ingest.sync_square_orders(warehouse, settings, first, last, NOW)
    assert count(warehouse, "select count(*) from raw.square_order_line_items") == lines
    assert count(warehouse, "select count(*) from raw.square_orders") == orders

    ingest.sync_square_catalog(warehouse, settings, NOW)
    unnamed = count(
        warehouse,
        "select count(*) from raw.square_order_line_items li left join raw.square_catalog c "
        "on c.vendor_id = li.vendor_id and c.variation_id = li.catalog_object_id "
        "where li.catalog_object_id is not null and c.variation_id is null",
    )
    assert unnamed == 0, "every sold variation, deleted ones included, is in the catalog"
    assert count(warehouse, "select count(*) from raw.square_catalog where is_deleted") >= 1
