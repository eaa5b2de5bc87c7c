import pandas as pd
import pytest

from models_ml.forecast import ERROR_COLUMNS, FORECAST_COLUMNS, ForecastSettings, forecast_all
from models_ml.settings import ALL_MODELS


@pytest.fixture(scope="module")
def features(make_series):
    """Three healthy series (Prophet, baseline, Prophet) and one whose units are all missing."""
    market_days = make_series
    broken = market_days(10, product_id="broken", seed=4).assign(units_sold=float("nan"))
    return pd.concat(
        [
            market_days(30, product_id="bread", seed=1),
            market_days(3, product_id="jam", seed=2),
            market_days(20, product_id="honey", seed=3, market_id="m2"),
            broken,
        ],
        ignore_index=True,
    )


@pytest.fixture(scope="module")
def service_levels():
    products = ["bread", "jam", "honey", "broken"]
    return pd.DataFrame({"vendor_id": "v1", "product_id": products, "service_level": 0.7})


def test_a_broken_series_is_reported_and_the_others_forecast(features, service_levels):
    run = forecast_all(features, service_levels, ForecastSettings(workers=1))
    assert list(run.errors.columns) == ERROR_COLUMNS
    assert run.errors[["vendor_id", "market_id", "product_id"]].values.tolist() == [
        ["v1", "m1", "broken"]
    ]
    assert "units_sold is NaN" in run.errors["error"].iloc[0]

    assert list(run.forecasts.columns) == FORECAST_COLUMNS
    models = run.forecasts.groupby("product_id")["model"].first().to_dict()
    # jam has 3 days: it borrows the typical day of the vendor's other bakery products.
    assert models["jam"] == "category_prior"
    assert models["bread"] in ALL_MODELS and models["honey"] in ALL_MODELS
    assert len(run.forecasts) == 3 * 2
    assert (run.forecasts["service_level"] == 0.7).all()
    assert (run.forecasts["units_low"] >= 0).all()


def test_two_workers_give_the_same_forecasts_as_one(features, service_levels):
    inline = forecast_all(features, service_levels, ForecastSettings(workers=1))
    pooled = forecast_all(features, service_levels, ForecastSettings(workers=2))
    pd.testing.assert_frame_equal(pooled.forecasts, inline.forecasts)
    pd.testing.assert_frame_equal(pooled.errors, inline.errors)


def test_series_without_service_level_is_reported(features, service_levels):
    run = forecast_all(features, service_levels.iloc[:1], ForecastSettings(workers=1))
    assert set(run.forecasts["product_id"]) == {"bread"}
    reported = run.errors.set_index("product_id")["error"]
    assert reported["jam"] == "no service level for vendor 'v1' × product 'jam'"


def test_series_without_upcoming_days_are_skipped(features, service_levels):
    past_only = features[~features["is_future"]]
    run = forecast_all(past_only, service_levels, ForecastSettings(workers=1))
    assert run.forecasts.empty
    assert list(run.forecasts.columns) == FORECAST_COLUMNS
    assert run.errors.empty


def test_duplicate_service_levels_are_rejected(features, service_levels):
    doubled = pd.concat([service_levels, service_levels.tail(1)])
    with pytest.raises(ValueError, match="1 duplicate vendor_id × product_id rows"):
        forecast_all(features, doubled, ForecastSettings(workers=1))
