"""The cheap rungs of the model ladder: plain NumPy on one series' observed days.

Every rung maps a history (the days the product could sell, oldest first, one value each) and
the dates to forecast to quantiles of demand. "Same weekday" is the seasonal unit throughout:
for a daily series it is the same day last week, for a weekly market it is the previous market
day, so the rungs need no idea of which kind of series they are given.

Point rungs (seasonal_naive, moving_average, exp_smoothing, log_smoothing) turn their point forecast into
quantiles with the distribution of their own past errors (``quantiles_from_errors``): the
forecast each of them would have made ``lead_days`` before every history day, compared with what
sold. Those errors are out of sample by construction, so the spread is honest rather than the
spread of a fit. weekday_quantile and croston_tsb give quantiles directly.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import signal, stats

SEASONAL_NAIVE = "seasonal_naive"
WEEKDAY_QUANTILE = "weekday_quantile"
MOVING_AVERAGE = "moving_average"
EXP_SMOOTHING = "exp_smoothing"
LOG_SMOOTHING = "log_smoothing"
CROSTON_TSB = "croston_tsb"

DAY = np.timedelta64(1, "D")
# The baseline analysts know: the empirical quantile of the last 8 same-weekday values.
WEEKDAY_WINDOW = 8
# Weekday shares come from the last year; older weeks describe a different business.
PROFILE_DAYS = 364
# Pseudo-observations pulling a weekday's share towards 1: a weekday seen on three days cannot
# claim to sell double.
PROFILE_PRIOR_DAYS = 4.0
MOVING_AVERAGE_DAYS = 56
SMOOTHING_ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.5)
# Teunter-Syntetos-Babai smoothing of the demand size and of the chance of a sale; 0.1 is the
# usual choice in the intermittent-demand literature and keeps one odd day from moving either.
TSB_SIZE_ALPHA = 0.1
TSB_PROBABILITY_BETA = 0.1
TSB_SIZES = 26
# Past errors used for the spread: the last year of a daily series, all of a weekly one.
MAX_ERRORS = 365
MIN_ERRORS = 8


@dataclass(frozen=True)
class History:
    """One series' observed days: dates (datetime64[D], increasing) and demand (float ≥ 0)."""

    dates: np.ndarray
    units: np.ndarray

    def __post_init__(self) -> None:
        object.__setattr__(self, "dates", np.asarray(self.dates, dtype="datetime64[D]"))
        object.__setattr__(self, "units", np.asarray(self.units, dtype=float))

    def __len__(self) -> int:
        return len(self.units)

    def upto(self, index: int) -> "History":
        """The history as it was on the day at ``index`` (inclusive)."""
        return History(self.dates[: index + 1], self.units[: index + 1])


def weekday(dates: np.ndarray) -> np.ndarray:
    """0 for Monday … 6 for Sunday (1970-01-01, day 0, was a Thursday)."""
    return (np.asarray(dates, dtype="datetime64[D]").astype(np.int64) + 3) % 7


def weekday_factors(history: History) -> np.ndarray:
    """Each weekday's sales relative to the series' average day, over the last year, shrunk to 1.

    A weekly market has one weekday, whose factor is 1. Returns 7 factors, 1 for weekdays the
    history never saw.
    """
    factors = np.ones(7)
    if not len(history):
        return factors
    recent = history.dates > history.dates[-1] - PROFILE_DAYS * DAY
    units, days = history.units[recent], weekday(history.dates[recent])
    overall = units.mean()
    if overall <= 0:
        return factors
    for day in np.unique(days):
        on_day = units[days == day]
        share = on_day.mean() / overall
        factors[day] = (len(on_day) * share + PROFILE_PRIOR_DAYS) / (
            len(on_day) + PROFILE_PRIOR_DAYS
        )
    return factors


def weekday_quantile(history: History, targets: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Empirical quantiles of the last WEEKDAY_WINDOW values on each target's weekday.

    A weekday the history never saw uses the last WEEKDAY_WINDOW days of any weekday; an empty
    history forecasts 0.
    """
    result = np.zeros((len(targets), len(levels)))
    if not len(history):
        return result
    days = weekday(history.dates)
    for row, day in enumerate(weekday(targets)):
        same = history.units[days == day][-WEEKDAY_WINDOW:]
        recent = same if len(same) else history.units[-WEEKDAY_WINDOW:]
        result[row] = np.quantile(recent, levels)
    return result


def seasonal_naive_point(history: History, targets: np.ndarray) -> np.ndarray:
    """The last value on each target's weekday (the last value of any day when none)."""
    days = weekday(history.dates)
    result = np.empty(len(targets))
    for row, day in enumerate(weekday(targets)):
        same = history.units[days == day]
        result[row] = same[-1] if len(same) else history.units[-1]
    return result


# A point rung: the forecast made with the first ``origin + 1`` days of the history for a day
# on weekday ``day``, for arrays of origins and weekdays. Built once per history.
Predictor = Callable[[np.ndarray, np.ndarray], np.ndarray]


def seasonal_naive(history: History) -> Predictor:
    days = weekday(history.dates)
    # last[t, d]: the value of the last day on weekday d up to day t (NaN before the first one)
    last = np.full((len(history), 7), np.nan)
    for day in range(7):
        seen = np.where(days == day, history.units, np.nan)
        index = np.where(days == day, np.arange(len(history)), -1)
        index = np.maximum.accumulate(index)
        last[:, day] = np.where(index >= 0, seen[np.maximum(index, 0)], np.nan)

    def predict(origins: np.ndarray, target_days: np.ndarray) -> np.ndarray:
        values = last[origins, target_days]
        return np.where(np.isnan(values), history.units[origins], values)

    return predict


def moving_average(history: History) -> Predictor:
    """Mean of the weekday-adjusted days in the last MOVING_AVERAGE_DAYS, times the weekday's factor."""
    factors = weekday_factors(history)
    adjusted = history.units / factors[weekday(history.dates)]
    starts = np.searchsorted(history.dates, history.dates - (MOVING_AVERAGE_DAYS - 1) * DAY)
    totals = np.concatenate([[0.0], np.cumsum(adjusted)])
    ends = np.arange(1, len(history) + 1)
    levels = (totals[ends] - totals[starts]) / (ends - starts)
    return lambda origins, target_days: levels[origins] * factors[target_days]


def exp_smoothing(history: History) -> Predictor:
    """Simple exponential smoothing of the weekday-adjusted series, times the weekday's factor."""
    factors = weekday_factors(history)
    levels = _smoothed(history.units / factors[weekday(history.dates)])
    return lambda origins, target_days: levels[origins] * factors[target_days]


def log_smoothing(history: History) -> Predictor:
    """Exponential smoothing of log(1 + units), weekday-adjusted: a geometric level.

    The same recursion as exp_smoothing on the log scale, where one bulk order moves the level
    by its ratio to a normal day rather than by its size; robust where sales come in bursts.
    """
    logs = np.log1p(history.units)
    days = weekday(history.dates)
    offsets = np.zeros(7)
    if len(history):
        recent = history.dates > history.dates[-1] - PROFILE_DAYS * DAY
        overall = logs[recent].mean()
        for day in np.unique(days[recent]):
            on_day = logs[recent][days[recent] == day]
            offsets[day] = (
                len(on_day) * (on_day.mean() - overall) / (len(on_day) + PROFILE_PRIOR_DAYS)
            )
    levels = _smoothed(logs - offsets[days])
    return lambda origins, target_days: np.expm1(levels[origins] + offsets[target_days])


def _smoothed(values: np.ndarray) -> np.ndarray:
    """Simple exponential smoothing with the SMOOTHING_ALPHAS weight of least one-step error.

    The error is absolute, so one bulk order does not choose the weight.
    """
    start = values[: min(len(values), 4)].mean() if len(values) else 0.0
    best, best_error = values, np.inf
    for alpha in SMOOTHING_ALPHAS:
        levels, _ = signal.lfilter([alpha], [1.0, alpha - 1.0], values, zi=[(1 - alpha) * start])
        error = np.abs(values[1:] - levels[:-1]).mean() if len(values) > 1 else 0.0
        if error < best_error:
            best, best_error = levels, error
    return best


POINT_RUNGS: dict[str, Callable[[History], Predictor]] = {
    SEASONAL_NAIVE: seasonal_naive,
    MOVING_AVERAGE: moving_average,
    EXP_SMOOTHING: exp_smoothing,
    LOG_SMOOTHING: log_smoothing,
}


def point_quantiles(
    rung: str,
    history: History,
    targets: np.ndarray,
    levels: np.ndarray,
    lead_days: int,
    count_aware: bool,
) -> tuple[np.ndarray, np.ndarray]:
    """Quantiles of a point rung; returns (quantiles (targets × levels), point forecasts)."""
    predict = POINT_RUNGS[rung](history)
    last = np.full(len(targets), len(history) - 1)
    point = predict(last, weekday(targets))
    # The forecast each history day would have had lead_days before it.
    origins = np.searchsorted(history.dates, history.dates - lead_days * DAY, side="right") - 1
    usable = np.flatnonzero(origins >= 0)[-MAX_ERRORS:]
    past = predict(origins[usable], weekday(history.dates[usable]))
    return quantiles_from_errors(point, past, history.units[usable], levels, count_aware), point


def quantiles_from_errors(
    point: np.ndarray,
    past_forecasts: np.ndarray,
    past_actuals: np.ndarray,
    levels: np.ndarray,
    count_aware: bool,
) -> np.ndarray:
    """Quantiles at ``levels`` around ``point``, from how past forecasts of the model missed.

    Count-aware (for products that sell a few units a day): a negative binomial with the
    overdispersion of the past errors, so quantiles are whole units and a low mean still leaves
    room for the odd good day. Its mean is ``point`` times the rung's past ratio of sales to
    forecasts: a negative binomial needs the mean, and not every rung forecasts one (a geometric
    level such as log_smoothing's sits below the mean of intermittent sales), while the
    empirical rule below corrects such a bias by itself. Otherwise the empirical quantiles of
    the errors on the log1p scale, where a miss is relative to the level; with fewer than
    MIN_ERRORS past errors the count-aware rule is used uncorrected, as it needs no history.
    """
    point = np.clip(np.asarray(point, dtype=float), 0, None)
    past_forecasts = np.clip(np.asarray(past_forecasts, dtype=float), 0, None)
    past_actuals = np.asarray(past_actuals, dtype=float)
    if len(past_actuals) < MIN_ERRORS:
        return count_quantiles(point, _dispersion(past_forecasts, past_actuals), levels)
    if not count_aware:
        errors = np.log1p(past_actuals) - np.log1p(past_forecasts)
        offsets = np.quantile(errors, levels)
        return np.clip(np.expm1(np.log1p(point)[:, None] + offsets[None, :]), 0, None)
    forecast_total = past_forecasts.sum()
    bias = past_actuals.sum() / forecast_total if forecast_total > 0 else 1.0
    dispersion = _dispersion(past_forecasts * bias, past_actuals)
    return count_quantiles(point * bias, dispersion, levels)


def count_quantiles(mean: np.ndarray, size: float | None, levels: np.ndarray) -> np.ndarray:
    """Quantiles of a negative binomial with this mean and size (Poisson when size is None)."""
    mean = np.clip(np.asarray(mean, dtype=float), 1e-9, None)[:, None]
    if size is None:
        return stats.poisson.ppf(levels[None, :], mean)
    return stats.nbinom.ppf(levels[None, :], size, size / (size + mean))


def _dispersion(forecasts: np.ndarray, actuals: np.ndarray) -> float | None:
    """Negative-binomial size from the excess of the errors' variance over the mean, or None."""
    if len(actuals) < 2:
        return None
    mean = max(float(forecasts.mean()), 1e-9)
    excess = float(np.mean((actuals - forecasts) ** 2)) - mean
    # Variance at or below the mean: as regular as Poisson counts, or more.
    return mean**2 / excess if excess > 1e-9 else None


def croston_tsb(history: History, targets: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """Quantiles for a product that sells on some days only (Teunter-Syntetos-Babai).

    The chance of a sale p is smoothed day by day (it decays on days without sales, unlike
    Croston's, so a product that stopped selling fades out), scaled by the target weekday's
    share of sales; the size of a sale is the empirical distribution of the last TSB_SIZES
    sales, rescaled to the smoothed size. Demand is 0 with probability 1 − p, else a size, so
    the τ-quantile is 0 when τ ≤ 1 − p.
    """
    units = history.units
    sold = units > 0
    if not sold.any():
        return np.zeros((len(targets), len(levels)))
    probability, _ = signal.lfilter(
        [TSB_PROBABILITY_BETA],
        [1.0, TSB_PROBABILITY_BETA - 1.0],
        sold.astype(float),
        zi=[(1 - TSB_PROBABILITY_BETA) * sold[: min(len(units), 8)].mean()],
    )
    sizes = units[sold]
    smoothed, _ = signal.lfilter(
        [TSB_SIZE_ALPHA], [1.0, TSB_SIZE_ALPHA - 1.0], sizes, zi=[(1 - TSB_SIZE_ALPHA) * sizes[0]]
    )
    recent = sizes[-TSB_SIZES:]
    recent = recent * (smoothed[-1] / recent.mean())
    factors = weekday_factors(history)
    chance = np.clip(probability[-1] * factors[weekday(targets)], 0.0, 1.0)[:, None]
    within = (levels[None, :] - (1 - chance)) / np.maximum(chance, 1e-12)
    return np.where(within > 0, np.quantile(recent, np.clip(within, 0, 1)), 0.0)
