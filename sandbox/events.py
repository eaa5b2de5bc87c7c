"""Local events near the markets, as PredictHQ Event objects, and how much they lift demand.

Three kinds: US public holidays (country scope, `timezone: null`, zone-less start/end, as
PredictHQ sends them), a steady trickle of community events, concerts, games and fairs around
the markets, and a few big festivals right next to a market on its market days (the events whose
effect on sales the pipeline must learn). One parade is cancelled (`state: deleted`) and one
event is listed twice, the copy deleted as a duplicate.
"""

from __future__ import annotations

import copy
import datetime as dt
import math
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import holidays
import numpy as np

from sandbox import ids
from sandbox.geo import distance_km, offset
from sandbox.ids import IdMaker
from sandbox.world import Market, open_days

EFFECT_RADIUS_KM = 5.0
EFFECT_CAP = 2.0
EVENING_WEIGHT = 0.3  # an event that starts after 17:00 brings few shoppers to a morning market

EARTH_US = ["6295630", "6255149", "6252001"]  # GeoNames: Earth > North America > United States
WASHINGTON_KING = ["5815135", "5799783"]  # Washington > King County
LOCALITY_GEONAMES = {"Seattle": "5809844", "Redmond": "5808079", "Bellevue": "5786882"}
PLACE_NAMES = {
    "ballard": "Ballard",
    "u-district": "U District",
    "redmond": "Redmond",
    "capitol-hill": "Capitol Hill",
    "west-seattle": "West Seattle",
    "bellevue": "Bellevue",
}
US_CENTRE = (39.8283, -98.5795)  # where PredictHQ pins country-wide events
MAJOR_HOLIDAYS = ("Christmas", "Thanksgiving", "Independence")


class CategorySpec(NamedTuple):
    category: str
    share: float
    median_attendance: float
    start_hours: tuple[int, ...]
    duration_hours: float  # 0: PredictHQ gives end == start and a predicted_end instead
    max_days: int
    labels: tuple[str, ...]
    phq_labels: tuple[tuple[str, float], ...]
    titles: tuple[str, ...]
    venues: tuple[str, ...]


# fmt: off
CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "community", 0.30, 1500, (10, 11), 5, 1, ("community",),
        (("community", 0.7), ("food-and-beverage", 0.3)),
        ("{place} Street Fair", "{place} Night Market", "{place} Block Party",
         "{place} Pet Parade"),
        ("{place} Commons", "{place} Park"),
    ),
    CategorySpec(
        "concerts", 0.22, 2500, (19, 20), 0, 1, ("concert", "music"), (),
        ("The Rainier Ramblers", "Neon Ferns", "Salmon Run Revival", "Cascade Jazz Collective"),
        ("{place} Theatre", "{place} Music Hall"),
    ),
    CategorySpec(
        "sports", 0.15, 9000, (13, 19), 3, 1, ("sport", "soccer"), (),
        ("Ballard FC vs Tacoma Stars", "{place} Youth Soccer Cup", "Rat City Roller Derby"),
        ("{place} Stadium", "{place} Fields"),
    ),
    CategorySpec(
        "festivals", 0.10, 7000, (10,), 9, 3, ("festival", "food", "outdoor"),
        (("food-and-beverage", 0.5), ("art-and-cultural", 0.5)),
        ("{place} Arts Festival", "{place} Harvest Festival", "{place} Summer Festival"),
        ("{place} Park",),
    ),
    CategorySpec(
        "performing-arts", 0.15, 800, (19, 20), 0, 1, ("performing-arts", "comedy"),
        (("art-and-cultural", 1.0),),
        ("Shakespeare in the Park", "Improv Night", "Ballet Under the Stars"),
        ("{place} Playhouse",),
    ),
    CategorySpec(
        "expos", 0.08, 3000, (10,), 7, 2, ("expo", "craft"),
        (("retail", 0.6), ("art-and-cultural", 0.4)),
        ("{place} Craft Fair", "Home & Garden Show", "Maker Expo"),
        ("{place} Community Center",),
    ),
)
# fmt: on
BY_CATEGORY = {spec.category: spec for spec in CATEGORIES}


def _utc(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _local(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


class _Builder:
    """Turns drawn facts into PredictHQ Event dicts; holds the generator and the sandbox clock."""

    def __init__(self, rng: np.random.Generator, now: dt.datetime) -> None:
        self.rng = rng
        self.now = now
        self.ids = IdMaker(rng)

    def _history(self, start: dt.datetime) -> tuple[str, str]:
        """(first_seen, updated): announced weeks ahead, last touched before the clock."""
        first_seen = start - dt.timedelta(days=float(self.rng.uniform(20, 150)))
        first_seen = min(first_seen, self.now - dt.timedelta(days=1))
        horizon = max((min(start, self.now) - first_seen).total_seconds(), 0.0)
        updated = first_seen + dt.timedelta(seconds=float(self.rng.uniform(0, 1)) * horizon)
        return _utc(first_seen), _utc(updated)

    def local_event(
        self,
        spec: CategorySpec,
        market: Market,
        day: dt.date,
        km: float,
        attendance: int,
        title: str | None = None,
        days: int = 1,
    ) -> dict[str, Any]:
        place = PLACE_NAMES.get(market.market_key, market.locality)
        lat, lon = offset(market.latitude, market.longitude, km, float(self.rng.uniform(0, 360)))
        lat, lon = round(lat, 7), round(lon, 7)
        tz = ZoneInfo(market.timezone)
        start = dt.datetime.combine(day, dt.time(int(self.rng.choice(spec.start_hours))), tz)
        if spec.duration_hours:
            end = dt.datetime.combine(day + dt.timedelta(days=days - 1), start.time(), tz)
            end += dt.timedelta(hours=spec.duration_hours)
        else:
            end = start
        rank = int(np.clip(round(20 + 14 * math.log10(max(attendance, 1))), 0, 100))
        first_seen, updated = self._history(start)
        venue = str(self.rng.choice(spec.venues)).format(place=place)
        address = f"{int(self.rng.integers(100, 9999))} {place} Way"
        formatted = (
            f"{address}\n{market.locality}, WA {market.postal_code}\nUnited States of America"
        )
        locality_id = LOCALITY_GEONAMES.get(market.locality, LOCALITY_GEONAMES["Seattle"])
        event: dict[str, Any] = {
            "id": self.ids.one(ids.EVENT),
            "title": title or str(self.rng.choice(spec.titles)).format(place=place),
            "description": "",
            "category": spec.category,
            "labels": list(spec.labels),
            "rank": rank,
            "local_rank": min(100, rank + int(self.rng.integers(5, 16))),
            "phq_attendance": int(attendance),
            "entities": [
                {
                    "entity_id": self.ids.one(ids.ENTITY),
                    "name": venue,
                    "type": "venue",
                    "formatted_address": formatted,
                }
            ],
            "duration": int((end - start).total_seconds()),
            "start": _utc(start),
            "start_local": _local(start),
            "end": _utc(end),
            "end_local": _local(end),
        }
        if not spec.duration_hours:
            predicted_end = start + dt.timedelta(hours=2, minutes=10)
            event["predicted_end"] = _utc(predicted_end)
            event["predicted_end_local"] = _local(predicted_end)
        event |= {
            "updated": updated,
            "first_seen": first_seen,
            "timezone": market.timezone,
            "location": [lon, lat],
            "geo": {
                "geometry": {"type": "Point", "coordinates": [lon, lat]},
                "address": {
                    "country_code": "US",
                    "formatted_address": formatted.replace("\n", ", "),
                    "locality": market.locality,
                    "region": "Washington",
                    "postcode": market.postal_code,
                },
            },
            "scope": "locality",
            "country": "US",
            "place_hierarchies": [EARTH_US + WASHINGTON_KING + [locality_id]],
            # Events not yet confirmed are "predicted" in PredictHQ; the rest are live.
            "state": "predicted" if start > self.now and self.rng.random() < 0.3 else "active",
            "private": False,
            "brand_safe": True,
        }
        if spec.phq_labels:
            event["phq_labels"] = [{"label": label, "weight": w} for label, w in spec.phq_labels]
        return event

    def holiday(self, day: dt.date, name: str) -> dict[str, Any]:
        start = dt.datetime.combine(day, dt.time(0), dt.UTC)
        first_seen, updated = self._history(start)
        return {
            "id": self.ids.one(ids.EVENT),
            "title": name,
            "description": "",
            "category": "public-holidays",
            "labels": ["holiday", "holiday-national"],
            "rank": 94 if any(major in name for major in MAJOR_HOLIDAYS) else 80,
            "entities": [],
            "duration": 86399,
            # No time zone: start/end are local wall-clock times wherever one is.
            "start": f"{day.isoformat()}T00:00:00",
            "end": f"{day.isoformat()}T23:59:59",
            "updated": updated,
            "first_seen": first_seen,
            "timezone": None,
            "location": [US_CENTRE[1], US_CENTRE[0]],
            "geo": {"geometry": {"type": "Point", "coordinates": [US_CENTRE[1], US_CENTRE[0]]}},
            "scope": "country",
            "country": "US",
            "place_hierarchies": [list(EARTH_US)],
            "state": "active",
            "private": False,
            "brand_safe": True,
        }


def simulate_events(
    markets: list[Market],
    first: dt.date,
    last: dt.date,
    now: dt.datetime,
    history_end: dt.date,
    rng: np.random.Generator,
) -> list[dict[str, Any]]:
    """PredictHQ events active on days first..last around the markets, sorted by start."""
    build = _Builder(rng, now)
    events = [
        build.holiday(day, name)
        for day, name in sorted(holidays.US(years=range(first.year, last.year + 1)).items())
        if first <= day <= last
    ]

    shares = np.array([spec.share for spec in CATEGORIES])
    n_days = (last - first).days + 1
    for week_start in range(0, n_days, 7):
        for _ in range(int(rng.poisson(2.2))):
            spec = CATEGORIES[int(rng.choice(len(CATEGORIES), p=shares / shares.sum()))]
            market = markets[int(rng.integers(len(markets)))]
            day = first + dt.timedelta(days=week_start + int(rng.integers(0, 7)))
            if day > last:
                continue
            attendance = int(spec.median_attendance * rng.lognormal(0.0, 0.7))
            days = int(rng.integers(1, spec.max_days + 1))
            km = float(rng.uniform(0.5, 8.0))
            events.append(build.local_event(spec, market, day, km, attendance, days=days))

    # Big festivals beside a market on its market days, mostly in summer: a few per market-year.
    festival = BY_CATEGORY["festivals"]
    for market in markets:
        days = open_days(market, first, last)
        if not days:
            continue
        summer = [d for d in days if 5 <= d.month <= 9] or days
        count = max(1, round(3 * n_days / 365))
        for index in sorted(rng.choice(len(summer), size=min(count, len(summer)), replace=False)):
            attendance = int(rng.uniform(15_000, 50_000))
            place = PLACE_NAMES.get(market.market_key, market.locality)
            title = f"{place} {rng.choice(['Seafood Festival', 'Summer Street Festival', 'Fair'])}"
            events.append(
                build.local_event(
                    festival,
                    market,
                    summer[int(index)],
                    float(rng.uniform(0.2, 1.0)),
                    attendance,
                    title=title,
                )
            )

    # A big parade next to the first market on a past market day, cancelled before it happened.
    past_days = open_days(markets[0], first, history_end - dt.timedelta(days=1))
    if past_days:
        day = past_days[int(rng.integers(len(past_days)))]
        parade = build.local_event(
            BY_CATEGORY["community"],
            markets[0],
            day,
            0.4,
            20_000,
            title=f"{PLACE_NAMES.get(markets[0].market_key, markets[0].locality)} Summer Parade",
        )
        cancelled = min(now, dt.datetime.fromisoformat(parade["start"])) - dt.timedelta(days=3)
        parade |= {"state": "deleted", "deleted_reason": "cancelled", "cancelled": _utc(cancelled)}
        parade["updated"] = _utc(cancelled)
        events.append(parade)

    # The same concert listed twice: PredictHQ deletes the copy and points at the original.
    concerts = [e for e in events if e["category"] == "concerts"]
    if concerts:
        original = concerts[int(rng.integers(len(concerts)))]
        events.append(
            copy.deepcopy(original)
            | {
                "id": build.ids.one(ids.EVENT),
                "state": "deleted",
                "deleted_reason": "duplicate",
                "duplicate_of_id": original["id"],
            }
        )
    events.sort(key=lambda e: (e["start"][:10], e["id"]))
    return events


def _local_days(event: dict[str, Any]) -> tuple[dt.date, dt.date]:
    start = event.get("start_local") or event["start"]
    end = event.get("end_local") or event["end"]
    return dt.date.fromisoformat(start[:10]), dt.date.fromisoformat(end[:10])


def event_effects(
    events: list[dict[str, Any]], markets: list[Market]
) -> dict[tuple[str, dt.date], float]:
    """Demand multiplier (>= 1) per (market, local day) from live events nearby.

    Bigger and closer events lift more, saturating with attendance; evening events lift little;
    deleted events (cancelled, duplicates) lift nothing. Holidays act through the calendar instead.
    """
    lift: dict[tuple[str, dt.date], float] = {}
    for event in events:
        if event["state"] == "deleted" or event.get("scope") != "locality":
            continue
        lon, lat = event["location"]
        attendance = event.get("phq_attendance") or 0
        start_hour = int((event.get("start_local") or event["start"])[11:13])
        daytime = 1.0 if start_hour < 17 else EVENING_WEIGHT
        first, last = _local_days(event)
        for market in markets:
            km = distance_km(lat, lon, market.latitude, market.longitude)
            if km > EFFECT_RADIUS_KM:
                continue
            weight = 0.5 * (1 - math.exp(-attendance / 15_000)) * math.exp(-km / 2.0) * daytime
            day = first
            while day <= last:
                key = (market.market_key, day)
                lift[key] = lift.get(key, 0.0) + weight
                day += dt.timedelta(days=1)
    return {key: min(EFFECT_CAP, 1.0 + value) for key, value in lift.items()}
