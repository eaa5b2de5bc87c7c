"""Square locations, catalog and orders into raw tables, vendor by vendor."""

from __future__ import annotations

import datetime as dt

from data_contracts import contract
from marketprep.ingest.results import SyncResult, per_subject
from marketprep.settings import Settings
from marketprep.vendors import VendorCredentials, active_vendors
from marketprep.warehouse import Warehouse
from sources.http import SourceError
from sources.square import SquareClient
from sources.square_parse import MalformedRecord, catalog_rows, location_row, order_rows

LOCATIONS = contract("raw.square_locations")
CATALOG = contract("raw.square_catalog")
ORDERS = contract("raw.square_orders")
LINE_ITEMS = contract("raw.square_order_line_items")

# Orders close in local time; a UTC window this much wider on each side catches every local day.
UTC_PADDING = dt.timedelta(hours=15)


def _square(settings: Settings, vendor: VendorCredentials) -> SquareClient:
    if vendor.square_token is None:
        raise SourceError(f"vendor {vendor.vendor_id}: {vendor.problem}", provider="square")
    return SquareClient(settings.square_base_url, vendor.square_token, settings.square_version)


def sync_square_locations(
    warehouse: Warehouse, settings: Settings, now: dt.datetime
) -> list[SyncResult]:
    """Snapshot every vendor's locations; a failed vendor keeps its previous snapshot."""
    by_id = {v.vendor_id: v for v in active_vendors(warehouse, settings)}

    def load(vendor_id: str) -> tuple[int, int]:
        locations = _square(settings, by_id[vendor_id]).list_locations()
        rows = [location_row(vendor_id, location, now) for location in locations]
        return warehouse.replace(LOCATIONS, rows, where="vendor_id = ?", params=[vendor_id]), 0

    return per_subject(by_id, load)


def sync_square_catalog(
    warehouse: Warehouse, settings: Settings, now: dt.datetime
) -> list[SyncResult]:
    """Snapshot every vendor's catalog, plus deleted variations that loaded orders still reference.

    ListCatalog leaves deleted objects out, but old orders name them; BatchRetrieveCatalogObjects
    returns them (is_deleted) so their sales keep a product name and category.
    """
    by_id = {v.vendor_id: v for v in active_vendors(warehouse, settings)}
    referenced = (
        warehouse.query(
            "select distinct vendor_id, catalog_object_id from raw.square_order_line_items "
            "where catalog_object_id is not null"
        )
        if warehouse.table_exists(LINE_ITEMS.table)
        else None
    )

    def load(vendor_id: str) -> tuple[int, int]:
        client = _square(settings, by_id[vendor_id])
        objects = list(client.list_catalog())
        if referenced is not None:
            listed = {o["id"] for o in objects}
            mine = referenced[referenced.vendor_id == vendor_id].catalog_object_id
            missing = sorted(set(mine) - listed)
            if missing:
                objects += [
                    o for o in client.batch_retrieve_catalog(missing) if o["id"] not in listed
                ]
        skipped: list[MalformedRecord] = []
        rows = catalog_rows(vendor_id, objects, now, on_malformed=skipped.append)
        return warehouse.replace(CATALOG, rows, where="vendor_id = ?", params=[vendor_id]), len(
            skipped
        )

    return per_subject(by_id, load)


def sync_square_orders(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
) -> list[SyncResult]:
    """Load the orders closed on local days first_day..last_day, replacing those days per vendor.

    A malformed order is skipped and counted (its payload stays in the vendor's Square account to
    replay); the rest of the vendor's orders still load.
    """
    by_id = {v.vendor_id: v for v in active_vendors(warehouse, settings)}
    locations = warehouse.query("select vendor_id, location_id, timezone from raw.square_locations")

    def load(vendor_id: str) -> tuple[int, int]:
        mine = locations[locations.vendor_id == vendor_id]
        timezones = dict(zip(mine.location_id, mine.timezone, strict=True))
        if not timezones:
            raise SourceError(
                f"vendor {vendor_id}: no Square locations loaded yet", provider="square"
            )
        start = dt.datetime.combine(first_day, dt.time(), dt.UTC) - UTC_PADDING
        end = dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), dt.UTC) + UTC_PADDING
        orders, lines, skipped = [], [], 0
        for order in _square(settings, by_id[vendor_id]).search_orders(
            sorted(timezones), start, end
        ):
            try:
                order_row, line_rows = order_rows(vendor_id, order, timezones, now)
            except MalformedRecord:
                skipped += 1
                continue
            if first_day <= order_row["market_date"] <= last_day:
                orders.append(order_row)
                lines.extend(line_rows)
        where = "vendor_id = ? and market_date between ? and ?"
        params = [vendor_id, first_day, last_day]
        written = warehouse.replace_many(
            [(ORDERS, orders), (LINE_ITEMS, lines)], where=where, params=params
        )
        return written[LINE_ITEMS.table], skipped

    return per_subject(by_id, load)
