"""Real data through the climatology path: four years of NOAA Seattle weather (shared/datasets)
are the archive of a market in the raw sample (raw_sample.SEATTLE). The normals dbt computes must
equal the means worked out here from the CSV, and the market's planning days, which no provider
covers, must get them, labelled climatology."""

from datetime import date, timedelta

import pytest
from raw_sample import HORIZON_DAYS, RUN_DATE, SEATTLE, seattle_weather

pytestmark = pytest.mark.integration

WINDOW_DAYS = 7  # dbt var climatology_window_days
VALUES = ("temp_max_c", "temp_min_c", "precip_mm")


def by_hand(target: date) -> dict[str, float]:
    """Means over every CSV day within WINDOW_DAYS of the target's day of the year, counted on
    the circle of the year (31 December and 1 January are one day apart)."""
    doy = target.timetuple().tm_yday

    def apart(day: date) -> int:
        gap = abs(day.timetuple().tm_yday - doy)
        return min(gap, 365 - gap)

    near = [r for r in seattle_weather() if apart(r["day"]) <= WINDOW_DAYS]
    assert 58 <= len(near) <= 62  # 4 years × 15 days, give or take the leap days' shift
    return {name: sum(r[name] for r in near) / len(near) for name in VALUES}


@pytest.mark.parametrize("target", [date(2024, 7, 4), date(2024, 1, 3), date(2024, 12, 30)])
def test_normals_are_the_csv_means_around_the_day_of_year(built_warehouse, target):
    (normal,) = built_warehouse.query(
        "select * from intermediate.int_weather_climatology "
        f"where market_id = '{SEATTLE}' and day_of_year = {target.timetuple().tm_yday}"
    )
    for name, value in by_hand(target).items():
        assert normal[name] == pytest.approx(value), name


def test_planning_days_without_any_provider_get_the_normals(built_warehouse):
    rows = built_warehouse.query(
        "select * from intermediate.int_weather_best "
        f"where market_id = '{SEATTLE}' and weather_date >= '{RUN_DATE}' order by weather_date"
    )
    assert [r["weather_date"] for r in rows] == [
        RUN_DATE + timedelta(days=n) for n in range(HORIZON_DAYS)
    ]
    for row in rows:
        expected = by_hand(row["weather_date"])
        assert (row["weather_source"], row["temp_min_source"], row["precip_source"]) == (
            "climatology",
            "climatology",
            "climatology",
        )
        for name in VALUES:
            assert row[name] == pytest.approx(expected[name]), (row["weather_date"], name)


def test_observed_days_keep_their_own_values(built_warehouse):
    (day,) = built_warehouse.query(
        "select * from intermediate.int_weather_best "
        f"where market_id = '{SEATTLE}' and weather_date = '2012-01-04'"
    )
    # 2012/01/04 in the CSV: 20.3 mm, 12.2 °C, 5.6 °C
    assert (day["weather_source"], day["temp_max_c"], day["temp_min_c"], day["precip_mm"]) == (
        "open_meteo_archive",
        12.2,
        5.6,
        20.3,
    )
