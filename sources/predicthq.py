"""PredictHQ Events API: events near a market (WIRE §5), and their raw.events rows."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sources.http import HttpClient, SourceError
from sources.records import MalformedRecord, rows_by_key
from sources.timeparse import parse_local, parse_rfc3339

DEFAULT_CATEGORIES = (
    "community",
    "festivals",
    "expos",
    "concerts",
    "sports",
    "performing-arts",
    "public-holidays",
    "school-holidays",
    "observances",
    "severe-weather",
)
# Deleted events are fetched too: a cancelled or duplicate event must replace the active row that
# an earlier run stored for it, or the market keeps a phantom festival.
STATES = "active,predicted,deleted"
PAGE_SIZE = 50  # the plan sets the maximum; PredictHQ's own examples page by 50


class PredictHQClient:
    """Radius search over a date window, following `next` until it is null."""

    def __init__(self, base_url: str, token: str, http: HttpClient | None = None) -> None:
        # The trailing slash matters: /v1/events without it is a 404.
        self._url = base_url.rstrip("/") + "/v1/events/"
        self._headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
        self._http = http or HttpClient("predicthq")

    def search(
        self,
        latitude: float,
        longitude: float,
        radius_km: float,
        start: date,
        end: date,
        categories: tuple[str, ...] = DEFAULT_CATEGORIES,
        *,
        timezone: str = "UTC",
        limit: int = PAGE_SIZE,
    ) -> Iterator[dict]:
        """Events active on any day start..end (days read in `timezone`, the market's zone),
        each id once. When PredictHQ flags `overflow` (more results than the plan may page
        through) the window is halved until it is not; a single day that still overflows
        raises SourceError rather than return an incomplete list."""
        if end < start:
            raise ValueError(f"event window ends ({end}) before it starts ({start})")
        if radius_km <= 0:
            raise ValueError(f"radius_km must be positive, got {radius_km}")
        base = {
            "within": f"{_radius(radius_km)}@{latitude:.6f},{longitude:.6f}",
            "active.tz": timezone,
            "category": ",".join(categories),
            "state": STATES,
            # A fixed order keeps offset paging from skipping or repeating as results shift.
            "sort": "id",
            "limit": str(limit),
        }
        yield from self._window(base, start, end, set())

    def _window(
        self, base: dict[str, str], start: date, end: date, seen: set[str]
    ) -> Iterator[dict]:
        page = self._get(base | {"active.gte": start.isoformat(), "active.lte": end.isoformat()})
        if page.get("overflow"):
            if start == end:
                raise SourceError(
                    f"predicthq: GET /v1/events/ overflows for the single day {start} "
                    f"({base['within']}): narrow the radius or the categories",
                    provider="predicthq",
                    status=200,
                    code="OVERFLOW",
                )
            middle = start + (end - start) // 2
            yield from self._window(base, start, middle, seen)
            yield from self._window(base, middle + timedelta(days=1), end, seen)
            return
        while True:
            for event in page["results"]:
                if event.get("id") not in seen:
                    seen.add(event.get("id"))
                    yield event
            next_url = page.get("next")
            if not next_url:
                return
            # Only `next`'s query is used, sent to our own URL, so the token never goes to a
            # host the response named.
            page = self._get(dict(parse_qsl(urlsplit(next_url).query)))

    def _get(self, params: dict[str, str]) -> dict[str, Any]:
        body = self._http.request_json("GET", self._url, params=params, headers=self._headers)
        if not isinstance(body, dict) or not isinstance(body.get("results"), list):
            raise SourceError(
                "predicthq: GET /v1/events/ returned a body without a results list",
                provider="predicthq",
                status=200,
                retryable=True,
                payload=json.dumps(body, ensure_ascii=False),
            )
        return body


def _radius(radius_km: float) -> str:
    # PredictHQ accepts fractional km but its pattern needs a leading 1-9, so < 1 km goes in m.
    if radius_km >= 1:
        return f"{radius_km:.3f}".rstrip("0").rstrip(".") + "km"
    return f"{max(1, round(radius_km * 1000))}m"


def event_rows(
    market_id: str,
    events: Iterable[dict],
    fetched_at: datetime,
    *,
    on_malformed: Callable[[MalformedRecord], None] | None = None,
) -> list[dict]:
    """raw.events rows, one per event id (the last one given wins). A malformed event raises
    MalformedRecord, or, when `on_malformed` is given, is reported there and skipped."""
    return rows_by_key(
        events, lambda event: _event_row(market_id, event, fetched_at), "event_id", on_malformed
    )


def _event_row(market_id: str, event: dict, fetched_at: datetime) -> dict:
    event_id = event.get("id")

    def bad(problem: str) -> MalformedRecord:
        return MalformedRecord("PredictHQ event", event_id, problem)

    for name in ("id", "title", "category", "state", "start"):
        if not isinstance(event.get(name), str) or not event[name]:
            raise bad(f"has no {name}")
    start, end = _local_span(event, bad)
    end_day = end.date()
    # An end at exactly local midnight closes the previous day; that day is the last one.
    if end > start and end.time() == time(0):
        end_day -= timedelta(days=1)
    return {
        "market_id": market_id,
        "event_id": event_id,
        "title": event["title"],
        "category": event["category"],
        "start_date": start.date(),
        "end_date": end_day,
        "attendance": _integer(event, "phq_attendance", bad),
        "rank": _integer(event, "rank", bad),
        "state": event["state"],
        "fetched_at": fetched_at,
    }


def _local_span(event: dict, bad: Callable[[str], MalformedRecord]) -> tuple[datetime, datetime]:
    """Start and end as wall-clock times at the event. With a time zone, `start`/`end` are UTC
    instants; without one (holidays), they are already local and zone-less."""
    zone_name = event.get("timezone")
    end_text = event.get("end") or event["start"]
    try:
        if zone_name:
            zone = ZoneInfo(zone_name)
            start = parse_rfc3339(event["start"]).astimezone(zone)
            end = parse_rfc3339(end_text).astimezone(zone)
        else:
            start, end = parse_local(event["start"]), parse_local(end_text)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise bad(f"has unreadable start/end/timezone: {exc}") from None
    if end < start:
        raise bad(f"ends ({end_text}) before it starts ({event['start']})")
    return start, end


def _integer(event: dict, name: str, bad: Callable[[str], MalformedRecord]) -> int | None:
    value = event.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise bad(f"has {name} {value!r}, expected an integer")
    return value
