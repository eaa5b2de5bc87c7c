"""Loading the sources into raw tables: one module per source, plain Python over clients and warehouse.

Each function replaces exactly what it fetched (idempotent re-runs), and one vendor's or market's
failure is recorded in its SyncResult instead of stopping the others.
"""

from marketprep.ingest.events import sync_events
from marketprep.ingest.feeds import market_sites
from marketprep.ingest.results import SyncResult
from marketprep.ingest.square import (
    sync_square_catalog,
    sync_square_locations,
    sync_square_orders,
)
from marketprep.ingest.weather import sync_weather

__all__ = [
    "SyncResult",
    "market_sites",
    "sync_events",
    "sync_square_catalog",
    "sync_square_locations",
    "sync_square_orders",
    "sync_weather",
]
