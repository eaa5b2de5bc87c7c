"""Fake PredictHQ Events API: `GET /v1/events/` (with the trailing slash; without it, 404).

Bearer token fixed at start-up. Filters: `within={r}{m|km|ft|mi}@{lat},{lon}` (country-wide
events such as holidays match any point in their country, as PredictHQ's parent-scope results
do), `active.gte`/`active.lte` (+ `active.tz`, default UTC; an event matches if it overlaps the
window), `start.*`, `updated.gte`, `category`, `state` (default `active`, as the spec says;
deleted events only when asked for), `rank.gte`, `local_rank.gte`, `phq_attendance.gte`,
`country`, `id`, `sort` (default `-start`), `limit` (default 10) and `offset`. The response is
`{count, overflow, next, previous, results}` with absolute `next`/`previous` URLs on the host the
client called; past `max_results` (the plan's cap) `overflow` is true and paging stops.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.geo import distance_km
from sandbox.world import World

PATH = "/v1/events/"
DEFAULT_LIMIT = 10
WITHIN = re.compile(
    r"^(?:(?:(?P<r1>[1-9]\d*(?:\.\d+)?)(?P<u1>km|mi))|(?:(?P<r2>[1-9]\d*)(?P<u2>m|ft)))"
    r"@(?P<lat>-?\d+(?:\.\d+)?),(?P<lon>-?\d+(?:\.\d+)?)$"
)  # the spec's pattern, with groups
KM_PER_UNIT = {"km": 1.0, "mi": 1.609344, "m": 0.001, "ft": 0.0003048}
CATEGORIES = frozenset(
    [
        "academic",
        "school-holidays",
        "public-holidays",
        "observances",
        "politics",
        "conferences",
        "expos",
        "concerts",
        "festivals",
        "performing-arts",
        "sports",
        "community",
        "daylight-savings",
        "airport-delays",
        "severe-weather",
        "disasters",
        "terror",
        "health-warnings",
    ]
)
STATES = frozenset({"active", "deleted", "predicted"})
COUNTRY_BOXES = {"US": (18.0, 72.0, -180.0, -60.0)}  # rough (lat, lat, lon, lon) of a country
STANDARD_ERRORS = {
    400: "Invalid request.",
    401: "Authorization required",
    402: "Your subscription has expired.",
    403: "Bearer token scope insufficient",
    404: "Not Found",
    405: "Method not allowed",
    429: "Rate limit exceeded. Please slow down your requests.",
    500: "Internal server error",
}


class PredictHQError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def error_body(status: int) -> Reply:
    """PredictHQ's `{"error": ...}`; gateway errors (502–504) come back as HTML pages."""
    if status in (502, 503, 504):
        phrase = HTTPStatus(status).phrase
        return Reply(status, f"<html><body><h1>{status} {phrase}</h1></body></html>")
    return Reply(status, {"error": STANDARD_ERRORS.get(status, STANDARD_ERRORS[500])})


def _instant(text: str, zone: dt.tzinfo) -> dt.datetime:
    """An event or filter time as an aware datetime; zone-less text is read in `zone`."""
    moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _bound(query: dict[str, str], name: str, zone: dt.tzinfo, upper: bool) -> dt.datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        if len(raw) == 10:  # a whole day: the lower bound starts it, the upper bound ends it
            day = dt.date.fromisoformat(raw)
            moment = dt.datetime.combine(day, dt.time.max if upper else dt.time.min)
        else:
            moment = dt.datetime.fromisoformat(raw)
    except ValueError:
        raise PredictHQError(
            400, f"Invalid {name}. Expected format YYYY-MM-DD or YYYY-MM-DDThh:mm:ss."
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _zone(query: dict[str, str], name: str) -> dt.tzinfo:
    try:
        return ZoneInfo(query.get(name, "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        raise PredictHQError(400, f"Invalid {name}: unknown time zone.") from None


def _csv(
    query: dict[str, str], name: str, allowed: frozenset[str] | None = None
) -> set[str] | None:
    if name not in query:
        return None
    values = {v.strip() for v in query[name].split(",") if v.strip()}
    if allowed is not None and not values <= allowed:
        bad = sorted(values - allowed)[0]
        raise PredictHQError(
            400, f"Invalid {name} '{bad}'. Allowed values: {', '.join(sorted(allowed))}."
        )
    return values


def _number(query: dict[str, str], name: str, minimum: int = 0) -> int | None:
    raw = query.get(name)
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        raise PredictHQError(400, f"Invalid {name}. It must be an integer.") from None
    if value < minimum:
        raise PredictHQError(400, f"Invalid {name}. It must be at least {minimum}.")
    return value


SORT_KEYS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "id": lambda e: e["id"],
    "title": lambda e: e["title"],
    "start": lambda e: _instant(e["start"], dt.UTC),
    "end": lambda e: _instant(e["end"], dt.UTC),
    "first_seen": lambda e: e.get("first_seen"),
    "updated": lambda e: e.get("updated"),
    "predicted_end": lambda e: e.get("predicted_end"),
    "rank": lambda e: e.get("rank"),
    "local_rank": lambda e: e.get("local_rank"),
    "phq_attendance": lambda e: e.get("phq_attendance"),
    "category": lambda e: e["category"],
    "duration": lambda e: e.get("duration"),
    "country": lambda e: e.get("country"),
}


class PredictHQApp:
    """Request handler for the fake Events API over a simulated world."""

    def __init__(self, world: World, token: str) -> None:
        self.world = world
        self.token = token
        self.max_results = 10_000  # the plan's cap; more matches set `overflow`

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.path != PATH:
            return error_body(404)
        if request.method != "GET":
            return error_body(405)
        if request.header("Authorization") != f"Bearer {self.token}":
            return error_body(401)
        try:
            return Reply(200, self._search(request))
        except PredictHQError as error:
            return Reply(error.status, {"error": str(error)})

    def _filters(self, query: dict[str, str]) -> list[Callable[[dict[str, Any]], bool]]:
        checks: list[Callable[[dict[str, Any]], bool]] = []
        if "within" in query:
            match = WITHIN.match(query["within"])
            if match is None:
                raise PredictHQError(
                    400,
                    "Invalid within. Expected {radius}{unit}@{latitude},{longitude}, "
                    "e.g. 10km@47.66,-122.38 (unit m, km, ft or mi).",
                )
            radius = float(match["r1"] or match["r2"]) * KM_PER_UNIT[match["u1"] or match["u2"]]
            lat, lon = float(match["lat"]), float(match["lon"])
            checks.append(lambda e: _near(e, lat, lon, radius))
        active_tz = _zone(query, "active.tz")
        low, high = (
            _bound(query, "active.gte", active_tz, False),
            _bound(query, "active.lte", active_tz, True),
        )
        if low or high:
            checks.append(lambda e: _overlaps(e, low, high, active_tz))
        start_tz = _zone(query, "start.tz")
        start_low = _bound(query, "start.gte", start_tz, False)
        start_high = _bound(query, "start.lte", start_tz, True)
        if start_low or start_high:
            checks.append(lambda e: _overlaps(e, start_low, start_high, start_tz, start_only=True))
        updated_low = _bound(query, "updated.gte", _zone(query, "updated.tz"), False)
        if updated_low:
            checks.append(lambda e: _instant(e["updated"], dt.UTC) >= updated_low)
        categories = _csv(query, "category", CATEGORIES)
        if categories is not None:
            checks.append(lambda e: e["category"] in categories)
        states = _csv(query, "state", STATES) or {"active"}
        checks.append(lambda e: e["state"] in states)
        for name, field in (
            ("rank.gte", "rank"),
            ("local_rank.gte", "local_rank"),
            ("phq_attendance.gte", "phq_attendance"),
        ):
            floor = _number(query, name)
            if floor is not None:
                checks.append(lambda e, f=field, lo=floor: e.get(f) is not None and e[f] >= lo)
        for name, field in (
            ("country", "country"),
            ("id", "id"),
            ("deleted_reason", "deleted_reason"),
        ):
            wanted = _csv(query, name)
            if wanted is not None:
                checks.append(lambda e, f=field, w=wanted: e.get(f) in w)
        return checks

    def _search(self, request: RecordedRequest) -> dict[str, Any]:
        query = request.query
        checks = self._filters(query)
        limit = _number(query, "limit", minimum=1) or DEFAULT_LIMIT
        offset = _number(query, "offset") or 0
        matches = [e for e in self.world.events if all(check(e) for check in checks)]
        matches.sort(key=lambda e: e["id"])
        for field in reversed((query.get("sort") or "-start").split(",")):
            name = field.strip().lstrip("-")
            if name not in SORT_KEYS:
                raise PredictHQError(400, f"Invalid sort '{field}'.")
            key = SORT_KEYS[name]
            present = [e for e in matches if key(e) is not None]
            present.sort(key=key, reverse=field.strip().startswith("-"))
            matches = present + [e for e in matches if key(e) is None]
        reachable = min(len(matches), self.max_results)
        results = matches[offset : min(offset + limit, reachable)]
        base = f"http://{request.header('Host') or '127.0.0.1'}{PATH}"

        def page(at: int) -> str:
            params = {k: v for k, v in query.items() if k not in ("offset", "limit")}
            return f"{base}?{urlencode(params | {'limit': limit, 'offset': at})}"

        return {
            "count": len(matches),
            "overflow": len(matches) > self.max_results,
            "next": page(offset + limit) if offset + limit < reachable else None,
            "previous": page(max(0, offset - limit)) if offset > 0 else None,
            "results": results,
        }


def _near(event: dict[str, Any], lat: float, lon: float, radius_km: float) -> bool:
    if event.get("scope") == "country":
        box = COUNTRY_BOXES.get(event.get("country", ""))
        return box is not None and box[0] <= lat <= box[1] and box[2] <= lon <= box[3]
    event_lon, event_lat = event["location"]
    return distance_km(lat, lon, event_lat, event_lon) <= radius_km


def _overlaps(
    event: dict[str, Any],
    low: dt.datetime | None,
    high: dt.datetime | None,
    zone: dt.tzinfo,
    start_only: bool = False,
) -> bool:
    # Zone-less events (holidays) happen in local time wherever one is: read them in the
    # filter's zone, as PredictHQ's own filters do.
    start = _instant(event["start"], zone)
    end = start if start_only else _instant(event["end"], zone)
    return (high is None or start <= high) and (low is None or end >= low)
