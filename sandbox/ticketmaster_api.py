"""Fake Ticketmaster Discovery v2: `GET /discovery/v2/events.json`.

The body is the HAL envelope of Ticketmaster's published example (`api-samples/events/`):
`_links` (relative, templated hrefs without the key), `_embedded.events` (absent when nothing
matches) and `page {size, totalElements, totalPages, number}`; successful answers carry the
`Rate-Limit*` headers (`Rate-Limit-Reset` in epoch milliseconds), errors do not. Errors come in
the two observed shapes: the gateway's `{"fault": ...}` (bad key 401, quota 429, spike arrest 429,
5xx) and `{"errors": [{"code": "DIS...."}]}` for requests Discovery refuses (DIS1015 date format,
DIS1036 size over the cap, DIS1035 paging deeper than `page × size < 1000`).

Events are the simulated world's ticketed ones (concerts, sports, performing arts, festivals and
expos near the markets; no holidays, no community events), read live from `world.events` so a
test can cancel one. Venue coordinates are strings, as on the wire. Filters: `geoPoint` (geohash,
or `lat,lon`) or the deprecated `latlong`, `radius` + `unit` (default 50 miles),
`startDateTime`/`endDateTime` on the event start, `sort` (`id,asc`, `date,asc`, `name,asc`;
default relevance, here date), `page`, `size`.

Knobs: `max_size` (200), `depth_limit` (1000), `daily_quota` (calls per key; every call counts,
4xx included, and past it every call gets the quota fault) and the shared `FaultPlan`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
from typing import Any
from urllib.parse import urlencode

from sandbox.fake_http import RecordedRequest, Reply
from sandbox.geo import distance_km
from sandbox.simulator import sandbox_now
from sandbox.world import World

PATHS = ("/discovery/v2/events.json", "/discovery/v2/events")
JSON = {"Content-Type": "application/json;charset=utf-8"}
STAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
GEOHASH = "0123456789bcdefghjkmnpqrstuvwxyz"
KM_PER_MILE = 1.609344
SEGMENTS = {
    "concerts": ("KZFzniwnSyZfZ7v7nJ", "Music", "KnvZfZ7vAeA", "Rock"),
    "sports": ("KZFzniwnSyZfZ7v7nE", "Sports", "KnvZfZ7vAdE", "Soccer"),
    "performing-arts": ("KZFzniwnSyZfZ7v7na", "Arts & Theatre", "KnvZfZ7v7nJ", "Theatre"),
    "festivals": ("KZFzniwnSyZfZ7v7n1", "Miscellaneous", "KnvZfZ7vA1n", "Fairs & Festivals"),
    "expos": ("KZFzniwnSyZfZ7v7n1", "Miscellaneous", "KnvZfZ7vAAI", "Hobby/Special Interest"),
}
SORTS = {
    "id,asc": lambda e: e["id"],
    "date,asc": lambda e: (e["dates"]["start"].get("dateTime", ""), e["id"]),
    "name,asc": lambda e: (e["name"], e["id"]),
    "relevance,desc": lambda e: (e["dates"]["start"].get("dateTime", ""), e["id"]),
}


def fault(status: int, faultstring: str, errorcode: str) -> Reply:
    """The API gateway's error shape (auth, quota, spike arrest, outages)."""
    return Reply(
        status,
        {"fault": {"faultstring": faultstring, "detail": {"errorcode": errorcode}}},
        dict(JSON),
    )


def discovery_error(status: int, code: str, detail: str) -> Reply:
    """Discovery's own error shape for requests it refuses."""
    label = "400 BAD_REQUEST" if status == 400 else str(status)
    return Reply(
        status,
        {
            "errors": [
                {
                    "_links": {"about": {"href": f"/discovery/v2/errors.html#{code}"}},
                    "code": code,
                    "detail": detail,
                    "status": label,
                }
            ]
        },
        dict(JSON),
    )


def error_body(status: int) -> Reply:
    """Ticketmaster's error for a status, as queued faults send it."""
    if status == 401:
        return fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
    if status == 429:
        return fault(
            429,
            "Spike arrest violation. Allowed rate : MessageRate{messagesPerPeriod=5, periodInMicroseconds=1000000}",
            "policies.ratelimit.SpikeArrestViolation",
        )
    if status >= 500:
        return fault(
            status,
            "The Service is temporarily unavailable",
            "messaging.adaptors.http.flow.ServiceUnavailable",
        )
    if status == 404:
        return discovery_error(404, "DIS1004", "Resource not found with provided criteria")
    return discovery_error(400, "DIS1001", "Invalid request")


def decode_geohash(text: str) -> tuple[float, float]:
    """Centre of a geohash cell (the fake's own decoder, independent of the client's encoder)."""
    lat_range, lon_range = [-90.0, 90.0], [-180.0, 180.0]
    even = True
    for char in text.lower():
        value = GEOHASH.index(char)
        for shift in range(4, -1, -1):
            target = lon_range if even else lat_range
            middle = (target[0] + target[1]) / 2
            if value >> shift & 1:
                target[0] = middle
            else:
                target[1] = middle
            even = not even
    return (lat_range[0] + lat_range[1]) / 2, (lon_range[0] + lon_range[1]) / 2


def _tm_id(phq_id: str, prefix: str) -> str:
    return prefix + hashlib.sha1(phq_id.encode()).hexdigest()[:12]


def tm_event(event: dict[str, Any]) -> dict[str, Any] | None:
    """The Ticketmaster listing of a simulated PredictHQ event, or None if it would not be listed
    (unticketed categories, holidays, PredictHQ's duplicate copies)."""
    if event.get("category") not in SEGMENTS or event.get("scope") != "locality":
        return None
    if event.get("deleted_reason") == "duplicate":
        return None
    segment_id, segment, genre_id, genre = SEGMENTS[event["category"]]
    start_local = dt.datetime.fromisoformat(event["start_local"])
    end_local = dt.datetime.fromisoformat(event["end_local"])
    lon, lat = event["location"]
    address = event.get("geo", {}).get("address", {})
    venue_name = (event.get("entities") or [{"name": "Venue"}])[0]["name"]
    event_id = _tm_id(event["id"], "vv")
    status = "onsale"
    if event["state"] == "deleted":
        status = "postponed" if event.get("deleted_reason") == "postponed" else "canceled"
    dates: dict[str, Any] = {
        "start": {
            "localDate": start_local.date().isoformat(),
            "localTime": start_local.strftime("%H:%M:%S"),
            "dateTime": event["start"],
            "dateTBD": False,
            "dateTBA": False,
            "timeTBA": False,
            "noSpecificTime": False,
        },
        "timezone": event["timezone"],
        "status": {"code": status},
        "spanMultipleDays": end_local.date() > start_local.date(),
    }
    if end_local.date() > start_local.date():
        dates["end"] = {
            "localDate": end_local.date().isoformat(),
            "localTime": end_local.strftime("%H:%M:%S"),
            "dateTime": event["end"],
            "approximate": False,
            "noSpecificTime": False,
        }
    venue_id = _tm_id(venue_name, "KovZ")
    return {
        "name": event["title"],
        "type": "event",
        "id": event_id,
        "test": False,
        "url": f"https://www.ticketmaster.com/event/{event_id}",
        "locale": "en-us",
        "images": [
            {
                "ratio": "16_9",
                "url": f"https://s1.ticketm.net/dam/sandbox/{event_id}_RETINA_LANDSCAPE_16_9.jpg",
                "width": 1136,
                "height": 639,
                "fallback": False,
            }
        ],
        "sales": {
            "public": {
                "startDateTime": event.get("first_seen", event["start"]),
                "startTBD": False,
                "endDateTime": event["start"],
            }
        },
        "dates": dates,
        "classifications": [
            {
                "primary": True,
                "segment": {"id": segment_id, "name": segment},
                "genre": {"id": genre_id, "name": genre},
            }
        ],
        "_links": {
            "self": {"href": f"/discovery/v2/events/{event_id}?locale=en-us"},
            "venues": [{"href": f"/discovery/v2/venues/{venue_id}?locale=en-us"}],
        },
        "_embedded": {
            "venues": [
                {
                    "name": venue_name,
                    "type": "venue",
                    "id": venue_id,
                    "test": False,
                    "locale": "en-us",
                    "postalCode": address.get("postcode", ""),
                    "timezone": event["timezone"],
                    "city": {"name": address.get("locality", "")},
                    "state": {"name": address.get("region", ""), "stateCode": "WA"},
                    "country": {"name": "United States Of America", "countryCode": "US"},
                    "address": {"line1": (address.get("formatted_address") or "").split(",")[0]},
                    # Strings on the wire, not numbers.
                    "location": {"longitude": f"{lon:.8f}", "latitude": f"{lat:.8f}"},
                    "_links": {"self": {"href": f"/discovery/v2/venues/{venue_id}?locale=en-us"}},
                }
            ]
        },
    }


class _Refused(Exception):
    def __init__(self, reply: Reply) -> None:
        super().__init__(reply.status)
        self.reply = reply


def _int(query: dict[str, str], name: str, default: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        return int(raw)
    except ValueError:
        raise _Refused(
            discovery_error(400, "DIS1001", f'Query param "{name}" must be a number')
        ) from None


def _stamp(query: dict[str, str], name: str) -> dt.datetime | None:
    raw = query.get(name)
    if raw is None:
        return None
    if not STAMP.match(raw):
        raise _Refused(
            discovery_error(
                400,
                "DIS1015",
                "Query param with date must be of valid format YYYY-MM-DDTHH:mm:ssZ "
                "{example: 2020-08-01T14:00:00Z }",
            )
        )
    return dt.datetime.strptime(raw, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)


class TicketmasterApp:
    """Request handler for the fake Discovery API over a simulated world."""

    def __init__(self, world: World, api_key: str) -> None:
        self.world = world
        self.api_key = api_key
        self.max_size = 200
        self.depth_limit = 1000
        self.daily_quota = 5000
        self.calls = 0
        self.now = sandbox_now(world.config)

    def __call__(self, request: RecordedRequest) -> Reply:
        if request.path not in PATHS or request.method != "GET":
            return discovery_error(404, "DIS1004", "Resource not found with provided criteria")
        self.calls += 1  # every call counts against the quota, refused ones too
        if self.calls > self.daily_quota:
            return fault(
                429,
                "Rate limit quota violation. Quota limit  exceeded. Identifier : "
                f"{request.query.get('apikey', '')}",
                "policies.ratelimit.QuotaViolation",
            )
        if request.query.get("apikey") != self.api_key:
            return fault(401, "Invalid ApiKey", "oauth.v2.InvalidApiKey")
        try:
            body = self._search(request.query)
        except _Refused as refused:
            return refused.reply
        reset = dt.datetime.combine(self.now.date() + dt.timedelta(days=1), dt.time(), dt.UTC)
        headers = dict(JSON) | {
            "Rate-Limit": str(self.daily_quota),
            "Rate-Limit-Available": str(max(0, self.daily_quota - self.calls)),
            "Rate-Limit-Over": "0",
            "Rate-Limit-Reset": str(int(reset.timestamp() * 1000)),
        }
        return Reply(200, body, headers)

    def _center(self, query: dict[str, str]) -> tuple[float, float] | None:
        text = query.get("geoPoint") or query.get("latlong")
        if not text:
            return None
        try:
            if "," in text:
                lat, lon = (float(part) for part in text.split(","))
                return lat, lon
            return decode_geohash(text)
        except ValueError:
            raise _Refused(
                discovery_error(400, "DIS1001", 'Query param "geoPoint" is not a geohash')
            ) from None

    def _search(self, query: dict[str, str]) -> dict[str, Any]:
        size = _int(query, "size", 20)
        page = _int(query, "page", 0)
        if not 1 <= size <= self.max_size:
            raise _Refused(
                discovery_error(
                    400, "DIS1036", f'Query param "size" must be less than {self.max_size}'
                )
            )
        if page < 0:
            raise _Refused(discovery_error(400, "DIS1001", 'Query param "page" must be >= 0'))
        if page * size >= self.depth_limit:
            raise _Refused(
                discovery_error(
                    400,
                    "DIS1035",
                    "API Limits Exceeded: Max paging depth exceeded. (page * size) must be less "
                    "than 1,000",
                )
            )
        first, last = _stamp(query, "startDateTime"), _stamp(query, "endDateTime")
        sort = query.get("sort", "relevance,desc")
        if sort not in SORTS:
            raise _Refused(discovery_error(400, "DIS1001", f"Unsupported sort '{sort}'"))
        center = self._center(query)
        radius = _int(query, "radius", 50) * (1.0 if query.get("unit") == "km" else KM_PER_MILE)
        matches = []
        for event in self.world.events:
            listed = tm_event(event)
            if listed is None:
                continue
            start = dt.datetime.fromisoformat(
                listed["dates"]["start"]["dateTime"].replace("Z", "+00:00")
            )
            if (first and start < first) or (last and start > last):
                continue
            if center is not None:
                venue = listed["_embedded"]["venues"][0]["location"]
                km = distance_km(
                    center[0], center[1], float(venue["latitude"]), float(venue["longitude"])
                )
                if km > radius:
                    continue
            matches.append(listed)
        matches.sort(key=SORTS[sort])
        total_pages = math.ceil(len(matches) / size)
        results = matches[page * size : (page + 1) * size]
        params = {k: v for k, v in query.items() if k not in ("apikey", "page")}
        links: dict[str, Any] = {
            "self": {
                "href": f"/discovery/v2/events.json?{urlencode(params | {'page': page})}",
                "templated": False,
            }
        }
        if page + 1 < total_pages:
            links["next"] = {
                "href": f"/discovery/v2/events.json?{urlencode(params | {'page': page + 1})}",
                "templated": False,
            }
        body: dict[str, Any] = {"_links": links}
        if results:
            body["_embedded"] = {"events": results}
        body["page"] = {
            "size": size,
            "totalElements": len(matches),
            "totalPages": total_pages,
            "number": page,
        }
        return body
