"""Prophet on one market-day series, with weather, events and holidays as regressors.

The series has one point per market day, not per calendar day, so only effects a sparse series
can identify are modelled: a trend, a yearly seasonality once the history covers a year, a
weekday pattern when the series has several weekdays (a daily series), and regressors for rain,
temperature, nearby events and public holidays. Everything is
multiplicative: rain takes a share of the day's sales, it does not remove a fixed number of
units, and that relative change is what the vendor reads in the explanation.
"""

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import holidays
import numpy as np
import pandas as pd

from models_ml.settings import ForecastSettings

if TYPE_CHECKING:
    from prophet import Prophet

MODEL_NAME = "prophet"
# Prophet's name for the seasonality, and the driver name the vendor-facing text knows it by.
_YEARLY = "yearly"
_SEASON_DRIVER = "season"
_WEEKLY = "weekly"
_WEEKDAY_DRIVER = "weekday"
# Three weeks of days before a weekday pattern is worth three Fourier pairs.
_WEEKLY_MIN_DAYS = 21
_WEEKLY_FOURIER_ORDER = 3


def _log1p_non_negative(values: pd.Series) -> pd.Series:
    return np.log1p(values.clip(lower=0))


def _identity(values: pd.Series) -> pd.Series:
    return values


@dataclass(frozen=True)
class _Regressor:
    driver: str
    column: str
    transform: Callable[[pd.Series], pd.Series]


# log1p because both effects saturate: a few millimetres of rain already keep most casual
# shoppers home, and a 50,000-person festival does not bring 10x the footfall of a 5,000 one.
REGRESSORS = (
    _Regressor("rain", "precip_mm", _log1p_non_negative),
    _Regressor("temperature", "temp_max_c", _identity),
    _Regressor("event", "event_attendance", _log1p_non_negative),
)
HOLIDAY = "holiday"


@dataclass(frozen=True)
class ProphetFit:
    """Prophet's expected units (clipped at 0) on the history and the future days, and drivers."""

    fitted: np.ndarray
    forecast: np.ndarray
    drivers: list[dict[str, float]]


def fit_predict(
    history: pd.DataFrame, future: pd.DataFrame, settings: ForecastSettings
) -> ProphetFit:
    """Fit Prophet on ``history`` and predict it and the days in ``future``.

    Both frames hold rows of one series sorted by market_date, with units_sold (the demand to
    learn, in ``history``), precip_mm, temp_max_c, event_attendance and country; a non-null
    is_holiday column, when present, replaces the country's holiday calendar. ``history`` has
    at least two distinct units_sold values. The drivers are each component's effect relative
    to the series' typical level on each future day (see _drivers). The spread around the
    forecast is the ladder's business (it comes from Prophet's own errors), so no predictive
    samples are drawn.
    """
    prophet_class = _prophet_class()
    train = pd.DataFrame(
        {
            "ds": pd.to_datetime(history["market_date"]).to_numpy(),
            "y": history["units_sold"].to_numpy(float),
        }
    )
    ahead = pd.DataFrame({"ds": pd.to_datetime(future["market_date"]).to_numpy()})
    for name, (past, upcoming) in _regressor_values(history, future, settings).items():
        train[name] = past
        ahead[name] = upcoming

    model = prophet_class(
        growth="linear",
        yearly_seasonality=False,
        weekly_seasonality=False,
        daily_seasonality=False,
        seasonality_mode="multiplicative",
        uncertainty_samples=0,
    )
    span = train["ds"].iloc[-1] - train["ds"].iloc[0]
    if span >= pd.Timedelta(days=settings.yearly_min_span_days):
        # Added by hand rather than yearly_seasonality=True: that flag means Prophet's order 10
        # and, below 730 days, a warning on every fit.
        model.add_seasonality(_YEARLY, period=365.25, fourier_order=settings.yearly_fourier_order)
    weekdays = train["ds"].dt.day_of_week
    if weekdays.nunique() > 1 and len(train) >= _WEEKLY_MIN_DAYS:
        # A daily series (or a market held on several weekdays): the weekday matters. A weekly
        # market's series has one weekday and nothing to learn here.
        model.add_seasonality(_WEEKLY, period=7, fourier_order=_WEEKLY_FOURIER_ORDER)
    regressor_names = [name for name in train.columns if name not in ("ds", "y")]
    for name in regressor_names:
        model.add_regressor(name, prior_scale=settings.regressor_prior_scale)

    try:
        # Prophet 1.5 picks Newton below 100 points, several times slower than L-BFGS here;
        # Prophet still falls back to Newton if L-BFGS fails.
        model.fit(train, algorithm="LBFGS", seed=settings.seed)
    finally:
        model.stan_backend.cleanup()  # else cmdstan's CSVs pile up in a long-lived worker

    components = list(model.seasonalities) + regressor_names
    return _predict(model, train.drop(columns="y"), ahead, components)


def _prophet_class() -> "type[Prophet]":
    """Import Prophet with its chatter turned down; imported lazily so recommend stays light."""
    # prophet.plot logs an ERROR at import when plotly is missing; we never plot.
    logging.getLogger("prophet.plot").setLevel(logging.CRITICAL)
    from cmdstanpy.utils import get_logger
    from prophet import Prophet

    # cmdstanpy configures its logger on first use, so set the level through it; two INFO lines
    # per fit would drown a run's log. Prophet's own INFO is about its changepoint grid.
    get_logger().setLevel(logging.WARNING)
    logging.getLogger("prophet").setLevel(logging.WARNING)
    return Prophet


def _regressor_values(
    history: pd.DataFrame, future: pd.DataFrame, settings: ForecastSettings
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Regressor columns for the fit and the forecast, keyed by driver name.

    Gaps are filled with the series' own history median (a typical day: no claim of rain or
    sun). A regressor that never varied in the history is left out, since its effect cannot be
    learned and Prophet would only add a coefficient pinned to its prior.
    """
    values = {}
    for regressor in REGRESSORS:
        typical = history[regressor.column].median()
        if pd.isna(typical):
            continue
        past = regressor.transform(history[regressor.column].fillna(typical))
        if past.nunique() < 2:
            continue
        upcoming = regressor.transform(future[regressor.column].fillna(typical))
        values[regressor.driver] = (past.to_numpy(float), upcoming.to_numpy(float))

    # One pooled public-holiday indicator rather than Prophet's effect per named holiday: a
    # weekly market meets each holiday at most once a year, too rarely to learn it on its own.
    if "is_holiday" in history.columns and history["is_holiday"].notna().all():
        past = history["is_holiday"].astype(float).to_numpy()
        if past.any() and settings.country_holidays:
            values[HOLIDAY] = (past, future["is_holiday"].fillna(False).astype(float).to_numpy())
        return values
    country = _country(history, future)
    if settings.country_holidays and country is not None:
        years = pd.concat([history["market_date"], future["market_date"]])
        calendar = _holiday_calendar(country, tuple(sorted(pd.to_datetime(years).dt.year.unique())))
        if calendar is not None:
            past = _is_holiday(history["market_date"], calendar)
            if past.any():
                values[HOLIDAY] = (past, _is_holiday(future["market_date"], calendar))
    return values


def _country(history: pd.DataFrame, future: pd.DataFrame) -> str | None:
    countries = pd.concat([history["country"], future["country"]]).dropna()
    return str(countries.iloc[0]) if len(countries) else None


@functools.lru_cache(maxsize=64)  # the same few countries and years for every series of a run
def _holiday_calendar(country: str, years: tuple[int, ...]) -> holidays.HolidayBase | None:
    try:
        return holidays.country_holidays(country, years=[int(year) for year in years])
    except NotImplementedError:
        # The holidays package does not cover this country: forecast without a holiday effect
        # rather than fail the series.
        return None


def _is_holiday(dates: pd.Series, calendar: holidays.HolidayBase) -> np.ndarray:
    return np.array([day in calendar for day in pd.to_datetime(dates).dt.date], dtype=float)


# Regressors whose absence is a day's normal state (no event nearby, not a public holiday): their
# effect is measured from "absent", so an ordinary day carries none of it.
_ABSENT_IS_TYPICAL = frozenset({"event", HOLIDAY})
# A combined effect below this share of a typical day counts as taking the day to zero.
_ZERO_RATIO = 1e-3
# Effects are reported up to ×10,000 so the JSON stays finite when a near-zero typical level
# makes a ratio explode; no real series comes near it.
_MAX_LOG_RATIO = float(np.log(1e4))


def _predict(
    model: "Prophet", past: pd.DataFrame, ahead: pd.DataFrame, components: list[str]
) -> ProphetFit:
    """yhat = trend × (1 + Σ c) on past and future days, and the future days' drivers.

    Drivers are each component's effect on each future day, relative to the series' typical level.

    The model says yhat = trend × (1 + Σ c). The typical level is mean(trend) × (1 + Σ ref(c))
    over the history, where ref(c) is c's history mean, except for the event and holiday
    regressors, whose reference is their value on a day without event or holiday: a typical
    day is an ordinary one, and on such a day those two drivers are exactly 0.

    Drivers are multiplicative, (1 + driver) is the factor the component applies, and the
    factors of a day multiply up to max(yhat, 0) / typical level, so each driver is ≥ −100 %
    (exactly −100 % only when it brings the day to nothing). See _decompose for the split and
    its two exceptions, both days the model puts at (or, by a sign artefact, above) zero.
    """
    frame = pd.concat([past, ahead], ignore_index=True)
    in_past = np.arange(len(frame)) < len(past)
    trend = _trend(model, frame["ds"])
    effects = _components(model, frame, components)
    past_c, ahead_c = effects[in_past], effects[~in_past].reset_index(drop=True)
    yhat = np.clip(trend * (1.0 + effects.sum(axis=1).to_numpy(float)), 0, None)
    fitted, forecast = yhat[in_past], yhat[~in_past]
    typical_trend = float(trend[in_past].mean())
    reference = past_c.mean()
    for name in components:
        if name in _ABSENT_IS_TYPICAL:
            reference[name] = _value_when_absent(past[name].to_numpy(float), past_c[name])
    scale = 1.0 + float(reference.sum())
    if typical_trend <= 0 or scale <= 0:
        # A typical level of zero or below has no meaningful shares.
        return ProphetFit(fitted, forecast, [{} for _ in range(len(ahead))])

    trend_ratio = trend[~in_past] / typical_trend
    departures = ((ahead_c - reference) / scale).to_numpy(float)
    factors = _decompose(trend_ratio, departures)
    renamed = {_YEARLY: _SEASON_DRIVER, _WEEKLY: _WEEKDAY_DRIVER}
    names = [renamed.get(name, name) for name in components] + ["trend"]
    drivers = [
        {name: round(float(value), 4) + 0.0 for name, value in zip(names, row, strict=True)}
        for row in factors  # + 0.0: no "-0.0"
    ]
    return ProphetFit(fitted, forecast, drivers)


def _trend(model: "Prophet", dates: pd.Series) -> np.ndarray:
    """Prophet's linear trend on ``dates``, as model.predict_trend computes it.

    Here and in _components the fitted model is evaluated directly: Prophet's own predict
    path rebuilds its feature matrix through pandas crosstabs, a third of a fit's time for a
    few rows. tests/models_ml/test_prophet_model.py holds both to Prophet's own numbers.
    """
    t = ((dates - model.start) / model.t_scale).to_numpy(float)
    k = float(np.nanmean(model.params["k"]))
    m = float(np.nanmean(model.params["m"]))
    deltas = np.nanmean(model.params["delta"], axis=0)
    return model.piecewise_linear(t, deltas, k, m, model.changepoints_t) * model.y_scale


def _components(model: "Prophet", frame: pd.DataFrame, components: list[str]) -> pd.DataFrame:
    """Each multiplicative component on the rows of ``frame`` (ds and the regressor columns),
    as model.predict_seasonal_components computes it."""
    # Prophet's column order: the seasonalities' Fourier terms, then the regressors.
    blocks = [
        model.fourier_series(frame["ds"], props["period"], props["fourier_order"])
        for props in model.seasonalities.values()
    ]
    blocks += [
        ((frame[name].to_numpy(float) - props["mu"]) / props["std"])[:, None]
        for name, props in model.extra_regressors.items()
    ]
    if not blocks:
        # A few weeks of one weekday and no covariates: Prophet is its trend alone.
        return pd.DataFrame(index=frame.index)
    design = np.hstack(blocks)
    beta = np.nanmean(model.params["beta"], axis=0)
    columns = model.train_component_cols
    return pd.DataFrame(
        {name: design @ (columns[name].to_numpy(float) * beta) for name in components}
    )


def _value_when_absent(values: np.ndarray, component: pd.Series) -> float:
    """A regressor's component on a day where the regressor is 0 (it is affine in the value)."""
    if np.unique(values).size < 2:
        return float(component.mean())
    _, intercept = np.polyfit(values, component.to_numpy(float), 1)
    return float(intercept)


def _decompose(trend_ratio: np.ndarray, departures: np.ndarray) -> np.ndarray:
    """Split each day's forecast-to-typical ratio into one driver per component, trend last.

    ``trend_ratio`` is trend / typical trend per day; ``departures`` (days × components) are
    (c − ref(c)) / (1 + Σ ref(c)), so the components together multiply the day by
    b = 1 + Σ departures. Every driver is ≥ −1, never of the opposite sign to its departure,
    and Π (1 + driver) = max(trend_ratio, 0) × b, or 0 when b < _ZERO_RATIO. That is
    max(trend_ratio × b, 0), the forecast's ratio to the typical level, except on a day where
    b is below _ZERO_RATIO but above 0 (off by less than _ZERO_RATIO of the trend) and on one
    where trend and components are both negative, whose positive product is an artefact of
    Prophet's yhat = trend × (1 + Σ c) and counts as zero.

    - trend: max(trend_ratio, 0) − 1; a trend at or below zero is −100 % on its own.
    - components: b is split in log space in proportion to the departures (Prophet adds them
      inside the multiplier), driver_i = exp(log b × departure_i / Σ departures) − 1, which is
      exp(departure_i) − 1 when Σ departures = 0.
    - when b < _ZERO_RATIO the components together take the day to nothing: the most negative
      one is −100 % and the others 0; all are 0 if the trend is already −100 %.
    """
    trend_ratio = np.asarray(trend_ratio, dtype=float)
    departures = np.atleast_2d(np.asarray(departures, dtype=float))
    combined = 1.0 + departures.sum(axis=1)
    total = combined - 1.0
    alive = combined >= _ZERO_RATIO
    log_combined = np.log(np.where(alive, combined, 1.0))
    small = np.abs(total) < 1e-9
    per_unit = np.where(small, 1.0, log_combined / np.where(small, 1.0, total))
    exponents = np.minimum(departures * per_unit[:, None], _MAX_LOG_RATIO)
    effects = np.expm1(exponents)

    dead = ~alive
    effects[dead] = 0.0
    # A day the trend already takes to zero needs no component to do it again.
    dead_alone = np.flatnonzero(dead & (trend_ratio > 0))
    if dead_alone.size:
        effects[dead_alone, departures[dead_alone].argmin(axis=1)] = -1.0
    trend = np.maximum(trend_ratio, 0.0) - 1.0
    return np.column_stack([effects, trend])
