"""Choosing a series' model by a rolling-origin backtest on its own history.

The rungs (candidates.py and prophet_model.py):
- seasonal_naive, weekday_quantile, moving_average: the baselines;
- exp_smoothing, log_smoothing: exponential smoothing of the level and of its logarithm;
- croston_tsb: the Croston family, for products that sell on some days only;
- prophet: trend, seasons, weather, events, holidays; only on long, regular series, where it
  has something to learn and its fitting time is worth it;
- ensemble: a weighted mean of the quantiles of ENSEMBLE_MEMBERS, with Prophet as one more
  member where Prophet is fitted. A member's weight is inversely proportional to its backtest
  loss (ensemble_weights): a rung that misses this series twice as much as another counts half
  as much, rather than as much as in a plain mean.

Selection, in two stages, scoring candidates by their pinball loss at τ on history days:
1. From each of the SELECTION_ORIGINS most recent origins (horizon_days apart, the newest one
   horizon_days before the last history day) every cheap candidate forecasts the history days
   of the following horizon_days.
2. Prophet costs ~50 times a cheap rung, so it is fitted once, at the oldest of those origins,
   and forecasts every day after it; Prophet and the ensemble with Prophet then compete with
   the stage-1 winner on those days, forecast from the same origin. Only when one of them wins
   is Prophet fitted again on the whole history.
A single rung must beat an ensemble by SINGLE_RUNG_MARGIN to be chosen over it: with a few
dozen days to score on, small differences are noise, and a mean of several reasonable
forecasts is reliably good. The ensemble's weights come from the same days it is scored on,
which flatters it a little; the margin is wide next to that.
"""

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml import candidates, prophet_model
from models_ml.candidates import History
from models_ml.settings import ForecastSettings

PROPHET = prophet_model.MODEL_NAME
ENSEMBLE = "ensemble"
# The ensemble with Prophet among its members; reported as "ensemble".
ENSEMBLE_WITH_PROPHET = "ensemble_with_prophet"
ENSEMBLE_MEMBERS = (
    candidates.WEEKDAY_QUANTILE,
    candidates.EXP_SMOOTHING,
    candidates.LOG_SMOOTHING,
    candidates.CROSTON_TSB,
)
CHEAP_RUNGS = (
    candidates.SEASONAL_NAIVE,
    candidates.WEEKDAY_QUANTILE,
    candidates.MOVING_AVERAGE,
    candidates.EXP_SMOOTHING,
    candidates.LOG_SMOOTHING,
    candidates.CROSTON_TSB,
)
SELECTION_ORIGINS = 8
SINGLE_RUNG_MARGIN = 0.1
# Weights ∝ (least member loss / member loss) ** this. 0 would be the plain mean, where a rung
# that plainly does not suit the series pulls every quantile as far as the best one does; a
# large power would be selection again, noisy on a few dozen days. 1, inverse-loss weights, is
# the usual choice for combining forecasts.
ENSEMBLE_WEIGHT_POWER = 1.0
# An origin needs this many days before it for the rungs to have something to stand on.
MIN_TRAIN_DAYS = 8
# Prophet only where it can learn: half a year of weekly market days, and a product that sells
# on most days (on intermittent demand its Gaussian fit chases the zeros).
PROPHET_MIN_DAYS = 26
PROPHET_MAX_ZERO_SHARE = 0.3
# Below this many units on a typical day, demand is a small count and its quantiles are whole
# units of a negative binomial (candidates.quantiles_from_errors).
LOW_VOLUME_UNITS = 10.0
# Explanations compare a day with the series' typical day over the last year.
TYPICAL_DAYS = 364


@dataclass(frozen=True)
class Choice:
    """The chosen model's forecast of the future days and how the candidates backtested.

    quantiles: (future days × levels), ≥ 0. drivers: per future day, relative effects as in
    prophet_model (for other models: weekday and trend, see _generic_drivers). backtest: sums
    over the scored days of the origins the chosen model was compared on (see backtest_summary);
    empty when the history was too short to score anything.
    """

    model: str
    quantiles: np.ndarray
    drivers: list[dict[str, float]]
    backtest: dict[str, float] = field(default_factory=dict)


def choose_and_forecast(
    history: pd.DataFrame,
    future: pd.DataFrame,
    levels: np.ndarray,
    settings: ForecastSettings,
    horizon_days: int,
) -> Choice:
    """Pick a model for one series by backtest and forecast ``future`` with it.

    ``history`` (units_sold is demand: sold-out days already corrected) and ``future`` are
    feature-table rows sorted by market_date, as prophet_model.fit_predict takes them.
    ``levels`` are (low, 0.5, high, τ); candidates are scored at τ. Only the models in
    settings.models are considered.
    """
    series = History(history["market_date"].to_numpy("datetime64[D]"), history["units_sold"])
    targets = future["market_date"].to_numpy("datetime64[D]")
    ladder = _Ladder(series, levels, settings, horizon_days)
    tau = levels[-1]

    # Stage 1: the cheap candidates from every rolling origin, and the ensemble of them weighted
    # by how the members did over all those origins.
    origins = _origins(series, horizon_days)
    final = ladder.cheap(len(series) - 1, targets)
    weights = ensemble_weights([], ladder.members, tau)
    if not final:
        # Prophet alone was asked for: nothing to choose between, nor to score it against.
        chosen, evaluated = PROPHET, []
    else:
        evaluated = [
            ladder.scored(origin, days, ladder.cheap(origin, days)) for origin, days in origins
        ]
        if ladder.members:
            weights = ensemble_weights(evaluated, ladder.members, tau)
            evaluated = [_with_ensemble(origin, ENSEMBLE, weights) for origin in evaluated]
            final[ENSEMBLE] = weighted_quantiles(final, weights)
        chosen = _least_loss(evaluated, list(final), tau) if evaluated else _fallback(final)

    # Stage 2: Prophet, and the ensemble with Prophet, against the stage-1 winner, all from the
    # oldest origin over every day after it: one fit scores Prophet on as many days as stage 1.
    # The ensemble with Prophet is weighted by those days, the only ones Prophet is scored on.
    with_prophet = ensemble_weights([], [*ladder.members, PROPHET], tau)
    if final and ladder.use_prophet and origins:
        origin = origins[-1][0]
        days = np.arange(origin + 1, len(series))
        found = ladder.cheap(origin, days)
        found[PROPHET], _ = ladder.prophet(history.iloc[: origin + 1], history.iloc[days])
        holdout = ladder.scored(origin, days, found)
        if ladder.members:
            holdout = _with_ensemble(holdout, ENSEMBLE, weights)
            with_prophet = ensemble_weights([holdout], [*ladder.members, PROPHET], tau)
            holdout = _with_ensemble(holdout, ENSEMBLE_WITH_PROPHET, with_prophet)
        contenders = [
            name for name in (chosen, PROPHET, ENSEMBLE_WITH_PROPHET) if name in holdout.forecasts
        ]
        winner = _least_loss([holdout], contenders, tau)
        if winner != chosen:
            chosen, evaluated = winner, [holdout]

    prophet_drivers: list[dict[str, float]] = []
    if chosen in (PROPHET, ENSEMBLE_WITH_PROPHET):
        final[PROPHET], prophet_drivers = ladder.prophet(history, future)
        if ladder.members:
            final[ENSEMBLE_WITH_PROPHET] = weighted_quantiles(final, with_prophet)
    quantiles = final[chosen]
    median = quantiles[:, _median_index(levels)]
    if chosen == PROPHET:
        drivers = prophet_drivers
    elif chosen == ENSEMBLE_WITH_PROPHET:
        drivers = _blend_drivers(series, median, prophet_drivers, with_prophet[PROPHET])
    else:
        drivers = _generic_drivers(series, targets, median)
    summary = backtest_summary(evaluated, chosen, levels) if evaluated else {}
    model = ENSEMBLE if chosen == ENSEMBLE_WITH_PROPHET else chosen
    return Choice(model, quantiles, drivers, summary)


class _Ladder:
    """The candidates of one series, from any origin of its history."""

    def __init__(
        self, series: History, levels: np.ndarray, settings: ForecastSettings, horizon_days: int
    ) -> None:
        self.series, self.levels, self.settings = series, levels, settings
        self.lead = max(1, int(np.ceil(horizon_days / 2)))
        self.count_aware = _typical_units(series) < LOW_VOLUME_UNITS
        allowed = set(settings.models)
        # Asked for Prophet alone, the caller gets it wherever it can be fitted at all.
        self.use_prophet = PROPHET in allowed and (
            allowed == {PROPHET} or _prophet_eligible(series)
        )
        self.rungs = [name for name in CHEAP_RUNGS if name in allowed]
        self.members = (
            [name for name in ENSEMBLE_MEMBERS if name in allowed] if ENSEMBLE in allowed else []
        )

    def cheap(self, origin: int, days: np.ndarray) -> dict[str, np.ndarray]:
        """Quantiles of every cheap rung made on day ``origin`` for ``days``; not the ensemble,
        whose weights come from how the rungs did.

        ``days`` are indices into the history (a backtest) or dates (the future).
        """
        upto = self.series.upto(origin)
        when = self.series.dates[days] if np.issubdtype(days.dtype, np.integer) else days
        return {
            name: _cheap(name, upto, when, self.levels, self.lead, self.count_aware)
            for name in self.rungs
        }

    def prophet(
        self, history: pd.DataFrame, future: pd.DataFrame
    ) -> tuple[np.ndarray, list[dict[str, float]]]:
        """Prophet's quantiles: its forecast with the spread of its misses on the history.

        Those misses are in-sample, a little narrower than out-of-sample ones; Prophet's own
        intervals (Gaussian noise around a count) are worse on low volumes, and count-aware
        quantiles follow the same rule as the other rungs.
        """
        fit = prophet_model.fit_predict(history, future, self.settings)
        actual = history["units_sold"].to_numpy(float)
        recent = slice(-candidates.MAX_ERRORS, None)
        quantiles = candidates.quantiles_from_errors(
            fit.forecast, fit.fitted[recent], actual[recent], self.levels, self.count_aware
        )
        return quantiles, fit.drivers

    def scored(self, origin: int, days: np.ndarray, found: dict[str, np.ndarray]) -> "Scored":
        upto, when = self.series.upto(origin), self.series.dates[days]
        return Scored(
            self.series.units[days],
            candidates.seasonal_naive_point(upto, when),
            candidates.weekday_quantile(upto, when, self.levels)[:, -1],
            found,
        )


def pinball(actual: np.ndarray, quantile: np.ndarray, level: float) -> np.ndarray:
    """Pinball (quantile) loss of each forecast: level × shortfall or (1 − level) × excess."""
    miss = np.asarray(actual, dtype=float) - np.asarray(quantile, dtype=float)
    return np.maximum(level * miss, (level - 1) * miss)


@dataclass(frozen=True)
class Scored:
    """One backtest origin: the actual demand of its days, the two baselines' τ-quantiles (the
    seasonal-naive point forecast taken as its own τ-quantile, and the weekday_quantile rung)
    and each candidate's quantiles."""

    actual: np.ndarray
    seasonal_naive: np.ndarray
    weekday_quantile: np.ndarray
    forecasts: dict[str, np.ndarray]


def ensemble_weights(scored: list[Scored], members: list[str], tau: float) -> dict[str, float]:
    """Each member's weight in the ensemble, from its pinball loss at τ over ``scored``.

    (least loss / its loss) ** ENSEMBLE_WEIGHT_POWER, normalised to sum to 1. Equal weights when
    nothing was scored or every member was perfect; a perfect member among imperfect ones takes
    all the weight.
    """
    if not members:
        return {}
    if not scored:
        return dict.fromkeys(members, 1 / len(members))
    losses = np.array(
        [
            sum(pinball(o.actual, o.forecasts[name][:, -1], tau).sum() for o in scored)
            for name in members
        ]
    )
    losses = np.maximum(losses, np.finfo(float).tiny)
    raw = (losses.min() / losses) ** ENSEMBLE_WEIGHT_POWER
    return {name: float(weight) for name, weight in zip(members, raw / raw.sum(), strict=True)}


def weighted_quantiles(found: dict[str, np.ndarray], weights: dict[str, float]) -> np.ndarray:
    """The members' quantiles averaged level by level with ``weights`` (which sum to 1)."""
    return np.sum([weight * found[name] for name, weight in weights.items()], axis=0)


def _with_ensemble(origin: Scored, name: str, weights: dict[str, float]) -> Scored:
    forecasts = {**origin.forecasts, name: weighted_quantiles(origin.forecasts, weights)}
    return Scored(origin.actual, origin.seasonal_naive, origin.weekday_quantile, forecasts)


def backtest_summary(scored: list[Scored], chosen: str, levels: np.ndarray) -> dict[str, float]:
    """Sums over the backtest days for the chosen model and the two baselines.

    levels are (low, 0.5, high, τ). Keys: days, actual (units), pinball (chosen model at τ),
    pinball_seasonal_naive (the last same-weekday value taken as the τ-quantile),
    pinball_weekday_quantile, abs_error and error (of the median: forecast − actual), covered
    (days within [low, high]) and below_tau (days at or below the τ-quantile). Sums, so that
    series add up to a run's figures.
    """
    if not scored:
        return {}
    tau = levels[-1]
    totals = dict.fromkeys(
        [
            "days",
            "actual",
            "pinball",
            "pinball_seasonal_naive",
            "pinball_weekday_quantile",
            "abs_error",
            "error",
            "covered",
            "below_tau",
        ],
        0.0,
    )
    for origin in scored:
        actual, model = origin.actual, origin.forecasts[chosen]
        median = model[:, _median_index(levels)]
        totals["days"] += len(actual)
        totals["actual"] += actual.sum()
        totals["pinball"] += pinball(actual, model[:, -1], tau).sum()
        totals["pinball_seasonal_naive"] += pinball(actual, origin.seasonal_naive, tau).sum()
        totals["pinball_weekday_quantile"] += pinball(actual, origin.weekday_quantile, tau).sum()
        totals["abs_error"] += np.abs(median - actual).sum()
        totals["error"] += (median - actual).sum()
        totals["covered"] += ((actual >= model[:, 0]) & (actual <= model[:, 2])).sum()
        totals["below_tau"] += (actual <= model[:, -1]).sum()
    return {name: float(value) for name, value in totals.items()}


def _cheap(
    name: str,
    history: History,
    targets: np.ndarray,
    levels: np.ndarray,
    lead: int,
    count_aware: bool,
) -> np.ndarray:
    if name == candidates.WEEKDAY_QUANTILE:
        return candidates.weekday_quantile(history, targets, levels)
    if name == candidates.CROSTON_TSB:
        return candidates.croston_tsb(history, targets, levels)
    return candidates.point_quantiles(name, history, targets, levels, lead, count_aware)[0]


def _origins(series: History, horizon_days: int) -> list[tuple[int, np.ndarray]]:
    """(origin index, indices of the days it forecasts), newest first."""
    found = []
    if not len(series):
        return found
    last = series.dates[-1]
    for step in range(1, SELECTION_ORIGINS + 1):
        cutoff = last - step * horizon_days * candidates.DAY
        origin = int(np.searchsorted(series.dates, cutoff, side="right")) - 1
        if origin + 1 < MIN_TRAIN_DAYS:
            break
        days = np.flatnonzero(
            (series.dates > cutoff) & (series.dates <= cutoff + horizon_days * candidates.DAY)
        )
        if len(days):
            found.append((origin, days))
    return found


def _least_loss(scored: list["Scored"], names: list[str], tau: float) -> str:
    """The candidate with the least pinball loss at τ over ``scored``.

    A single rung needs SINGLE_RUNG_MARGIN over an ensemble to be preferred to it; ties go to
    the earlier name (the cheaper rung).
    """

    def loss(name: str) -> float:
        total = sum(
            pinball(origin.actual, origin.forecasts[name][:, -1], tau).sum() for origin in scored
        )
        return (
            total if name in (ENSEMBLE, ENSEMBLE_WITH_PROPHET) else total * (1 + SINGLE_RUNG_MARGIN)
        )

    return min(names, key=loss)


def _fallback(found: dict[str, np.ndarray]) -> str:
    """Nothing to score on: the ensemble if there is one, else the first allowed rung."""
    return ENSEMBLE if ENSEMBLE in found else next(iter(found))


def _prophet_eligible(series: History) -> bool:
    if len(series) < PROPHET_MIN_DAYS or np.unique(series.units).size < 2:
        return False
    recent = series.dates > series.dates[-1] - TYPICAL_DAYS * candidates.DAY
    return float((series.units[recent] == 0).mean()) <= PROPHET_MAX_ZERO_SHARE


def _typical_units(series: History) -> float:
    if not len(series):
        return 0.0
    recent = series.dates > series.dates[-1] - TYPICAL_DAYS * candidates.DAY
    return float(series.units[recent].mean())


def _median_index(levels: np.ndarray) -> int:
    return int(np.flatnonzero(np.isclose(levels, 0.5))[0])


def _generic_drivers(
    series: History, targets: np.ndarray, median: np.ndarray
) -> list[dict[str, float]]:
    """weekday (that weekday's share of sales) and trend (the rest: the level now against the
    typical day), multiplying up to the median's ratio to the typical day of the last year."""
    typical = _typical_units(series)
    if typical <= 0:
        return [{} for _ in targets]
    factors = candidates.weekday_factors(series)[candidates.weekday(targets)]
    ratio = np.clip(median, 0, None) / typical
    return [
        {"weekday": round(float(f - 1), 4) + 0.0, "trend": round(float(r / f - 1), 4) + 0.0}
        for f, r in zip(factors, ratio, strict=True)
    ]


def _blend_drivers(
    series: History, median: np.ndarray, prophet_drivers: list[dict[str, float]], weight: float
) -> list[dict[str, float]]:
    """Prophet's drivers at the weight it has in the ensemble, the trend taking up the rest.

    An ensemble is about the weighted geometric mean of its members, so a component that moves
    Prophet by a factor (1 + d) moves the ensemble by (1 + d) ** weight.
    """
    typical = _typical_units(series)
    blended = []
    for day, drivers in enumerate(prophet_drivers):
        scaled = {
            name: (1 + share) ** weight - 1 for name, share in drivers.items() if name != "trend"
        }
        product = np.prod([1 + share for share in scaled.values()])
        if typical <= 0 or product <= 0:
            # No typical level, or Prophet's components alone take the day to nothing.
            blended.append({})
            continue
        rest = median[day] / typical / product
        scaled["trend"] = rest - 1
        blended.append({name: round(float(share), 4) + 0.0 for name, share in scaled.items()})
    return blended
