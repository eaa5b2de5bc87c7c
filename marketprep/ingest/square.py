"""Square locations, catalog and orders into raw tables, vendor by vendor.

Each vendor has its own token and its own state row per stream (raw.square_sync_state). A vendor
whose call fails (a revoked token, Square down for it) is recorded as failed and keeps its last
good rows; the other vendors load. A record that cannot become a row is quarantined with its
reason (raw.square_quarantine) and the rest load.

Orders come in two ways, per vendor:
- incremental: every order whose UPDATED_AT lies between the vendor's watermark minus 72 hours
  (orders taken offline reach Square up to 72 hours late) and now. This is the daily run.
- backfill: every order whose CLOSED_AT lies in the run's partitions (local days, so padded by
  the widest UTC offset), for partitions older than the incremental window reaches, or for a
  vendor without a watermark yet (which the backfill then sets).
Both upsert by order id and version, so either can be re-run; the watermark moves only after the
whole window has loaded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import queue
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Any, TypeVar

from data_contracts import contract
from marketprep.ingest.results import SyncResult, per_subject
from marketprep.ingest.square_orders import (
    LINE_ITEMS,
    ORDERS,
    QUARANTINE,
    RETURNS,
    LoadStats,
    clear_loaded_from_quarantine,
    load_orders,
    quarantine_row,
    retry_quarantined,
)
from marketprep.ingest.square_state import (
    STATE_KEY,
    SYNC_STATE,
    explain,
    read_state,
    record_failure,
    record_success,
    success_row,
)
from marketprep.settings import Settings
from marketprep.vendors import VendorCredentials, active_vendors
from marketprep.warehouse import Warehouse, to_arrow
from sources.http import HttpClient, SourceError
from sources.records import MalformedRecord
from sources.square import SquareClient
from sources.square_parse import catalog_rows, location_row

LOCATIONS = contract("raw.square_locations")
CATALOG = contract("raw.square_catalog")

# Square's own figure for how late an order taken offline can arrive; the window reaches back
# at least this far behind the watermark.
OVERLAP = dt.timedelta(hours=72)
# Orders close in local time; a UTC window this much wider on each side catches every local day.
UTC_PADDING = dt.timedelta(hours=15)

HttpFactory = Callable[[], HttpClient]
Sync = TypeVar("Sync", bound=Callable[..., list[SyncResult]])


def _one_connection(sync: Sync) -> Sync:
    """Run a sync over one warehouse connection: it makes many small transactions per vendor."""

    @functools.wraps(sync)
    def wrapper(warehouse: Warehouse, *args: Any, **kwargs: Any) -> list[SyncResult]:
        with warehouse.connected():
            return sync(warehouse, *args, **kwargs)

    return wrapper  # type: ignore[return-value]


def _square(
    settings: Settings, vendor: VendorCredentials, http: HttpFactory | None
) -> SquareClient:
    if vendor.square_token is None:
        raise SourceError(f"vendor {vendor.vendor_id}: {vendor.problem}", provider="square")
    return SquareClient(
        settings.square_base_url,
        vendor.square_token,
        settings.square_version,
        http=http() if http else None,
    )


def _per_vendor(
    warehouse: Warehouse,
    vendors: dict[str, VendorCredentials],
    stream: str,
    now: dt.datetime,
    load: Callable[[VendorCredentials], tuple[int, int]],
) -> list[SyncResult]:
    """Run `load` for each vendor; a SourceError is recorded in that vendor's state row and its
    SyncResult, with advice when the token is the problem, and the next vendor goes on."""

    def one(vendor_id: str) -> tuple[int, int]:
        try:
            return load(vendors[vendor_id])
        except SourceError as exc:
            explained = SourceError(
                explain(exc, vendor_id),
                provider=exc.provider,
                status=exc.status,
                code=exc.code,
                retryable=exc.retryable,
            )
            record_failure(warehouse, vendor_id, stream, now, explained)
            raise explained from exc

    return per_subject(vendors, one)


def _quarantine_snapshot(
    warehouse: Warehouse,
    vendor_id: str,
    kind: str,
    errors: list[MalformedRecord],
    now: dt.datetime,
) -> None:
    """Locations and the catalog are snapshots, so their quarantine is too: what failed this
    time replaces what failed last time, and a record that loads now leaves it."""
    rows = [quarantine_row(vendor_id, kind, e, "square_api", now) for e in errors]
    warehouse.replace(
        QUARANTINE, rows, where="vendor_id = ? and record_kind = ?", params=[vendor_id, kind]
    )


@_one_connection
def sync_square_locations(
    warehouse: Warehouse, settings: Settings, now: dt.datetime, *, http: HttpFactory | None = None
) -> list[SyncResult]:
    """Snapshot every vendor's locations; a failed vendor keeps its previous snapshot. A location
    that cannot be placed (no coordinates, no time zone) is quarantined, and so, until it is
    fixed in Square, are the orders taken there."""
    vendors = {v.vendor_id: v for v in active_vendors(warehouse, settings)}

    def load(vendor: VendorCredentials) -> tuple[int, int]:
        client = _square(settings, vendor, http)
        try:
            locations = client.list_locations()
        finally:
            client.close()
        rows, bad = [], []
        for location in locations:
            try:
                rows.append(location_row(vendor.vendor_id, location, now))
            except MalformedRecord as exc:
                bad.append(exc)
        written = warehouse.replace(
            LOCATIONS, rows, where="vendor_id = ?", params=[vendor.vendor_id]
        )
        _quarantine_snapshot(warehouse, vendor.vendor_id, "location", bad, now)
        record_success(
            warehouse, vendor.vendor_id, "locations", now, rows=written, quarantined=len(bad)
        )
        return written, len(bad)

    return _per_vendor(warehouse, vendors, "locations", now, load)


@_one_connection
def sync_square_catalog(
    warehouse: Warehouse, settings: Settings, now: dt.datetime, *, http: HttpFactory | None = None
) -> list[SyncResult]:
    """Snapshot every vendor's catalog, plus deleted variations that loaded orders still reference.

    ListCatalog leaves deleted objects out, but old orders name them; BatchRetrieveCatalogObjects
    returns them (is_deleted) so their sales keep a product name and category.
    """
    vendors = {v.vendor_id: v for v in active_vendors(warehouse, settings)}
    warehouse.ensure_tables([LINE_ITEMS, RETURNS])
    referenced = warehouse.query(
        "select distinct vendor_id, catalog_object_id from raw.square_order_line_items "
        "where catalog_object_id is not null union "
        "select distinct vendor_id, catalog_object_id from raw.square_order_returns "
        "where catalog_object_id is not null"
    )

    def load(vendor: VendorCredentials) -> tuple[int, int]:
        client = _square(settings, vendor, http)
        try:
            objects = list(client.list_catalog())
            listed = {o.get("id") for o in objects if isinstance(o, dict)}
            mine = referenced[referenced.vendor_id == vendor.vendor_id].catalog_object_id
            missing = sorted(set(mine) - listed)
            if missing:
                objects += [
                    o
                    for o in client.batch_retrieve_catalog(missing)
                    if not isinstance(o, dict) or o.get("id") not in listed
                ]
        finally:
            client.close()
        bad: list[MalformedRecord] = []
        rows = catalog_rows(vendor.vendor_id, objects, now, on_malformed=bad.append)
        written = warehouse.replace(CATALOG, rows, where="vendor_id = ?", params=[vendor.vendor_id])
        _quarantine_snapshot(warehouse, vendor.vendor_id, "catalog_variation", bad, now)
        record_success(
            warehouse, vendor.vendor_id, "catalog", now, rows=written, quarantined=len(bad)
        )
        return written, len(bad)

    return _per_vendor(warehouse, vendors, "catalog", now, load)


def prefetched(pages: Iterator[list[dict]]) -> Iterator[list[dict]]:
    """The same pages, the next one fetched on a thread while this one is parsed: Square's
    answer (or the network) takes as long as parsing a page, so the two overlap. One page
    waits at most; an error fetching one is raised here, where the page would have been."""
    handoff: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=1)
    stop = threading.Event()

    def fetch() -> None:
        try:
            for page in pages:
                if stop.is_set():
                    return
                handoff.put(("page", page))
            handoff.put(("end", None))
        except BaseException as exc:  # handed to the consuming thread to raise
            handoff.put(("error", exc))

    worker = threading.Thread(target=fetch, name="square-pages", daemon=True)
    worker.start()
    try:
        while True:
            kind, value = handoff.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        stop.set()
        # Unblock a fetcher waiting to hand over a page nobody will read.
        with contextlib.suppress(queue.Empty):
            handoff.get_nowait()
        worker.join()


@dataclass(frozen=True)
class OrderWindow:
    """One SearchOrders window: `field` (UPDATED_AT or CLOSED_AT) in [start, end]."""

    mode: str  # incremental or backfill
    field: str
    start: dt.datetime
    end: dt.datetime


def plan_windows(
    watermark: dt.datetime | None, first_day: dt.date, last_day: dt.date, now: dt.datetime
) -> list[OrderWindow]:
    """What one vendor's orders sync reads for the partitions first_day..last_day.

    The incremental window covers every partition from its start (watermark − 72 h) on, so
    only partitions older than that, or a vendor that has never synced, need the CLOSED_AT
    backfill; a run spanning both (a long history run) reads both, and upserts make the
    overlap harmless.
    """
    days_start = dt.datetime.combine(first_day, dt.time(), dt.UTC) - UTC_PADDING
    days_end = min(
        dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(), dt.UTC) + UTC_PADDING, now
    )
    windows = []
    reach = watermark - OVERLAP if watermark is not None else None
    if (reach is None or days_start < reach) and days_start < days_end:
        windows.append(OrderWindow("backfill", "CLOSED_AT", days_start, days_end))
    if reach is not None and days_end >= reach:
        windows.append(OrderWindow("incremental", "UPDATED_AT", reach, now))
    return windows


def next_watermark(watermark: dt.datetime | None, windows: list[OrderWindow]) -> dt.datetime | None:
    """After every window loaded: the end of the incremental window, or, for a first sync,
    the end of the backfill (every order updated by then and closed in it is loaded, since an
    order closes no later than its last update)."""
    for window in windows:
        if window.mode == "incremental":
            return window.end
    if watermark is None and windows:
        return windows[0].end
    return watermark


@_one_connection
def sync_square_orders(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
    *,
    http: HttpFactory | None = None,
    batch_orders: int | None = None,
) -> list[SyncResult]:
    """Sync each vendor's orders for the partitions first_day..last_day (see the module doc)."""
    vendors = {v.vendor_id: v for v in active_vendors(warehouse, settings)}
    # dbt reads every one of these, even when no vendor has a row for it yet.
    warehouse.ensure_tables([LOCATIONS, ORDERS, LINE_ITEMS, RETURNS, QUARANTINE, SYNC_STATE])
    locations = warehouse.query("select vendor_id, location_id, timezone from raw.square_locations")
    # Orders at a location that could not load are fetched anyway, to wait in quarantine until
    # it does: otherwise they would fall behind the incremental window and never be read.
    unplaced = warehouse.query(
        "select vendor_id, record_key as location_id from raw.square_quarantine "
        "where record_kind = 'location'"
    )
    options = {"batch_orders": batch_orders} if batch_orders else {}

    def load(vendor: VendorCredentials) -> tuple[int, int]:
        mine = locations[locations.vendor_id == vendor.vendor_id]
        timezones = dict(zip(mine.location_id, mine.timezone, strict=True))
        if not timezones:
            raise SourceError(
                f"vendor {vendor.vendor_id}: no Square locations loaded yet; the locations "
                "sync must succeed for it first",
                provider="square",
            )
        searched = sorted(
            set(timezones) | set(unplaced[unplaced.vendor_id == vendor.vendor_id].location_id)
        )
        state = read_state(warehouse, vendor.vendor_id, "orders")
        watermark = state["watermark"] if state else None
        windows = plan_windows(watermark, first_day, last_day, now)
        stats = LoadStats()
        client = _square(settings, vendor, http)
        try:
            for window in windows:
                pages = client.search_order_pages(
                    searched, window.start, window.end, field=window.field, decoded=False
                )
                stats.add(
                    load_orders(
                        warehouse,
                        vendor.vendor_id,
                        chain.from_iterable(prefetched(pages)),
                        timezones,
                        now,
                        **options,
                    )
                )
        finally:
            client.close()
        retried = retry_quarantined(warehouse, vendor.vendor_id, timezones, now)
        stats.add(retried)
        # The whole window has loaded: only now may the watermark move.
        with warehouse.session() as session:
            clear_loaded_from_quarantine(session, vendor.vendor_id)
            held = session.query(
                "select count(*) as n from raw.square_quarantine where vendor_id = ? "
                "and record_kind = 'order'",
                [vendor.vendor_id],
            )
            row = success_row(
                vendor.vendor_id,
                "orders",
                now,
                rows=stats.orders,
                quarantined=int(held["n"].iloc[0]),
                stats=stats,
                watermark=next_watermark(watermark, windows),
                mode="+".join(w.mode for w in windows),
                window=(min(w.start for w in windows), max(w.end for w in windows))
                if windows
                else None,
            )
            session.upsert([(SYNC_STATE, to_arrow(SYNC_STATE, [row]))], key=STATE_KEY)
        return stats.lines, stats.quarantined - retried.quarantined

    return _per_vendor(warehouse, vendors, "orders", now, load)
