"""Where the weather and events of the days being forecast came from, as plain verdicts.

The checks on marts.feature_product_market_day call these on its upcoming market days (one row
per market × day): no weather from any source is an error (the forecast would only guess), a
fallback source (NWS, climatology) or unknown or fallback events are warnings.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

PLANNING_DAYS_SQL = (
    "select distinct market_id, market_date, temp_max_c, precip_mm, weather_source, "
    "precip_source, events_known, events_source "
    "from marts.feature_product_market_day where is_future order by market_id, market_date"
)
PRIMARY_WEATHER = frozenset({"open_meteo_archive", "open_meteo_forecast"})
PRIMARY_EVENTS = "predicthq"
LISTED = 20  # market-days named in a description; the counts cover the rest


@dataclass(frozen=True)
class Verdict:
    passed: bool
    description: str | None
    counts: dict[str, int] = field(default_factory=dict)


def _listing(days: pd.DataFrame, label: str) -> str:
    named = [f"{r.market_id} {pd.Timestamp(r.market_date).date()}" for r in days.itertuples()]
    more = f" and {len(named) - LISTED} more" if len(named) > LISTED else ""
    return f"{label}: {', '.join(named[:LISTED])}{more}"


def weather_gaps(days: pd.DataFrame) -> Verdict:
    """Fails when an upcoming market day has neither temperature nor precipitation: the primary
    source, the fallback and climatology all had nothing."""
    missing = days[days["temp_max_c"].isna() & days["precip_mm"].isna()]
    return Verdict(
        passed=missing.empty,
        description=None if missing.empty else _listing(missing, "no weather from any source"),
        counts={"market_days": len(days), "market_days_without_weather": len(missing)},
    )


def weather_fallbacks(days: pd.DataFrame) -> Verdict:
    """Fails (a warning) when a value of an upcoming market day did not come from Open-Meteo."""
    parts, counts = [], {"market_days": len(days)}
    for column, label in (("weather_source", "temperature"), ("precip_source", "precipitation")):
        sources = days[column].fillna("none")
        for source in sorted(set(sources) - PRIMARY_WEATHER):
            chosen = days[sources == source]
            counts[f"{label}_from_{source}"] = len(chosen)
            parts.append(_listing(chosen, f"{label} from {source}"))
    return Verdict(not parts, "; ".join(parts) or None, counts)


def events_coverage(days: pd.DataFrame) -> Verdict:
    """Fails (a warning) when an upcoming market day's events are unknown (no source answered)
    or came from the fallback (Ticketmaster: ticketed events only, no attendance)."""
    known = days["events_known"].astype(bool)
    unknown = days[~known]
    fallback = days[known & (days["events_source"] != PRIMARY_EVENTS)]
    parts = []
    if not unknown.empty:
        parts.append(_listing(unknown, "events unknown"))
    if not fallback.empty:
        parts.append(_listing(fallback, "events from the fallback only"))
    counts = {
        "market_days": len(days),
        "market_days_events_unknown": len(unknown),
        "market_days_events_fallback": len(fallback),
    }
    return Verdict(not parts, "; ".join(parts) or None, counts)
