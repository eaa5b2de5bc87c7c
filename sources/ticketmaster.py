"""Ticketmaster Discovery v2: ticketed events near a market, the events fallback (WIRE §6).

The API key travels in the query string (`apikey=`), so it is added to the HTTP client's secrets:
errors name the path only, and an error body that echoes the key (the quota fault does) is
scrubbed. Paging is `page`/`size` with a deep-paging cap (page × size must stay under 1000, else
400 DIS1035): a window with more matches than that is split in two, by time, until each half fits.
Ticketmaster has no attendance or rank; cancelled and postponed events become `deleted` rows, so
they replace an earlier active row as PredictHQ's deletions do.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sources import geohash
from sources.http import HttpClient, SourceError
from sources.records import MalformedRecord, rows_by_key

PATH = "/discovery/v2/events.json"
PAGE_SIZE = 200  # the live service's maximum (its 2017 spec says 500; 201 gets DIS1036)
DEPTH_LIMIT = 1000  # page × size must stay below this
MIN_SPLIT = timedelta(hours=1)
PACE_SECONDS = 0.5  # at most 2 requests a second, the lowest documented per-second cap
# Segment (Ticketmaster's top classification) -> the PredictHQ-style category raw.events uses.
CATEGORIES = {
    "Music": "concerts",
    "Sports": "sports",
    "Arts & Theatre": "performing-arts",
    "Film": "performing-arts",
}
OTHER_CATEGORY = "community"
# The 2017 spec spells it "canceled"; WIRE-FORMATS (from later docs) writes "cancelled".
GONE = frozenset({"canceled", "cancelled", "postponed"})


class QuotaExceeded(SourceError):
    """The key's daily quota is used up; Ticketmaster counts every call, so stop asking."""


class TicketmasterClient:
    """Events starting in a date window near a point, each id once, paced and paged."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        http: HttpClient | None = None,
        *,
        page_size: int = PAGE_SIZE,
        depth_limit: int = DEPTH_LIMIT,
    ) -> None:
        if not api_key:
            raise ValueError("MARKETPREP_TICKETMASTER_API_KEY is empty: no key, no fallback")
        self._url = base_url.rstrip("/") + PATH
        self._key = api_key
        self._page_size = page_size
        self._depth_limit = depth_limit
        self._http = http or HttpClient("ticketmaster")
        self._http.secrets = (*self._http.secrets, api_key)
        self._last_call: datetime | None = None

    def search(
        self,
        latitude: float,
        longitude: float,
        radius_km: float,
        start: date,
        end: date,
        *,
        timezone: str = "UTC",
    ) -> Iterator[dict]:
        """Events starting on local days start..end (read in `timezone`, the market's zone)."""
        if end < start:
            raise ValueError(f"event window ends ({end}) before it starts ({start})")
        if radius_km <= 0:
            raise ValueError(f"radius_km must be positive, got {radius_km}")
        zone = ZoneInfo(timezone)
        first = datetime.combine(start, time(0), zone).astimezone(UTC)
        last = datetime.combine(end + timedelta(days=1), time(0), zone).astimezone(UTC)
        base = {
            "apikey": self._key,
            "geoPoint": geohash.encode(latitude, longitude),
            "radius": str(math.ceil(radius_km)),
            "unit": "km",
            "locale": "*",  # events described in other languages are events too
            # A fixed order keeps page boundaries stable while the result set is read.
            "sort": "id,asc",
            "size": str(self._page_size),
        }
        yield from self._window(base, first, last - timedelta(seconds=1), set())

    def _window(
        self, base: dict[str, str], first: datetime, last: datetime, seen: set[str]
    ) -> Iterator[dict]:
        window = base | {"startDateTime": _stamp(first), "endDateTime": _stamp(last)}
        page = self._get(window | {"page": "0"})
        total = page["page"]["totalElements"]
        if total > reachable(self._page_size, self._depth_limit):
            if last - first <= MIN_SPLIT:
                raise SourceError(
                    f"ticketmaster: GET {PATH} finds {total} events between {_stamp(first)} and "
                    f"{_stamp(last)}, more than paging can reach: narrow the radius",
                    provider="ticketmaster",
                    status=200,
                    code="TOO_MANY_EVENTS",
                )
            middle = (first + (last - first) / 2).replace(microsecond=0)
            yield from self._window(base, first, middle, seen)
            yield from self._window(base, middle + timedelta(seconds=1), last, seen)
            return
        while True:
            for event in page.get("_embedded", {}).get("events", []):
                if event.get("id") not in seen:
                    seen.add(event.get("id"))
                    yield event
            number, pages = page["page"]["number"], page["page"]["totalPages"]
            if number + 1 >= pages:
                return
            page = self._get(window | {"page": str(number + 1)})

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        if self._last_call is not None:
            wait = PACE_SECONDS - (self._http.clock() - self._last_call).total_seconds()
            if wait > 0:
                self._http.sleep(wait)
        try:
            return self._http.request_json(
                "GET", self._url, params=params, throttle_hint=throttle_delay, check=_check_page
            )
        finally:
            self._last_call = self._http.clock()


def reachable(size: int, depth_limit: int = DEPTH_LIMIT) -> int:
    """How many results paging can reach: pages 0..n with n × size < depth_limit."""
    return ((depth_limit - 1) // size + 1) * size


def _stamp(moment: datetime) -> str:
    # Exactly YYYY-MM-DDTHH:mm:ssZ: milliseconds or an offset get 400 DIS1015.
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _check_page(body: Any) -> None:
    """A page must say where it is; without `page` the body is cut short or not a search."""
    page = body.get("page") if isinstance(body, dict) else None
    fields = ("size", "totalElements", "totalPages", "number")
    if not isinstance(page, dict) or not all(isinstance(page.get(f), int) for f in fields):
        raise SourceError(
            f"ticketmaster: GET {PATH} returned a body without a page object",
            provider="ticketmaster",
            status=200,
            retryable=True,
            payload=str(body)[:10_000],
        )
    if "_embedded" not in body:
        return  # nothing matched: Ticketmaster leaves `_embedded` out
    embedded = body["_embedded"]
    events = embedded.get("events") if isinstance(embedded, dict) else None
    if not isinstance(events, list):
        raise SourceError(
            f"ticketmaster: GET {PATH} returned _embedded.events that is not a list",
            provider="ticketmaster",
            status=200,
            payload=str(body)[:10_000],
        )


def throttle_delay(fault: str | None, now: datetime) -> float | None:
    """A quota violation cannot be waited out within a run (4xx carry no Rate-Limit-Reset to
    wait for); a spike arrest clears within seconds."""
    text = (fault or "").lower()
    if "quota" in text:
        raise QuotaExceeded(
            f"ticketmaster: daily quota of the API key exhausted ({fault}): events fall back "
            "until it resets",
            provider="ticketmaster",
            status=429,
            code="QUOTA",
        )
    if "spike" in text:
        return 2.0
    return None


def event_rows(
    market_id: str,
    events: Iterable[dict],
    fetched_at: datetime,
    *,
    on_malformed: Callable[[MalformedRecord], None] | None = None,
) -> list[dict]:
    """raw.events rows, one per event id. A malformed event raises MalformedRecord, or, when
    `on_malformed` is given, is reported there and skipped."""
    return rows_by_key(
        events, lambda event: _event_row(market_id, event, fetched_at), "event_id", on_malformed
    )


def _event_row(market_id: str, event: dict, fetched_at: datetime) -> dict:
    event_id = event.get("id")

    def bad(problem: str) -> MalformedRecord:
        return MalformedRecord("Ticketmaster event", event_id, problem)

    for name in ("id", "name"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise bad(f"has no {name}")
    dates = event.get("dates") if isinstance(event.get("dates"), dict) else {}
    try:
        start = date.fromisoformat(dates["start"]["localDate"])
        end_text = (dates.get("end") or {}).get("localDate")
        end = date.fromisoformat(end_text) if end_text else start
    except (KeyError, TypeError, ValueError) as exc:
        raise bad(f"has no readable dates.start.localDate / dates.end.localDate: {exc}") from None
    if end < start:
        raise bad(f"ends ({end}) before it starts ({start})")
    status = ((dates.get("status") or {}).get("code") or "").lower()
    return {
        "market_id": market_id,
        "event_id": event_id,
        "title": event["name"],
        "category": CATEGORIES.get(_segment(event), OTHER_CATEGORY),
        "start_date": start,
        "end_date": end,
        "attendance": None,  # Ticketmaster publishes no attendance or capacity
        "rank": None,
        "state": "deleted" if status in GONE else "active",
        "fetched_at": fetched_at,
    }


def _segment(event: dict) -> str | None:
    classifications = event.get("classifications") or []
    primary = next((c for c in classifications if c.get("primary")), None)
    chosen = primary or (classifications[0] if classifications else {})
    return (chosen.get("segment") or {}).get("name")
