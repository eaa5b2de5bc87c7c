"""Local events near each market into raw.events, and which source answered into
raw.events_fetch_status.

PredictHQ first (radius, the active window in the market's zone, categories, attendance and
rank; deleted events come too, so a cancellation replaces the stored event); Ticketmaster when
PredictHQ fails or is not configured; when neither answers, the market's days are recorded as
'events unknown' and its stored events are left as they were. A malformed event is quarantined
and the rest still load.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from data_contracts import contract
from marketprep.ingest.feeds import MarketSite, Scoped, market_sites, quarantine, replace_scoped
from marketprep.ingest.results import SyncResult
from marketprep.settings import Settings
from marketprep.warehouse import Warehouse
from sources import predicthq, ticketmaster
from sources.http import SourceError
from sources.records import MalformedRecord

EVENTS = contract("raw.events")
FETCH_STATUS = contract("raw.events_fetch_status")
EVENT_RADIUS_KM = 5.0

Rows = Callable[..., list[dict]]


@dataclass
class _Source:
    """One events provider in the fallback chain; `search` is None when it cannot be asked."""

    name: str
    search: Callable[[MarketSite, dt.date, dt.date], Iterator[dict]] | None
    rows: Rows
    missing: str  # why it cannot be asked, when it cannot


def sync_events(
    warehouse: Warehouse,
    settings: Settings,
    first_day: dt.date,
    last_day: dt.date,
    now: dt.datetime,
) -> list[SyncResult]:
    """Events near each market active on the ingested days or the planned ones."""
    horizon_end = last_day + dt.timedelta(days=settings.horizon_days + 1)
    # dbt reads both tables even before any market has been fetched.
    warehouse.ensure_tables([EVENTS, FETCH_STATUS])
    chain = _chain(settings)
    results = []
    for site in market_sites(warehouse):
        source, rows, problems, skipped = None, [], [], 0
        for candidate in chain:
            if candidate.search is None:
                problems.append(f"{candidate.name}: {candidate.missing}")
                continue
            try:
                found = list(candidate.search(site, first_day, horizon_end))
            except SourceError as exc:
                problems.append(str(exc))
                if exc.payload is not None:
                    quarantine(
                        warehouse, candidate.name, site.market_id, str(exc), exc.payload, now
                    )
                if isinstance(exc, ticketmaster.QuotaExceeded):
                    # Every further call would count against the quota and fail the same way.
                    candidate.search = None
                    candidate.missing = "daily quota exhausted earlier in this run"
                continue
            malformed: list[MalformedRecord] = []
            rows = candidate.rows(site.market_id, found, now, on_malformed=malformed.append)
            _quarantine_events(warehouse, candidate.name, site.market_id, found, malformed, now)
            source, skipped = candidate.name, len(malformed)
            break
        days = (first_day + dt.timedelta(days=n) for n in range((horizon_end - first_day).days + 1))
        status = [
            {
                "market_id": site.market_id,
                "event_date": day,
                "source": source,
                "problem": "; ".join(problems) or None,
                "fetched_at": now,
            }
            for day in days
        ]
        loads = [
            Scoped(
                FETCH_STATUS,
                status,
                "market_id = ? and event_date between ? and ?",
                [site.market_id, first_day, horizon_end],
            )
        ]
        if source is not None:
            loads.append(
                Scoped(
                    EVENTS,
                    rows,
                    "market_id = ? and end_date >= ? and start_date <= ?",
                    [site.market_id, first_day, horizon_end],
                )
            )
        written = replace_scoped(warehouse, loads)
        outcome = {None: "unknown", "predicthq": "ok"}.get(source, "fallback")
        results.append(
            SyncResult(
                site.market_id,
                outcome,
                written.get(EVENTS.table, 0),
                skipped,
                "; ".join(problems) or None,
            )
        )
    return results


def _chain(settings: Settings) -> list[_Source]:
    phq = (
        predicthq.PredictHQClient(settings.events_base_url, settings.events_token)
        if settings.events_token
        else None
    )
    tm = (
        ticketmaster.TicketmasterClient(
            settings.ticketmaster_base_url, settings.ticketmaster_api_key
        )
        if settings.ticketmaster_api_key
        else None
    )

    def search_phq(site: MarketSite, start: dt.date, end: dt.date) -> Iterator[dict]:
        return phq.search(
            site.latitude, site.longitude, EVENT_RADIUS_KM, start, end, timezone=site.timezone
        )

    def search_tm(site: MarketSite, start: dt.date, end: dt.date) -> Iterator[dict]:
        return tm.search(
            site.latitude, site.longitude, EVENT_RADIUS_KM, start, end, timezone=site.timezone
        )

    return [
        _Source(
            "predicthq",
            search_phq if phq else None,
            predicthq.event_rows,
            "MARKETPREP_EVENTS_TOKEN is not set",
        ),
        _Source(
            "ticketmaster",
            search_tm if tm else None,
            ticketmaster.event_rows,
            "MARKETPREP_TICKETMASTER_API_KEY is not set",
        ),
    ]


def _quarantine_events(
    warehouse: Warehouse,
    provider: str,
    market_id: str,
    events: Iterable[dict],
    malformed: list[MalformedRecord],
    now: dt.datetime,
) -> None:
    by_id = {str(event.get("id")): event for event in events}
    for record in malformed:
        event = by_id.get(str(record.record_id), {})
        quarantine(
            warehouse,
            provider,
            market_id,
            str(record),
            json.dumps(event, ensure_ascii=False),
            now,
            record_kind="event",
            record_key=str(record.record_id),
        )
