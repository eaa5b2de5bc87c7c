"""The verdicts behind the feature-table checks: no weather is an error, fallbacks and unknown
events are warnings, each naming the market days."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from marketprep import coverage

DAY = dt.date(2025, 7, 5)


def days(*rows: dict) -> pd.DataFrame:
    base = {
        "market_id": "mkt_a",
        "market_date": DAY,
        "temp_max_c": 21.0,
        "precip_mm": 0.0,
        "weather_source": "open_meteo_forecast",
        "precip_source": "open_meteo_forecast",
        "events_known": True,
        "events_source": "predicthq",
    }
    return pd.DataFrame([base | row for row in rows])


def test_primary_sources_pass_every_check():
    frame = days({}, {"market_id": "mkt_b", "weather_source": "open_meteo_archive"})
    assert coverage.weather_gaps(frame).passed
    assert coverage.weather_fallbacks(frame).passed
    assert coverage.events_coverage(frame).passed


def test_a_day_no_source_covered_fails_and_is_named():
    frame = days(
        {},
        {
            "market_id": "mkt_b",
            "temp_max_c": None,
            "precip_mm": None,
            "weather_source": None,
            "precip_source": None,
        },
    )
    verdict = coverage.weather_gaps(frame)
    assert not verdict.passed
    assert verdict.description == "no weather from any source: mkt_b 2025-07-05"
    assert verdict.counts == {"market_days": 2, "market_days_without_weather": 1}


def test_a_day_with_some_value_is_not_a_gap():
    partial = days({"precip_mm": None, "precip_source": None, "weather_source": "nws_forecast"})
    assert coverage.weather_gaps(partial).passed
    assert not coverage.weather_fallbacks(partial).passed


def test_fallbacks_are_warned_about_per_value_and_source():
    frame = days(
        {"weather_source": "nws_forecast", "precip_source": "climatology"},
        {"market_id": "mkt_b", "weather_source": "climatology", "precip_source": "climatology"},
    )
    verdict = coverage.weather_fallbacks(frame)
    assert not verdict.passed
    assert verdict.description == (
        "temperature from climatology: mkt_b 2025-07-05; "
        "temperature from nws_forecast: mkt_a 2025-07-05; "
        "precipitation from climatology: mkt_a 2025-07-05, mkt_b 2025-07-05"
    )
    assert verdict.counts["precipitation_from_climatology"] == 2


def test_unknown_and_fallback_events_are_warned_about_apart():
    frame = days(
        {"events_known": False, "events_source": None},
        {"market_id": "mkt_b", "events_source": "ticketmaster"},
        {"market_id": "mkt_c"},
    )
    verdict = coverage.events_coverage(frame)
    assert not verdict.passed
    assert verdict.description == (
        "events unknown: mkt_a 2025-07-05; events from the fallback only: mkt_b 2025-07-05"
    )
    assert verdict.counts == {
        "market_days": 3,
        "market_days_events_unknown": 1,
        "market_days_events_fallback": 1,
    }


def test_long_listings_are_cut_with_a_count():
    frame = days(
        *(
            {"market_date": DAY + dt.timedelta(days=n), "weather_source": "climatology"}
            for n in range(25)
        )
    )
    description = coverage.weather_fallbacks(frame).description
    assert description.endswith("and 5 more")
