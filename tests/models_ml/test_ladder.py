"""The model ladder: selection by backtest, count-aware quantiles, censoring, priors, reuse."""

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from models_ml import candidates, censoring, ladder, priors
from models_ml.forecast import forecast_all, forecast_series
from models_ml.settings import ForecastSettings

SETTINGS = ForecastSettings(workers=1)
LEVELS = np.array([0.1, 0.5, 0.9, 0.7])


def split(series: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    return series[~series["is_future"]], series[series["is_future"]].copy()


def scored(actual, **forecasts) -> ladder.Scored:
    actual = np.asarray(actual, dtype=float)
    columns = {
        name: np.tile(np.asarray(q, float)[:, None], (1, 4)) for name, q in forecasts.items()
    }
    return ladder.Scored(actual, actual, actual, columns)


def test_selection_takes_the_least_pinball_loss():
    origins = [scored([10, 12], exp_smoothing=[10, 12], moving_average=[5, 5])]
    assert ladder._least_loss(origins, ["moving_average", "exp_smoothing"], 0.7) == "exp_smoothing"


def test_a_single_rung_needs_a_clear_margin_over_the_ensemble():
    # exp_smoothing's loss is 5 % below the ensemble's: within the margin, so noise.
    close = [scored([10.0] * 10, exp_smoothing=[9.0] * 10, ensemble=[8.95] * 10)]
    assert ladder._least_loss(close, ["exp_smoothing", "ensemble"], 0.7) == "ensemble"
    clear = [scored([10.0] * 10, exp_smoothing=[9.0] * 10, ensemble=[5.0] * 10)]
    assert ladder._least_loss(clear, ["exp_smoothing", "ensemble"], 0.7) == "exp_smoothing"


def test_the_ensemble_leans_towards_the_members_that_backtest_better():
    # log_smoothing misses by twice as much as exp_smoothing: half of its weight.
    origins = [scored([10.0] * 6, exp_smoothing=[9.0] * 6, log_smoothing=[8.0] * 6)]
    weights = ladder.ensemble_weights(origins, ["exp_smoothing", "log_smoothing"], 0.7)
    assert weights == pytest.approx({"exp_smoothing": 2 / 3, "log_smoothing": 1 / 3})
    blended = ladder.weighted_quantiles(origins[0].forecasts, weights)
    assert blended[:, -1] == pytest.approx([9 * 2 / 3 + 8 / 3] * 6)


def test_ensemble_weights_are_equal_until_a_backtest_tells_the_members_apart():
    names = ["exp_smoothing", "log_smoothing"]
    assert ladder.ensemble_weights([], names, 0.7) == {"exp_smoothing": 0.5, "log_smoothing": 0.5}
    nothing_sold = [scored([0.0] * 3, exp_smoothing=[0.0] * 3, log_smoothing=[0.0] * 3)]
    assert ladder.ensemble_weights(nothing_sold, names, 0.7) == pytest.approx(
        {"exp_smoothing": 0.5, "log_smoothing": 0.5}
    )
    one_perfect = [scored([10.0] * 3, exp_smoothing=[10.0] * 3, log_smoothing=[8.0] * 3)]
    assert ladder.ensemble_weights(one_perfect, names, 0.7) == pytest.approx(
        {"exp_smoothing": 1.0, "log_smoothing": 0.0}
    )


def test_prophet_drivers_count_at_its_weight_in_the_ensemble(make_series):
    history, _ = split(make_series(20))
    series = candidates.History(history["market_date"], history["units_sold"])
    typical = ladder._typical_units(series)
    rain = [{"rain": -0.36, "trend": 0.0}]
    half = ladder._blend_drivers(series, np.array([typical * 0.8]), rain, 0.5)
    assert half[0]["rain"] == pytest.approx(-0.2)  # 0.64 ** 0.5 = 0.8
    assert half[0]["trend"] == pytest.approx(0.0, abs=1e-4)
    all_of_it = ladder._blend_drivers(series, np.array([typical * 0.64]), rain, 1.0)
    assert all_of_it[0]["rain"] == pytest.approx(-0.36)


def test_intermittent_products_never_go_to_prophet(make_series):
    series = make_series(80, seed=5)
    rng = np.random.default_rng(5)
    history, future = split(series)
    history = history.assign(units_sold=np.where(rng.random(len(history)) < 0.6, 0.0, 3.0))
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert result["model"].iloc[0] in ladder.CHEAP_RUNGS + (ladder.ENSEMBLE,)
    assert result["model"].iloc[0] != "prophet"
    backtest = pd.read_json(pd.io.common.StringIO(result["backtest"].iloc[0]), typ="series")
    assert backtest["days"] > 0 and backtest["pinball_weekday_quantile"] > 0


def test_weather_driven_series_brings_prophet_in(two_years):
    # Rain takes 30 % and events add 25 %: only Prophet sees the day's conditions, so it (or the
    # ensemble it is part of) beats every rung that cannot.
    history, future = split(two_years)
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert result["model"].iloc[0] in ("prophet", "ensemble")
    drivers = pd.read_json(pd.io.common.StringIO(result["drivers"].iloc[0]), typ="series")
    assert "rain" in drivers.index


def test_count_aware_quantiles_are_whole_negative_binomial_units():
    mean = np.array([0.4, 3.0])
    quantiles = candidates.count_quantiles(mean, 2.0, LEVELS)
    assert (quantiles == np.round(quantiles)).all()
    expected = stats.nbinom.ppf(0.7, 2.0, 2.0 / (2.0 + 3.0))
    assert quantiles[1, 3] == expected
    assert quantiles[0, 0] == 0  # a product that sells less than one a day: often none


def test_empirical_quantiles_are_calibrated_on_their_own_error_distribution():
    rng = np.random.default_rng(3)
    past_forecasts = np.full(400, 50.0)
    past_actuals = rng.poisson(50, 400).astype(float)
    quantiles = candidates.quantiles_from_errors(
        np.array([50.0]), past_forecasts, past_actuals, LEVELS, count_aware=False
    )[0]
    fresh = rng.poisson(50, 4000)
    for level, quantile in zip(LEVELS, quantiles, strict=True):
        assert (fresh <= quantile).mean() == pytest.approx(level, abs=0.05)


def test_count_aware_quantiles_are_centred_on_what_sold_not_on_a_low_forecast():
    # A rung whose forecasts ran at half of what sold, as a geometric level does on sales that
    # come in bursts: its negative binomial is centred on the sales, ~Poisson(4), not on 2.
    rng = np.random.default_rng(4)
    past_actuals = rng.poisson(4.0, 400).astype(float)
    low = candidates.quantiles_from_errors(
        np.array([2.0]), np.full(400, 2.0), past_actuals, LEVELS, count_aware=True
    )[0]
    unbiased = candidates.quantiles_from_errors(
        np.array([4.0]), np.full(400, 4.0), past_actuals, LEVELS, count_aware=True
    )[0]
    assert low.tolist() == unbiased.tolist()
    assert low[1] == 4 and low[3] == stats.poisson.ppf(0.7, 4.0)


def test_low_volume_series_get_whole_unit_quantiles(make_series):
    series = make_series(60, seed=8)
    history, future = split(series)
    history = history.assign(units_sold=np.random.default_rng(8).poisson(2.0, len(history)))
    result = forecast_series(history, future, 0.7, SETTINGS)
    if result["model"].iloc[0] not in ("weekday_quantile", "ensemble"):
        quantiles = result[["units_low", "units_high", "units_at_service_level"]].to_numpy()
        assert (quantiles == np.round(quantiles)).all()
    assert (result["units_at_service_level"] >= result["units_p50"]).all()


def test_a_sold_out_day_is_demand_above_its_sales():
    assert censoring.expected_at_least(20, 30) > 29  # usual day 30: sold out at 20 means ~30
    assert 20 < censoring.expected_at_least(20, 20) < 25  # at the usual level: a little more
    assert censoring.expected_at_least(20, 5) == pytest.approx(20, abs=0.5)
    assert censoring.expected_at_least(1000, 10) == 1000
    units = np.array([30.0, 28.0, 20.0, 31.0])
    corrected = censoring.corrected_demand(units, np.array([False, False, True, False]))
    assert corrected[[0, 1, 3]].tolist() == [30.0, 28.0, 31.0]
    assert corrected[2] > 28


def test_censoring_lifts_the_forecast_of_a_product_that_keeps_selling_out(make_series):
    # True demand ~40, but the vendor brings 30 and sells out on most days.
    history, future = split(make_series(52, seed=2))
    capped = history.assign(units_sold=np.minimum(history["units_sold"], 30.0))
    sold_out = capped["units_sold"] >= 30
    naive = forecast_series(capped, future, 0.7, SETTINGS)
    censored = forecast_series(capped.assign(is_censored=sold_out), future, 0.7, SETTINGS)
    assert sold_out.mean() > 0.4
    assert (censored["units_at_service_level"] > naive["units_at_service_level"]).all()
    assert (censored["units_at_service_level"] > 30).all()


def test_a_new_product_starts_from_its_category(make_series):
    rows = pd.concat(
        [
            make_series(40, product_id="rye", seed=1),
            make_series(40, product_id="spelt", seed=2),
            make_series(2, product_id="new-bread", seed=3).assign(
                units_sold=lambda f: f["units_sold"] * 0
            ),
        ],
        ignore_index=True,
    )
    found = priors.series_priors(rows, SETTINGS)
    assert set(found) == {("v1", "m1", "new-bread")}
    assert found["v1", "m1", "new-bread"] > 20
    levels = rows[["vendor_id", "product_id"]].drop_duplicates().assign(service_level=0.7)
    run = forecast_all(rows, levels, SETTINGS)
    new = run.forecasts[run.forecasts["product_id"] == "new-bread"]
    assert (new["model"] == priors.MODEL_NAME).all()
    # Two days of zeros pull it down from the category's ~40, not to nothing.
    assert 5 < new["units_p50"].iloc[0] < found["v1", "m1", "new-bread"]


def test_unchanged_series_reuse_their_forecast_and_changed_ones_refit(make_series):
    rows = pd.concat(
        [make_series(20, product_id=p, seed=i) for i, p in enumerate(["a", "b", "c"])],
        ignore_index=True,
    )
    levels = rows[["vendor_id", "product_id"]].drop_duplicates().assign(service_level=0.7)
    first = forecast_all(rows, levels, SETTINGS)
    again = forecast_all(rows, levels, SETTINGS, previous=first.forecasts)
    assert again.reused == 3
    pd.testing.assert_frame_equal(again.forecasts, first.forecasts)

    changed = rows.copy()
    day = changed.index[(changed["product_id"] == "b") & ~changed["is_future"]][-1]
    changed.loc[day, "units_sold"] += 5  # a feedback report corrected b's last day
    rerun = forecast_all(changed, levels, SETTINGS, previous=first.forecasts)
    assert rerun.reused == 2
    refit = rerun.forecasts.set_index(["product_id", "market_date"])
    before = first.forecasts.set_index(["product_id", "market_date"])
    assert (refit.loc["b", "fingerprint"] != before.loc["b", "fingerprint"]).all()
    pd.testing.assert_frame_equal(refit.loc[["a", "c"]], before.loc[["a", "c"]])


def test_prophet_alone_can_be_asked_for(make_series):
    history, future = split(make_series(12))
    result = forecast_series(history, future, 0.7, ForecastSettings(workers=1, models=("prophet",)))
    assert (result["model"] == "prophet").all()


def test_unknown_models_are_refused():
    with pytest.raises(ValueError, match="models must be a non-empty selection"):
        ForecastSettings(models=("arima",))


def test_settings_list_every_rung():
    assert set(ladder.CHEAP_RUNGS) | {ladder.PROPHET, ladder.ENSEMBLE} == set(
        ForecastSettings().models
    )


def test_seasonal_naive_is_the_previous_same_weekday():
    days = np.array(
        [date(2024, 1, 1) + timedelta(days=d) for d in range(14)], dtype="datetime64[D]"
    )
    history = candidates.History(days, np.arange(14.0))
    targets = np.array([date(2024, 1, 15), date(2024, 1, 16)], dtype="datetime64[D]")
    assert candidates.seasonal_naive_point(history, targets).tolist() == [7.0, 8.0]
