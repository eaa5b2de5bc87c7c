"""The market calendar, the weather fallback chain and the events status after a real `dbt build`
of the raw sample, on both backends.

Expected values come from raw_sample's plans (schedule file, weather gaps, events status) and
from climatology worked out here by hand from the archive rows' formulas, never from dbt output.
"""

from datetime import date, timedelta

import pytest
from raw_sample import (
    BAKERY,
    CLIMATOLOGY_DAY,
    EXPECTED_UPCOMING,
    GRAND,
    GRAND_CLOSED,
    LAST_SUMMER,
    NWS_DAY,
    NWS_TEMPS,
    PIER,
    SOURDOUGH,
    UNION,
    archive_temp,
    forecast_temp,
)

pytestmark = pytest.mark.integration

WINDOW_DAYS = 7  # dbt var climatology_window_days
WEATHER_SOURCES = {"open_meteo_archive", "open_meteo_forecast", "nws_forecast", "climatology"}


def _by_key(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["vendor_id"], r["market_id"], r["product_id"], r["market_date"]): r for r in rows}


@pytest.fixture(scope="module")
def features(built_warehouse) -> dict[tuple, dict]:
    return _by_key(built_warehouse.features())


def _normal(target: date, value) -> float:
    """The mean of `value(day)` over last summer's archive days within WINDOW_DAYS days of the
    target's day of the year (on the circle of the year)."""
    doy = target.timetuple().tm_yday
    days = [
        LAST_SUMMER[0] + timedelta(days=n)
        for n in range((LAST_SUMMER[1] - LAST_SUMMER[0]).days + 1)
    ]
    near = [
        d
        for d in days
        if min(abs(d.timetuple().tm_yday - doy), 365 - abs(d.timetuple().tm_yday - doy))
        <= WINDOW_DAYS
    ]
    assert len(near) == 2 * WINDOW_DAYS + 1  # the window lies inside last summer's archive
    return sum(value(d) for d in near) / len(near)


def test_calendar_applies_inferred_and_configured_schedules(built_warehouse):
    calendar = {
        (r["market_id"], r["market_date"])
        for r in built_warehouse.query("select * from marts.market_calendar")
    }
    assert calendar == {(m, day) for m, days in EXPECTED_UPCOMING.items() for day in days}
    # Grand Army: the configured Friday is in (no Friday ever had sales), the configured closure
    # and the Friday after the configured season's end are out.
    assert (GRAND, date(2024, 7, 5)) in calendar
    assert (GRAND, GRAND_CLOSED) not in calendar
    assert (GRAND, date(2024, 7, 12)) not in calendar
    # The pier sold on Sundays four weeks ago, but its season (inferred from June 2023 and June
    # 2024) ended on 07-02: no Sunday of the horizon is a market day.
    assert not [key for key in calendar if key[0] == PIER]


def test_dim_markets_shows_each_schedule_and_its_origin(built_warehouse):
    markets = {r["market_id"]: r for r in built_warehouse.query("select * from marts.dim_markets")}
    schedule = ("market_weekdays", "weekday_source", "season_start", "season_end", "season_source")

    def of(market):
        return tuple(markets[market][c] for c in schedule)

    assert of(UNION) == ("Sat", "inferred", None, None, None)  # under a year of sales: all year
    assert of(GRAND) == ("Wed,Fri", "configured", "04-01", "07-11", "configured")
    assert of(PIER) == ("Sun", "inferred", "06-02", "07-02", "inferred")


def test_climatology_is_the_archive_mean_around_the_day_of_year(built_warehouse, features):
    market, day = CLIMATOLOGY_DAY  # Open-Meteo's forecast failed, no NWS row either
    doy = day.timetuple().tm_yday
    (normal,) = built_warehouse.query(
        f"select * from intermediate.int_weather_climatology "
        f"where market_id = '{market}' and day_of_year = {doy}"
    )
    expected_temp = _normal(day, archive_temp)
    expected_precip = _normal(day, lambda d: float(d.day % 3))
    assert normal["temp_max_c"] == pytest.approx(expected_temp)
    assert normal["temp_min_c"] == pytest.approx(expected_temp - 8)
    assert normal["precip_mm"] == pytest.approx(expected_precip)
    assert normal["days_observed"] == 2 * WINDOW_DAYS + 1

    row = features[BAKERY, market, SOURDOUGH, day]
    assert (row["weather_source"], row["precip_source"]) == ("climatology", "climatology")
    assert row["temp_max_c"] == pytest.approx(expected_temp)
    assert row["precip_mm"] == pytest.approx(expected_precip)


def test_an_nws_day_takes_precipitation_from_climatology(features):
    market, day = NWS_DAY
    row = features[BAKERY, market, SOURDOUGH, day]
    assert (row["weather_source"], row["temp_max_c"]) == ("nws_forecast", NWS_TEMPS[0])
    # NWS forecasts a chance of rain, no amount: the amount is the market's normal.
    assert row["precip_source"] == "climatology"
    assert row["precip_mm"] == pytest.approx(_normal(day, lambda d: float(d.day % 3)))


def test_the_primary_source_wins_where_it_has_values(features):
    upcoming = features[BAKERY, GRAND, SOURDOUGH, date(2024, 7, 5)]
    assert (upcoming["weather_source"], upcoming["precip_source"]) == ("open_meteo_forecast",) * 2
    assert upcoming["temp_max_c"] == forecast_temp(date(2024, 7, 5))
    past = features[BAKERY, UNION, SOURDOUGH, date(2024, 6, 22)]
    assert (past["weather_source"], past["precip_source"]) == ("open_meteo_archive",) * 2


def test_every_weather_value_names_its_source(features):
    for key, row in features.items():
        for value, source in (("temp_max_c", "weather_source"), ("precip_mm", "precip_source")):
            assert (row[value] is None) == (row[source] is None), (key, value)
            assert row[source] is None or row[source] in WEATHER_SOURCES, key
    # the pier has no weather history at all: its rows say so instead of inventing values
    pier = [row for key, row in features.items() if key[1] == PIER]
    assert pier and all(r["weather_source"] is None and r["temp_max_c"] is None for r in pier)


def test_events_unknown_is_told_apart_from_no_events(features):
    def events(market, day):
        row = features[BAKERY, market, SOURDOUGH, day]
        keys = ("events_count", "event_attendance", "events_known", "events_source")
        return tuple(row[k] for k in keys)

    assert events(UNION, date(2024, 7, 6)) == (1, 5000.0, True, "predicthq")
    assert events(UNION, date(2024, 7, 13)) == (0, 0.0, True, "predicthq")  # known: none
    # Ticketmaster answered for Grand Army up to 07-07: its concert, without attendance.
    assert events(GRAND, date(2024, 7, 5)) == (1, 0.0, True, "ticketmaster")
    # Then neither answered: zero events, but unknown.
    assert events(GRAND, date(2024, 7, 10)) == (0, 0.0, False, None)
    # Days before any recorded fetch are unknown too.
    assert events(UNION, date(2024, 6, 1)) == (0, 0.0, False, None)
