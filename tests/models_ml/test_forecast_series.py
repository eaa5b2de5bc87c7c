import json

import numpy as np
import pandas as pd
import pytest

from models_ml.forecast import SERIES_FORECAST_COLUMNS, ForecastSettings, forecast_series
from models_ml.recommend import explain

SETTINGS = ForecastSettings(workers=1)
# For what Prophet itself learns (weather, events, holidays, drivers): no other model may win.
PROPHET = ForecastSettings(workers=1, models=("prophet",))


def split(series: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return series[~series["is_future"]], series[series["is_future"]].copy()


def forecast_day(series: pd.DataFrame, precip_mm: float, event_attendance: float) -> pd.Series:
    """The first future day's forecast under the given conditions, all else as generated."""
    history, future = split(series)
    future = future.iloc[:1].copy()
    future["precip_mm"] = precip_mm
    future["event_attendance"] = event_attendance
    return forecast_series(history, future, 0.7, PROPHET).iloc[0]


@pytest.fixture(scope="module")
def dry(two_years):
    return forecast_day(two_years, precip_mm=0.0, event_attendance=0.0)


@pytest.fixture(scope="module")
def rainy(two_years):
    return forecast_day(two_years, precip_mm=12.0, event_attendance=0.0)


@pytest.fixture(scope="module")
def festival(two_years):
    return forecast_day(two_years, precip_mm=0.0, event_attendance=8000.0)


def test_rain_lowers_the_forecast(dry, rainy):
    assert rainy["model"] == dry["model"] == "prophet"
    assert rainy["units_p50"] < dry["units_p50"]
    # The truth is −30 %; the estimate should at least be clearly there.
    assert rainy["units_p50"] / dry["units_p50"] < 0.85


def test_a_nearby_event_raises_the_forecast(dry, festival):
    assert festival["units_p50"] > 1.1 * dry["units_p50"]
    assert json.loads(festival["drivers"])["event"] > 0.05


@pytest.mark.parametrize("day", ["dry", "rainy", "festival"])
def test_median_is_near_the_truth(day, request, true_mean):
    forecast = request.getfixturevalue(day)
    truth = true_mean(forecast["market_date"], forecast["precip_mm"], forecast["event_attendance"])
    # Poisson noise on ~50 units a day and five effects learned from 104 points: within 25 %.
    assert forecast["units_p50"] == pytest.approx(truth, rel=0.25)


def test_quantiles_are_ordered(rainy):
    assert 0 <= rainy["units_low"] <= rainy["units_p50"]
    assert rainy["units_p50"] <= rainy["units_at_service_level"] <= rainy["units_high"]
    assert rainy["units_low"] < rainy["units_high"]


def test_rain_driver_is_negative_and_explained(rainy):
    drivers = json.loads(rainy["drivers"])
    # Veterans Day 2023 fell on a Saturday, so the history has a holiday market day.
    assert drivers.keys() == {"rain", "temperature", "event", "holiday", "season", "trend"}
    assert drivers["rain"] < -0.1
    text = explain(drivers, rainy.to_dict())
    assert "rain forecast (12 mm), \u2212" in text
    assert len(text) <= 160


def test_an_ordinary_day_has_no_event_or_holiday_effect(dry, festival):
    # 31 May 2025: no event, not a US holiday. The typical day is an ordinary one, so neither
    # driver has anything to say; the absence of an event is no reason for the vendor.
    drivers = json.loads(dry["drivers"])
    assert drivers["event"] == 0
    assert drivers["holiday"] == 0
    assert "event" not in explain(drivers, dry.to_dict())
    assert "event nearby (~8,000 people), +" in explain(
        json.loads(festival["drivers"]), festival.to_dict()
    )


def test_drivers_multiply_up_to_the_change_between_days(dry, rainy, festival):
    # Same date and history: only the day's conditions differ, so the ratio of the drivers'
    # products is the ratio of the forecasts.
    def product(day):
        return np.prod([1 + share for share in json.loads(day["drivers"]).values()])

    for day in (rainy, festival):
        ratio = day["units_p50"] / dry["units_p50"]
        assert product(day) / product(dry) == pytest.approx(ratio, rel=0.05)


def test_output_has_one_row_per_future_day_in_order(two_years):
    history, future = split(two_years)
    result = forecast_series(history, future.iloc[::-1], 0.8, SETTINGS)
    assert list(result.columns) == SERIES_FORECAST_COLUMNS
    assert list(result["market_date"]) == sorted(future["market_date"])
    assert (result["history_market_days"] == len(history)).all()


def test_yearly_season_needs_a_year_of_history(make_series):
    history, future = split(make_series(30))
    drivers = json.loads(forecast_series(history, future, 0.7, PROPHET)["drivers"].iloc[0])
    assert "season" not in drivers
    assert "rain" in drivers


def test_a_country_without_holiday_calendar_still_forecasts(make_series):
    series = make_series(20).assign(country="XX")
    history, future = split(series)
    result = forecast_series(history, future, 0.7, PROPHET)
    assert (result["model"] == "prophet").all()
    assert "holiday" not in json.loads(result["drivers"].iloc[0])


@pytest.mark.parametrize("n_history", [0, 1, 2, 7])
def test_short_history_falls_back_to_recent_sales(make_series, n_history):
    history, future = split(make_series(n_history))
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert len(result) == len(future)
    assert (result["model"] == "recent_quantile").all()
    assert (result["history_market_days"] == n_history).all()
    quantiles = result[["units_low", "units_p50", "units_high", "units_at_service_level"]]
    assert (quantiles >= 0).all().all()
    if n_history == 0:
        assert (quantiles == 0).all().all()
    else:
        recent = history["units_sold"]
        assert quantiles.min().min() >= recent.min()
        assert quantiles.max().max() <= recent.max()


def test_one_point_forecasts_that_point(make_series):
    history, future = split(make_series(1))
    result = forecast_series(history, future, 0.9, SETTINGS)
    sold = history["units_sold"].iloc[0]
    assert (result[["units_low", "units_p50", "units_high"]] == sold).all().all()


def test_all_zero_history_forecasts_zero(make_series):
    history, future = split(make_series(40))
    history = history.assign(units_sold=0.0)
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert (result["model"] == "recent_quantile").all()
    assert (result[["units_low", "units_high", "units_at_service_level"]] == 0).all().all()
    assert json.loads(result["drivers"].iloc[0]) == {}


def test_missing_units_are_skipped(make_series):
    history, future = split(make_series(12))
    history.loc[history.index[:3], "units_sold"] = np.nan
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert (result["history_market_days"] == 9).all()


def test_history_without_any_units_is_an_error(make_series):
    history, future = split(make_series(12))
    with pytest.raises(ValueError, match="units_sold is NaN on all 12 history rows"):
        forecast_series(history.assign(units_sold=np.nan), future, 0.7, SETTINGS)


def test_future_overlapping_history_is_an_error(make_series):
    history, future = split(make_series(12))
    with pytest.raises(ValueError, match="not after the last history day"):
        forecast_series(history, history.tail(1), 0.7, SETTINGS)
    with pytest.raises(ValueError, match="repeated market_date"):
        forecast_series(pd.concat([history, history.tail(1)]), future, 0.7, SETTINGS)


def test_missing_columns_are_named(make_series):
    history, future = split(make_series(12))
    with pytest.raises(ValueError, match=r"future is missing columns \['precip_mm'\]"):
        forecast_series(history, future.drop(columns="precip_mm"), 0.7, SETTINGS)


def test_missing_weather_is_filled_from_the_series_history(make_series):
    history, future = split(make_series(40))
    future["precip_mm"] = np.nan
    future["temp_max_c"] = np.nan
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert result[["units_low", "units_p50", "units_high"]].notna().all().all()
    assert result["precip_mm"].isna().all()  # the facts stay unknown; only the model fills
