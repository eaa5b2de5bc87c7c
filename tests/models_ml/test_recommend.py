import json
from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest

from models_ml.forecast import ForecastSettings, forecast_series
from models_ml.recommend import (
    FEW_SALES_EXPECTED,
    FEW_SALES_RECENTLY,
    FEW_SALES_THIS_TIME_OF_YEAR,
    RECOMMENDATION_COLUMNS,
    TYPICAL_DAY,
    explain,
    recommend,
)

PRODUCTS = pd.DataFrame({"vendor_id": ["v1"], "product_id": ["p1"], "product_name": ["Sourdough"]})


def forecasts(low, service, high, **overrides) -> pd.DataFrame:
    """forecast_all-shaped rows for vendor v1 × product p1, one per quantile triple."""
    n = len(low)
    rows = {
        "vendor_id": "v1",
        "market_id": "m1",
        "product_id": "p1",
        "market_date": [date(2025, 6, 7) + timedelta(weeks=i) for i in range(n)],
        "model": "prophet",
        "units_low": low,
        "units_p50": service,
        "units_high": high,
        "units_at_service_level": service,
        "drivers": json.dumps({"rain": -0.15}),
        "history_market_days": 52,
        "precip_mm": 12.0,
        "temp_max_c": 18.0,
        "event_attendance": 0.0,
        "service_level": 0.7,
    }
    return pd.DataFrame(rows | overrides)


def test_output_has_exactly_the_serving_columns():
    result = recommend(forecasts([3.2], [5.5], [8.1]), PRODUCTS)
    assert list(result.columns) == RECOMMENDATION_COLUMNS
    row = result.iloc[0]
    assert (row["recommended_units"], row["units_low"], row["units_high"]) == (6, 3, 9)
    assert row["product_name"] == "Sourdough"
    assert row["explanation"] == "rain forecast (12 mm), \u221215 %"


def test_units_are_ordered_non_negative_integers():
    rng = np.random.default_rng(7)
    low = rng.normal(5, 5, 200)
    high = low + rng.uniform(0, 10, 200)
    # The service level may fall outside the range's quantiles (τ 0.95 above a p90).
    service = low + rng.uniform(-3, 13, 200)
    result = recommend(forecasts(low, service, high), PRODUCTS)
    for column in ("recommended_units", "units_low", "units_high"):
        assert pd.api.types.is_integer_dtype(result[column])
    assert (result["units_low"] >= 0).all()
    assert (result["units_low"] <= result["recommended_units"]).all()
    assert (result["recommended_units"] <= result["units_high"]).all()


def test_negative_quantiles_are_clipped_to_zero():
    result = recommend(forecasts([-4.0], [-1.2], [-0.3]), PRODUCTS)
    assert result[["units_low", "recommended_units", "units_high"]].iloc[0].tolist() == [0, 0, 0]


def test_half_units_round_up():
    assert recommend(forecasts([1.0], [2.5], [4.0]), PRODUCTS)["recommended_units"].iloc[0] == 3


def test_recommendation_grows_with_the_service_level(make_series):
    series = make_series(52)
    history, future = series[~series["is_future"]], series[series["is_future"]]
    recommended = []
    for tau in (0.5, 0.7, 0.9):
        forecast = forecast_series(history, future, tau, ForecastSettings(workers=1))
        rows = forecast.assign(vendor_id="v1", market_id="m1", product_id="p1", service_level=tau)
        recommended.append(recommend(rows, PRODUCTS)["recommended_units"].to_numpy())
    assert (recommended[0] <= recommended[1]).all()
    assert (recommended[1] <= recommended[2]).all()
    assert (recommended[0] < recommended[2]).all()


def test_unknown_product_is_shown_by_its_id():
    result = recommend(forecasts([1.0], [2.0], [3.0], product_id="p9"), PRODUCTS)
    assert result["product_name"].iloc[0] == "p9"


def test_baseline_rows_say_why_there_are_no_reasons():
    rows = forecasts([0.0, 2.0], [0.0, 3.0], [0.0, 4.0], model="recent_quantile", drivers="{}")
    rows["history_market_days"] = [0, 3]
    explanations = recommend(rows, PRODUCTS)["explanation"].tolist()
    assert explanations[0] == "no sales history at this market yet"
    assert explanations[1].startswith("based on recent sales (3 past market days)")


def test_missing_quantile_is_an_error():
    with pytest.raises(ValueError, match="1 rows with a missing quantile"):
        recommend(forecasts([1.0], [np.nan], [3.0]), PRODUCTS)


def test_explain_names_the_three_largest_drivers_with_signs():
    drivers = {"rain": -0.152, "event": 0.2, "season": 0.06, "trend": 0.01, "temperature": -0.07}
    facts = {"precip_mm": 12.4, "event_attendance": 8437.0, "temp_max_c": 9.0}
    assert explain(drivers, facts) == (
        "event nearby (~8,400 people), +20 %; rain forecast (12 mm), \u221215 %; "
        "forecast high 9 °C, \u22127 %"
    )


def test_explain_without_facts_still_reads():
    assert explain({"rain": -0.2, "holiday": 0.1}) == (
        "rain forecast, \u221220 %; public holiday, +10 %"
    )


def test_small_drivers_make_a_typical_day():
    assert explain({"rain": 0.01, "trend": -0.04}) == TYPICAL_DAY
    assert explain({}) == TYPICAL_DAY


def test_explanation_stays_short():
    drivers = {f"a_very_long_driver_name_number_{i}_" * 4: 0.5 + i for i in range(3)}
    text = explain(drivers)
    assert len(text) <= 160
    assert text.startswith("a very long driver name number 2")


@pytest.mark.parametrize("facts", [{"event_attendance": 0.0}, {"event_attendance": np.nan}, None])
def test_no_event_is_not_a_reason(facts):
    # The demo printed "no event nearby, −5 %": the absence of an event is the normal case.
    drivers = {"trend": 0.21, "temperature": -0.07, "event": -0.05}
    assert (
        explain(drivers, facts) == "sales higher than usual lately, +21 %; temperature, \u22127 %"
    )


def test_holiday_is_a_reason_only_on_a_holiday():
    drivers = {"holiday": -0.08, "rain": -0.2}
    assert explain(drivers, {"holiday": False}) == "rain forecast, \u221220 %"
    assert (
        explain(drivers, {"holiday": True})
        == "rain forecast, \u221220 %; public holiday, \u22128 %"
    )


def test_trend_is_said_against_the_usual_level():
    assert explain({"trend": -0.2}) == "sales lower than usual lately, \u221220 %"
    assert explain({"trend": 0.214}) == "sales higher than usual lately, +21 %"


def test_rain_is_worded_by_the_forecast_not_the_sign():
    # A model that learned rain helps this product says a dry day lowers it: still a dry day.
    assert explain({"rain": -0.06}, {"precip_mm": 0.3}) == "dry forecast, \u22126 %"
    assert explain({"rain": 0.4}, {"precip_mm": 7.2}) == "rain forecast (7 mm), +40 %"


@pytest.mark.parametrize(
    ("drivers", "expected"),
    [
        ({"trend": -0.98, "temperature": -0.3, "event": 0.0}, FEW_SALES_RECENTLY),
        ({"season": -0.9, "trend": -0.2, "rain": 0.1}, FEW_SALES_THIS_TIME_OF_YEAR),
        ({"rain": -0.6, "trend": 0.1}, f"{FEW_SALES_EXPECTED}, rain forecast (12 mm)"),
        ({"trend": 0.02, "rain": 0.01}, FEW_SALES_EXPECTED),
        ({}, FEW_SALES_EXPECTED),
    ],
)
def test_a_near_zero_forecast_gets_one_plain_reason(drivers, expected):
    facts = {"precip_mm": 12.0, "event_attendance": 0.0, "units_p50": 0.4}
    assert explain(drivers, facts) == expected


def test_drivers_leaving_almost_nothing_get_a_plain_reason():
    # Together 5 % of a typical day: whatever the median, the model has little to go on.
    drivers = {"trend": -0.9, "temperature": -0.5}
    assert explain(drivers, {"temp_max_c": 8.0, "units_p50": 5.0}) == FEW_SALES_RECENTLY
    assert explain({"trend": -0.5, "temperature": -0.5}, {"units_p50": 5.0}) == (
        "sales lower than usual lately, \u221250 %; temperature, \u221250 %"
    )


def test_recommend_says_few_sales_for_a_near_zero_forecast():
    rows = forecasts([0.0], [0.4], [6.0], drivers=json.dumps({"trend": -0.97, "rain": -0.15}))
    assert recommend(rows, PRODUCTS)["explanation"].iloc[0] == FEW_SALES_RECENTLY
