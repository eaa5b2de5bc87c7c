"""Forecast demand per series and upcoming market day, as quantiles with their drivers.

A series is vendor × market × product with one row per market day (not a calendar). Each series
is forecast on its own by the model its own backtest picks (ladder), from its demand: units
sold, except on sold-out days, whose demand is estimated above the sales (censoring). A series
too short for a backtest borrows the typical day of the vendor's similar products (priors), or
falls back to its recent sales (baseline). forecast_all fans the series out over processes,
keeps going when one of them fails, and reuses the previous forecast of a series whose inputs
did not change.
"""

import dataclasses
import hashlib
import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml import baseline, censoring, ladder, parallel, priors
from models_ml.settings import ForecastSettings
from models_ml.validation import require_columns

SERIES_KEY = ["vendor_id", "market_id", "product_id"]
# The day's conditions as the feature table gave them (NaN when unknown), kept next to the
# forecast so the explanation can say "rain forecast (12 mm)".
FACT_COLUMNS = ["precip_mm", "temp_max_c", "event_attendance"]
QUANTILE_COLUMNS = ["units_low", "units_p50", "units_high", "units_at_service_level"]
SERIES_FORECAST_COLUMNS = [
    "market_date",
    "model",
    *QUANTILE_COLUMNS,
    "drivers",
    "history_market_days",
    *FACT_COLUMNS,
    "backtest",
]
FORECAST_COLUMNS = [*SERIES_KEY, *SERIES_FORECAST_COLUMNS, "service_level", "fingerprint"]
ERROR_COLUMNS = [*SERIES_KEY, "error"]
_SERIES_INPUT_COLUMNS = ["market_date", "units_sold", "country", *FACT_COLUMNS]
# Optional: whether the day sold out (NaN or absent: it did not, as far as we know).
CENSORED = "is_censored"
# The selection backtest spaces its origins by the forecast's reach, up to four weeks: a vendor
# back after a long pause plans for the next market days, not for a season.
MAX_SELECTION_HORIZON_DAYS = 28


def forecast_series(
    history: pd.DataFrame,
    future: pd.DataFrame,
    service_level: float,
    settings: ForecastSettings,
    prior_units: float | None = None,
    horizon_days: int | None = None,
) -> pd.DataFrame:
    """Forecast one series: one row per market day in ``future``, in date order.

    ``history`` and ``future`` are feature-table rows of the series (is_future False / True);
    they need market_date, units_sold, country, precip_mm, temp_max_c and event_attendance,
    and history may have is_censored (the day sold out) and future is_holiday. History rows
    whose units_sold is NaN are ignored; a history where every row is NaN is an error, an empty
    history is not. Every future day must come after the last history day.

    A history of at least settings.min_history days with two distinct values goes up the model
    ladder (ladder.choose_and_forecast), which picks the model by a backtest on the series'
    own history. A shorter one uses ``prior_units`` (the typical day of similar products, see
    priors) when given, else the recent_quantile baseline. ``horizon_days`` spaces the
    backtest's origins; by default, how far the last future day is from the last history day.

    Columns (SERIES_FORECAST_COLUMNS): market_date; model (a ladder rung, "category_prior" or
    "recent_quantile"); units_low, units_p50, units_high and units_at_service_level, the
    settings.low_quantile, 0.5, settings.high_quantile and ``service_level`` quantiles of
    demand, all ≥ 0; drivers, a JSON object of each effect as the relative change it makes to
    the series' typical level, each ≥ −1 and together multiplying up to the forecast's ratio to
    that level (e.g. {"rain": -0.15, "event": 0.2, "season": 0.05, "trend": 0.01}; "{}" when
    the model has none); history_market_days, the number of observed market days used; the
    future rows' precip_mm, temp_max_c and event_attendance; and backtest, a JSON object of the
    selection backtest's sums (ladder.backtest_summary; "{}" when there was none).
    """
    if not 0 < service_level < 1:
        raise ValueError(f"service_level must be strictly between 0 and 1, got {service_level}")
    require_columns(history, _SERIES_INPUT_COLUMNS, "history")
    require_columns(future, [c for c in _SERIES_INPUT_COLUMNS if c != "units_sold"], "future")
    history = _observed_days(history)
    future = _one_row_per_day(future, "future")
    if future.empty:
        return pd.DataFrame(columns=SERIES_FORECAST_COLUMNS)
    if len(history) and future["market_date"].iloc[0] <= history["market_date"].iloc[-1]:
        raise ValueError(
            f"future starts on {future['market_date'].iloc[0]}, not after the last history day "
            f"{history['market_date'].iloc[-1]}; is_future must mark only upcoming market days"
        )
    levels = np.array([settings.low_quantile, 0.5, settings.high_quantile, service_level])
    history = history.assign(units_sold=_demand(history))

    units = history["units_sold"]
    backtest: dict[str, float] = {}
    if len(history) < settings.min_history or units.nunique() < 2:
        # Too short to backtest, or a flat line (often all zeros) with nothing to learn.
        drivers: list[dict[str, float]] = [{} for _ in range(len(future))]
        if prior_units is not None and len(history) < settings.min_history:
            model = priors.MODEL_NAME
            quantiles = priors.prior_quantiles(
                units.to_numpy(float), prior_units, levels, len(future)
            )
        else:
            model = baseline.MODEL_NAME
            quantiles = baseline.recent_quantiles(
                units.to_numpy(float), levels, settings.baseline_window, len(future)
            )
    else:
        if horizon_days is None:
            reach = future["market_date"].iloc[-1] - history["market_date"].iloc[-1]
            horizon_days = min(max(pd.Timedelta(reach).days, 1), MAX_SELECTION_HORIZON_DAYS)
        choice = ladder.choose_and_forecast(history, future, levels, settings, horizon_days)
        model, quantiles, drivers, backtest = (
            choice.model,
            choice.quantiles,
            choice.drivers,
            choice.backtest,
        )

    result = pd.DataFrame({"market_date": future["market_date"].to_numpy(), "model": model})
    result[QUANTILE_COLUMNS] = np.clip(quantiles, 0, None)
    result["drivers"] = [json.dumps(day) for day in drivers]
    result["history_market_days"] = len(history)
    result[FACT_COLUMNS] = future[FACT_COLUMNS].to_numpy(float)
    result["backtest"] = json.dumps(backtest)
    return result[SERIES_FORECAST_COLUMNS]


def _demand(history: pd.DataFrame) -> np.ndarray:
    units = history["units_sold"].to_numpy(float)
    if CENSORED not in history.columns:
        return units
    censored = history[CENSORED].astype("boolean").fillna(False).to_numpy(bool)
    return censoring.corrected_demand(units, censored)


@dataclass(frozen=True)
class ForecastRun:
    """What forecast_all produced.

    forecasts: one row per vendor × market × product × upcoming market day (FORECAST_COLUMNS:
        the series key, forecast_series' columns, the service_level used and the series'
        fingerprint, a hash of everything its forecast was made from).
    errors: one row per series that could not be forecast (ERROR_COLUMNS: the series key and
        error, "<ExceptionType>: <message>"). Its other series are unaffected.
    reused: how many series kept their previous forecast because their inputs had not changed.
    """

    forecasts: pd.DataFrame
    errors: pd.DataFrame
    reused: int = 0


def forecast_all(
    features: pd.DataFrame,
    service_levels: pd.DataFrame,
    settings: ForecastSettings,
    previous: pd.DataFrame | None = None,
) -> ForecastRun:
    """Forecast every series of ``features`` that has upcoming market days.

    ``features`` is the feature table (one row per vendor × market × product × market day, with
    is_future marking the days to forecast; optional columns is_censored and category).
    ``service_levels`` has one row per vendor_id × product_id with the service_level
    (newsvendor quantile) to forecast at; a series without one is reported in errors. Series
    run in settings.workers processes (1: inline); the result does not depend on the number of
    workers.

    ``previous`` is an earlier run's forecasts (FORECAST_COLUMNS). A series whose fingerprint
    (its history and future rows, service level, prior and settings) is the one stored there,
    is not refitted: its stored rows are returned (the upcoming days are among the inputs, so
    they cover them). Anything new, a day of sales, a sold-out report, a changed weather forecast for
    an upcoming day, changes the fingerprint and refits that series alone.
    """
    require_columns(features, [*SERIES_KEY, "is_future", *_SERIES_INPUT_COLUMNS], "features")
    require_columns(service_levels, ["vendor_id", "product_id", "service_level"], "service_levels")
    levels = _service_level_lookup(service_levels)
    prior_lookup = priors.series_priors(features, settings)
    columns = [c for c in [*_SERIES_INPUT_COLUMNS, CENSORED] if c in features.columns]
    stored = _stored_by_series(previous)

    tasks, errors, frames = [], [], []
    for key, rows in features.groupby(SERIES_KEY, sort=True):
        upcoming = rows["is_future"].astype(bool)
        if not upcoming.any():
            continue
        vendor_id, _, product_id = key
        if (vendor_id, product_id) not in levels:
            errors.append(
                (*key, f"no service level for vendor {vendor_id!r} × product {product_id!r}")
            )
            continue
        task = _Task(
            key,
            rows.loc[~upcoming, columns],
            rows.loc[upcoming, columns],
            levels[(vendor_id, product_id)],
            settings,
            prior_lookup.get(key),
        )
        reusable = _reusable(stored.get(key), task)
        if reusable is not None:
            frames.append(reusable)
        else:
            tasks.append(task)
    reused = len(frames)

    for task, (result, error) in zip(
        tasks, parallel.map_isolated(_forecast_task, tasks, settings.workers), strict=True
    ):
        if error is not None:
            errors.append((*task.key, error))
            continue
        vendor_id, market_id, product_id = task.key
        frames.append(
            result.assign(
                vendor_id=vendor_id,
                market_id=market_id,
                product_id=product_id,
                service_level=task.service_level,
                fingerprint=task.fingerprint,
            )
        )

    forecasts = (
        pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]
        .sort_values([*SERIES_KEY, "market_date"], kind="stable")
        .reset_index(drop=True)
        if frames
        else pd.DataFrame(columns=FORECAST_COLUMNS)
    )
    errors_frame = pd.DataFrame(sorted(errors), columns=ERROR_COLUMNS)
    return ForecastRun(forecasts=forecasts, errors=errors_frame, reused=reused)


@dataclass(frozen=True)
class _Task:
    key: tuple[str, str, str]
    history: pd.DataFrame
    future: pd.DataFrame
    service_level: float
    settings: ForecastSettings
    prior_units: float | None

    @property
    def fingerprint(self) -> str:
        """A hash of every input of the series' forecast; equal inputs give equal forecasts."""
        digest = hashlib.sha256()
        for frame in (self.history, self.future):
            ordered = frame.sort_values("market_date", kind="stable")
            digest.update(pd.util.hash_pandas_object(ordered, index=False).to_numpy().tobytes())
            digest.update(",".join(ordered.columns).encode())
        # Not the worker count: it does not change a forecast.
        settings = dataclasses.replace(self.settings, workers=1)
        digest.update(repr((self.service_level, self.prior_units, settings)).encode())
        digest.update(FORECASTER_VERSION.encode())
        return digest.hexdigest()


# Part of every fingerprint: bump it when the models change, so stored forecasts are refitted.
FORECASTER_VERSION = "ladder-2"


def _stored_by_series(previous: pd.DataFrame | None) -> dict[tuple, pd.DataFrame]:
    if previous is None or previous.empty:
        return {}
    require_columns(previous, FORECAST_COLUMNS, "previous")
    return {key: rows for key, rows in previous.groupby(SERIES_KEY, sort=False)}


def _reusable(stored: pd.DataFrame | None, task: _Task) -> pd.DataFrame | None:
    """The stored rows of the series if they were made from the same inputs, else None.

    The upcoming days are among those inputs, so matching rows cover exactly those days.
    """
    if stored is None or (stored["fingerprint"] != task.fingerprint).any():
        return None
    return stored[FORECAST_COLUMNS]


def _forecast_task(task: _Task) -> pd.DataFrame:
    return forecast_series(
        task.history, task.future, task.service_level, task.settings, task.prior_units
    )


def _service_level_lookup(service_levels: pd.DataFrame) -> dict[tuple[str, str], float]:
    keys = ["vendor_id", "product_id"]
    duplicated = service_levels.duplicated(keys)
    if duplicated.any():
        raise ValueError(
            f"service_levels has {int(duplicated.sum())} duplicate vendor_id × product_id rows; "
            "expected one service level per vendor and product"
        )
    values = service_levels["service_level"].astype(float)
    outside = ~values.between(0, 1, inclusive="neither")
    if outside.any():
        raise ValueError(
            f"service_levels has {int(outside.sum())} service_level values outside (0, 1), "
            f"e.g. {values[outside].iloc[0]}; compute them with newsvendor.service_level"
        )
    keys = zip(service_levels["vendor_id"], service_levels["product_id"], strict=True)
    return dict(zip(keys, values, strict=True))


def _observed_days(history: pd.DataFrame) -> pd.DataFrame:
    units = history["units_sold"]
    if len(history) and units.isna().all():
        raise ValueError(
            f"units_sold is NaN on all {len(history)} history rows; past market days must carry "
            "the units sold (0 when nothing sold), check the feature table"
        )
    if (units < 0).any():
        raise ValueError(
            f"units_sold is negative on {int((units < 0).sum())} history rows; units sold must "
            "be ≥ 0, check how refunds are netted in the feature table"
        )
    return _one_row_per_day(history[units.notna()], "history")


def _one_row_per_day(rows: pd.DataFrame, name: str) -> pd.DataFrame:
    duplicated = rows["market_date"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"{name} has {int(duplicated.sum())} repeated market_date rows, e.g. "
            f"{rows.loc[duplicated, 'market_date'].iloc[0]}; expected one row per market day"
        )
    return rows.sort_values("market_date", kind="stable")
