"""Forecast units sold per series and upcoming market day, as quantiles with their drivers.

A series is vendor × market × product with one row per market day (not a calendar). Each series
is forecast on its own: Prophet when it has enough history (prophet_model), otherwise the
recent_quantile baseline (baseline). forecast_all fans the series out over processes and keeps
going when one of them fails.
"""

import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml import baseline, prophet_model
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
]
FORECAST_COLUMNS = [*SERIES_KEY, *SERIES_FORECAST_COLUMNS, "service_level"]
ERROR_COLUMNS = [*SERIES_KEY, "error"]
_SERIES_INPUT_COLUMNS = ["market_date", "units_sold", "country", *FACT_COLUMNS]


def forecast_series(
    history: pd.DataFrame,
    future: pd.DataFrame,
    service_level: float,
    settings: ForecastSettings,
) -> pd.DataFrame:
    """Forecast one series: one row per market day in ``future``, in date order.

    ``history`` and ``future`` are feature-table rows of the series (is_future False / True);
    they need market_date, units_sold, country, precip_mm, temp_max_c and event_attendance.
    History rows whose units_sold is NaN are ignored; a history where every row is NaN is an
    error, an empty history is not (it gets the baseline, which forecasts 0). Every future day
    must come after the last history day.

    Columns (SERIES_FORECAST_COLUMNS): market_date; model ("prophet" or "recent_quantile");
    units_low, units_p50, units_high and units_at_service_level, the settings.low_quantile,
    0.5, settings.high_quantile and ``service_level`` quantiles of units sold, all ≥ 0;
    drivers, a JSON object of each effect as the relative change it makes to the series'
    typical level, each ≥ −1 and together multiplying up to the forecast's ratio to that level
    (e.g. {"rain": -0.15, "event": 0.2, "season": 0.05, "trend": 0.01}; "{}" for the baseline;
    see prophet_model._drivers);
    history_market_days, the number of observed market days used; and the future rows'
    precip_mm, temp_max_c and event_attendance.
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

    units = history["units_sold"]
    if len(history) < settings.min_history or units.nunique() < 2:
        # Too short to fit, or a flat line (often all zeros) with nothing for Prophet to learn.
        model = baseline.MODEL_NAME
        quantiles = baseline.recent_quantiles(
            units.to_numpy(float), levels, settings.baseline_window, len(future)
        )
        drivers: list[dict[str, float]] = [{} for _ in range(len(future))]
    else:
        model = prophet_model.MODEL_NAME
        quantiles, drivers = prophet_model.prophet_quantiles(history, future, levels, settings)

    result = pd.DataFrame({"market_date": future["market_date"].to_numpy(), "model": model})
    result[QUANTILE_COLUMNS] = np.clip(quantiles, 0, None)
    result["drivers"] = [json.dumps(day) for day in drivers]
    result["history_market_days"] = len(history)
    result[FACT_COLUMNS] = future[FACT_COLUMNS].to_numpy(float)
    return result[SERIES_FORECAST_COLUMNS]


@dataclass(frozen=True)
class ForecastRun:
    """What forecast_all produced.

    forecasts: one row per vendor × market × product × upcoming market day (FORECAST_COLUMNS:
        the series key, forecast_series' columns and the service_level used).
    errors: one row per series that could not be forecast (ERROR_COLUMNS: the series key and
        error, "<ExceptionType>: <message>"). Its other series are unaffected.
    """

    forecasts: pd.DataFrame
    errors: pd.DataFrame


def forecast_all(
    features: pd.DataFrame, service_levels: pd.DataFrame, settings: ForecastSettings
) -> ForecastRun:
    """Forecast every series of ``features`` that has upcoming market days.

    ``features`` is the feature table (one row per vendor × market × product × market day, with
    is_future marking the days to forecast). ``service_levels`` has one row per vendor_id ×
    product_id with the service_level (newsvendor quantile) to forecast at; a series without
    one is reported in errors. Series run in settings.workers processes (1: inline); each is
    seeded on its own, so the result does not depend on the number of workers.
    """
    require_columns(features, [*SERIES_KEY, "is_future", *_SERIES_INPUT_COLUMNS], "features")
    require_columns(service_levels, ["vendor_id", "product_id", "service_level"], "service_levels")
    levels = _service_level_lookup(service_levels)

    tasks, errors = [], []
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
        history = rows.loc[~upcoming, _SERIES_INPUT_COLUMNS]
        future = rows.loc[upcoming, _SERIES_INPUT_COLUMNS]
        tasks.append(_Task(key, history, future, levels[(vendor_id, product_id)], settings))

    frames = []
    for task, (result, error) in zip(tasks, _run(tasks, settings.workers), strict=True):
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
            )
        )

    forecasts = (
        pd.concat(frames, ignore_index=True)[FORECAST_COLUMNS]
        if frames
        else pd.DataFrame(columns=FORECAST_COLUMNS)
    )
    errors_frame = pd.DataFrame(sorted(errors), columns=ERROR_COLUMNS)
    return ForecastRun(forecasts=forecasts, errors=errors_frame)


@dataclass(frozen=True)
class _Task:
    key: tuple[str, str, str]
    history: pd.DataFrame
    future: pd.DataFrame
    service_level: float
    settings: ForecastSettings


def _forecast_task(task: _Task) -> tuple[pd.DataFrame | None, str | None]:
    try:
        result = forecast_series(task.history, task.future, task.service_level, task.settings)
    # Any failure is this series' problem (bad data, a diverging fit); it is reported, not raised,
    # so the other series are still forecast.
    except Exception as exc:
        return None, _describe(exc)
    return result, None


def _run(tasks: list[_Task], workers: int) -> list[tuple[pd.DataFrame | None, str | None]]:
    if workers == 1 or len(tasks) <= 1:
        return [_forecast_task(task) for task in tasks]
    # spawn, not fork: forking a threaded parent (Dagster, gRPC servers) can deadlock the child.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(workers, len(tasks)), mp_context=context) as pool:
        submitted = [pool.submit(_forecast_task, task) for task in tasks]
        outcomes = []
        for future in submitted:
            try:
                outcomes.append(future.result())
            except Exception as exc:  # the worker process died; only its series are lost
                outcomes.append((None, _describe(exc)))
    return outcomes


def _describe(exc: Exception) -> str:
    return f"{type(exc).__name__}: {exc}"


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
