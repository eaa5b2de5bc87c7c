"""Local events near each market into raw.events."""

from __future__ import annotations

import datetime as dt

from data_contracts import contract
from marketprep.ingest.results import SyncResult, per_subject
from marketprep.ingest.weather import market_points
from marketprep.settings import Settings
from marketprep.warehouse import Warehouse
from sources.predicthq import PredictHQClient, event_rows
from sources.square_parse import MalformedRecord

EVENTS = contract("raw.events")
EVENT_RADIUS_KM = 5.0


def sync_events(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
) -> list[SyncResult]:
    """Events near each market active on the ingested days or the planned ones; deletions remove them."""
    if not settings.events_token:
        return [SyncResult("all markets", "skipped", error="MARKETPREP_EVENTS_TOKEN is not set")]
    client = PredictHQClient(settings.events_base_url, settings.events_token)
    points = {p.market_id: p for p in market_points(warehouse)}
    horizon_end = last_day + dt.timedelta(days=settings.horizon_days + 1)

    def load(market_id: str) -> tuple[int, int]:
        point = points[market_id]
        events = client.search(
            point.latitude,
            point.longitude,
            EVENT_RADIUS_KM,
            first_day,
            horizon_end,
            timezone=point.timezone,
        )
        skipped: list[MalformedRecord] = []
        rows = event_rows(market_id, events, now, on_malformed=skipped.append)
        written = warehouse.replace_many(
            [(EVENTS, rows)],
            where="market_id = ? and end_date >= ? and start_date <= ?",
            params=[market_id, first_day, horizon_end],
        )
        return written[EVENTS.table], len(skipped)

    return per_subject(points, load)
