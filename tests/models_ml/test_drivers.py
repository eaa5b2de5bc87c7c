"""Drivers are relative changes to a typical day: never below −100 %, multiplying up to the day."""

import json
import re
from datetime import date

import numpy as np
import pytest

from models_ml.forecast import ForecastSettings, forecast_series
from models_ml.prophet_model import _MAX_LOG_RATIO, _ZERO_RATIO, _decompose
from models_ml.recommend import FEW_UNITS, MAX_EXPLANATION_CHARS, explain

# Prophet's drivers are under test: no other model may win the series.
SETTINGS = ForecastSettings(workers=1, models=("prophet",))
COMPONENTS = ["season", "rain", "temperature", "event", "holiday"]
PERCENT = re.compile("([+\u2212])(\\d+) %")


def stated_percentages(text: str) -> list[int]:
    return [int(number) * (-1 if sign == "\u2212" else 1) for sign, number in PERCENT.findall(text)]


@pytest.fixture(scope="module")
def random_days() -> tuple[np.ndarray, np.ndarray]:
    """Trend ratios and component departures from ordinary days to ones the model puts below 0.

    Mixed signs, departures that cancel, trends at or below zero and combined effects that take
    the day to zero or below are all common here, unlike in a real fit.
    """
    rng = np.random.default_rng(11)
    n = 5000
    trend_ratio = np.where(rng.random(n) < 0.2, rng.uniform(-0.5, 0.05, n), rng.uniform(0, 3, n))
    size = rng.choice([0.02, 0.3, 1.0, 3.0], size=(n, 1))
    departures = rng.normal(0, 1, (n, len(COMPONENTS))) * size
    departures[rng.random((n, len(COMPONENTS))) < 0.2] = 0.0  # an ordinary day: no event
    departures[:50, 1] = -departures[:50, 2]  # rain and temperature cancel out
    departures[:50, [0, 3, 4]] = 0.0
    return trend_ratio, departures


def test_drivers_are_never_below_minus_100_percent(random_days):
    drivers = _decompose(*random_days)
    assert drivers.shape == (len(random_days[0]), len(COMPONENTS) + 1)
    assert np.isfinite(drivers).all()
    assert drivers.min() >= -1.0
    assert (drivers == -1.0).any()  # the bound is reached, not avoided by shrinking


def test_drivers_multiply_up_to_the_forecast_ratio(random_days):
    trend_ratio, departures = random_days
    combined = 1 + departures.sum(axis=1)
    forecast_ratio = np.maximum(trend_ratio * combined, 0)
    # A negative trend times negative components is positive in Prophet, and zero here.
    forecast_ratio[(trend_ratio < 0) & (combined < 0)] = 0
    drivers = _decompose(trend_ratio, departures)
    product = np.prod(1 + drivers, axis=1)
    # Exact, except where the components leave less than _ZERO_RATIO of the day (that is zero)
    # and where a factor beyond ×10,000 is capped (only these made-up extremes reach it).
    zeroed = combined < _ZERO_RATIO
    capped = drivers.max(axis=1) >= np.expm1(_MAX_LOG_RATIO) * (1 - 1e-12)
    exact = ~zeroed & ~capped
    assert exact.mean() > 0.7 and zeroed.any()
    np.testing.assert_allclose(product[exact], forecast_ratio[exact], rtol=1e-9, atol=1e-12)
    assert (product[zeroed] == 0).all()
    assert (forecast_ratio[zeroed] <= _ZERO_RATIO * np.maximum(trend_ratio[zeroed], 0)).all()
    assert (product[capped] <= forecast_ratio[capped]).all()


def test_drivers_keep_the_direction_of_their_component(random_days):
    trend_ratio, departures = random_days
    drivers = _decompose(trend_ratio, departures)
    assert (np.sign(drivers[:, :-1]) * np.sign(departures) >= 0).all()
    assert (drivers[:, :-1][departures == 0] == 0).all()  # no event: no event effect
    np.testing.assert_allclose(drivers[:, -1], np.maximum(trend_ratio, 0) - 1)


def test_a_day_without_departures_is_the_trend_alone():
    drivers = _decompose(np.array([1.2, 0.5]), np.zeros((2, 3)))
    np.testing.assert_allclose(drivers, [[0, 0, 0, 0.2], [0, 0, 0, -0.5]], atol=1e-12)


def test_explanations_never_state_less_than_minus_100_percent(random_days):
    trend_ratio, departures = random_days
    facts = {"precip_mm": 5.0, "temp_max_c": 9.0, "event_attendance": 8000.0, "units_p50": 20.0}
    names = [*COMPONENTS, "trend"]
    for row in _decompose(trend_ratio[:1000], departures[:1000]):
        text = explain(dict(zip(names, row.tolist(), strict=True)), facts)
        assert len(text) <= MAX_EXPLANATION_CHARS
        assert min(stated_percentages(text), default=0) >= -100, text


def cliff_series(make_series, seed: int):
    """30 Saturdays of a seasonal product whose last 12 market days sold nothing (strawberries
    in autumn): the trend heads for zero and beyond, the case that used to read "−128 %"."""
    series = make_series(30, n_future=3, seed=seed, first_day=date(2024, 5, 4))
    history, future = series[~series["is_future"]].copy(), series[series["is_future"]]
    history.loc[history.index[-12:], "units_sold"] = 0.0
    return history, future


@pytest.mark.parametrize("seed", range(6))
def test_a_product_that_stopped_selling_reads_sensibly(make_series, seed):
    history, future = cliff_series(make_series, seed)
    result = forecast_series(history, future, 0.7, SETTINGS)
    assert (result["model"] == "prophet").all()
    for _, day in result.iterrows():
        drivers = json.loads(day["drivers"])
        assert min(drivers.values()) >= -1.0
        text = explain(drivers, day.to_dict())
        assert min(stated_percentages(text), default=0) >= -100, text
        if day["units_p50"] < FEW_UNITS:
            assert text.startswith("few sales"), text


def test_a_product_out_of_season_gets_a_plain_reason(make_series):
    history, future = cliff_series(make_series, 0)
    result = forecast_series(history, future, 0.7, SETTINGS)
    texts = [explain(json.loads(day["drivers"]), day.to_dict()) for _, day in result.iterrows()]
    assert texts == ["few sales recently"] * 3
