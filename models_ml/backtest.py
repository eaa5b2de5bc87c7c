"""The analysts' backtest: forecasts from past cutoffs, scored against what then sold.

Input (one row per series and day it could sell): series_id, date, units, and optionally price,
unit_cost, temp_max, precip_mm, is_holiday, taken as known on the forecast dates (as a weather
forecast would be). The cutoffs are the K most recent origins H days apart: the last date of the
file minus H, 2H, … KH. From each cutoff every series is forecast exactly as in production
(forecast_series: censoring, priors and the ladder's own selection backtest all on the history
up to the cutoff) for its rows in (cutoff, cutoff + H].

Two baselines are scored on the same rows:
- seasonal naive: the value on the previous day of the same weekday known at the cutoff (for a
  daily series with H ≤ 7, the value 7 days earlier; for a weekly market, the previous market
  day), taken as its own τ-quantile and median;
- weekday quantile: the empirical τ-quantile (and median) of the last 8 values on the same
  weekday known at the cutoff.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from models_ml import candidates, parallel
from models_ml.forecast import forecast_series
from models_ml.ladder import pinball
from models_ml.newsvendor import service_level as critical_ratio
from models_ml.settings import ForecastSettings
from models_ml.validation import require_columns

OUTPUT_COLUMNS = [
    "series_id",
    "cutoff",
    "date",
    "units_p50",
    "recommended_units",
    "units_low",
    "units_high",
    "model",
]
REQUIRED = ["series_id", "date", "units"]
# Input covariates and the feature-table columns the models know them by.
COVARIATES = {"temp_max": "temp_max_c", "precip_mm": "precip_mm", "is_holiday": "is_holiday"}
SEASONAL_NAIVE = "seasonal_naive"
WEEKDAY_QUANTILE = "weekday_quantile"
OVERALL = "all"


@dataclass(frozen=True)
class BacktestResult:
    """rows: OUTPUT_COLUMNS plus units (what sold), service_level, the baselines' τ-quantiles
    and medians (seasonal_naive, weekday_quantile_tau, weekday_quantile_p50), the unrounded
    units_at_service_level, and the unit economics (underage, overage) the cost is counted
    with. errors: one row per series that could not be backtested (series_id, error)."""

    rows: pd.DataFrame
    errors: pd.DataFrame


def read_history(path: str) -> pd.DataFrame:
    """The input CSV, parsed; a missing column or an unparseable value is named in the error."""
    frame = pd.read_csv(path, dtype={"series_id": str})
    require_columns(frame, REQUIRED, path)
    dates = pd.to_datetime(frame["date"], errors="coerce", format="ISO8601")
    if dates.isna().any():
        bad = frame.loc[dates.isna(), "date"].iloc[0]
        raise ValueError(f"{path}: date {bad!r} is not a date like 2024-06-01")
    frame["date"] = dates.dt.normalize()
    for column in ["units", "price", "unit_cost", "temp_max", "precip_mm"]:
        if column in frame.columns:
            values = pd.to_numeric(frame[column], errors="coerce")
            unparsed = values.isna() & frame[column].notna()
            if unparsed.any():
                bad = frame.loc[unparsed, column].iloc[0]
                raise ValueError(f"{path}: {column} {bad!r} is not a number")
            frame[column] = values
    if "is_holiday" in frame.columns:
        frame["is_holiday"] = frame["is_holiday"].map(_flag)
    return frame


def cutoff_dates(history: pd.DataFrame, horizon_days: int, cutoffs: int) -> list[pd.Timestamp]:
    """The K most recent origins, H days apart, oldest first."""
    if horizon_days < 1 or cutoffs < 1:
        raise ValueError(
            f"horizon_days and cutoffs must be at least 1, got {horizon_days} and {cutoffs}"
        )
    last = pd.Timestamp(history["date"].max())
    return [last - pd.Timedelta(days=horizon_days * k) for k in range(cutoffs, 0, -1)]


def backtest(
    history: pd.DataFrame,
    horizon_days: int,
    cutoffs: int,
    service_level: float | None,
    settings: ForecastSettings,
) -> BacktestResult:
    """Backtest every series of ``history`` (see read_history) from each cutoff.

    ``service_level`` is τ for every series; None takes each series' newsvendor critical
    ratio from its median price and unit_cost (models_ml.newsvendor). One bad series (say,
    negative units) is reported in errors; the others are backtested.
    """
    require_columns(history, REQUIRED, "history")
    if service_level is None and not {"price", "unit_cost"} <= set(history.columns):
        raise ValueError(
            "no service level: pass one, or give the history price and unit_cost columns"
        )
    if service_level is not None and not 0 < service_level < 1:
        raise ValueError(f"service_level must be strictly between 0 and 1, got {service_level}")
    origins = cutoff_dates(history, horizon_days, cutoffs)
    tasks = [
        _Series(str(series_id), rows, origins, horizon_days, service_level, settings)
        for series_id, rows in history.groupby("series_id", sort=True)
    ]
    frames, errors = [], []
    for task, (rows, error) in zip(
        tasks, parallel.map_isolated(_backtest_series, tasks, settings.workers), strict=True
    ):
        if error is not None:
            errors.append((task.series_id, error))
        elif len(rows):
            frames.append(rows)
    rows = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    return BacktestResult(rows, pd.DataFrame(errors, columns=["series_id", "error"]))


def summary(rows: pd.DataFrame) -> pd.DataFrame:
    """Per chosen model and overall: the model's metrics next to both baselines' on its rows.

    pinball: mean pinball loss at τ per unit sold (scale-free across series); wape: Σ|median −
    units| / Σ units; bias: Σ(median − units) / Σ units; cost: the newsvendor cost of bringing
    the rounded τ-quantile, Σ underage × short + overage × left over, per unit sold; coverage:
    share of days within [units_low, units_high]; below_tau: share of days at or below the
    τ-quantile (calibrated when it is close to τ).
    """
    groups = [(OVERALL, rows), *((name, part) for name, part in rows.groupby("model"))]
    return pd.DataFrame([_metrics(name, part) for name, part in groups]).set_index("model")


def format_summary(table: pd.DataFrame) -> str:
    """The summary as aligned text, each figure followed by the baselines' on the same rows."""
    lines = [
        f"{'model':<18}{'days':>7}  {'pinball@τ (vs naive, vs weekday-q)':<38}"
        f"{'wape (naive / wq)':<22}{'bias':>7}  {'cost (naive / wq)':<22}{'cover':>6}{'≤τ':>6}"
    ]
    for name, row in table.iterrows():
        lines.append(
            f"{name:<18}{int(row['days']):>7}  "
            f"{row['pinball']:.4f} ({_change(row['pinball'], row['pinball_naive'])}, "
            f"{_change(row['pinball'], row['pinball_weekday'])})".ljust(38 + 27)
            + f"{row['wape']:.3f} ({row['wape_naive']:.3f} / {row['wape_weekday']:.3f})".ljust(22)
            + f"{row['bias']:>+7.3f}  "
            + f"{row['cost']:.3f} ({row['cost_naive']:.3f} / {row['cost_weekday']:.3f})".ljust(22)
            + f"{row['coverage']:>6.2f}{row['below_tau']:>6.2f}"
        )
    return "\n".join(lines)


@dataclass(frozen=True)
class _Series:
    series_id: str
    rows: pd.DataFrame
    origins: list[pd.Timestamp]
    horizon_days: int
    service_level: float | None
    settings: ForecastSettings


def _backtest_series(task: _Series) -> pd.DataFrame:
    rows = task.rows.sort_values("date", kind="stable")
    duplicated = rows["date"].duplicated()
    if duplicated.any():
        raise ValueError(
            f"series {task.series_id!r} has {int(duplicated.sum())} repeated dates, e.g. "
            f"{rows.loc[duplicated, 'date'].iloc[0].date()}; expected one row per day"
        )
    if rows["units"].isna().any() or (rows["units"] < 0).any():
        bad = rows.loc[rows["units"].isna() | (rows["units"] < 0), "date"].iloc[0]
        raise ValueError(
            f"series {task.series_id!r} has a missing or negative units value on {bad.date()}; "
            "units must be a count ≥ 0 on every row"
        )
    tau, underage, overage = _economics(task, rows)
    features = _as_features(rows)
    dates = rows["date"].to_numpy("datetime64[D]")
    results = []
    for cutoff in task.origins:
        known = features["market_date"] <= cutoff
        ahead = ~known & (features["market_date"] <= cutoff + pd.Timedelta(days=task.horizon_days))
        if not known.any() or not ahead.any():
            continue
        forecast = forecast_series(
            features[known], features[ahead], tau, task.settings, horizon_days=task.horizon_days
        )
        upto = candidates.History(dates[known.to_numpy()], rows["units"].to_numpy(float)[known])
        when = dates[ahead.to_numpy()]
        weekday = candidates.weekday_quantile(upto, when, np.array([0.5, tau]))
        quantity = forecast["units_at_service_level"].to_numpy(float)
        recommended = np.floor(quantity + 0.5)  # as recommend(): half up
        results.append(
            pd.DataFrame(
                {
                    "series_id": task.series_id,
                    "cutoff": cutoff.date(),
                    "date": pd.to_datetime(forecast["market_date"]).dt.date.to_numpy(),
                    "units_p50": forecast["units_p50"].to_numpy(float),
                    "recommended_units": recommended.astype(int),
                    "units_low": np.minimum(np.floor(forecast["units_low"]), recommended).astype(
                        int
                    ),
                    "units_high": np.maximum(np.ceil(forecast["units_high"]), recommended).astype(
                        int
                    ),
                    "model": forecast["model"].to_numpy(),
                    "units": rows["units"].to_numpy(float)[ahead.to_numpy()],
                    "service_level": tau,
                    "units_at_service_level": quantity,
                    "seasonal_naive": candidates.seasonal_naive_point(upto, when),
                    "weekday_quantile_p50": weekday[:, 0],
                    "weekday_quantile_tau": weekday[:, 1],
                    "underage": underage,
                    "overage": overage,
                }
            )
        )
    return pd.concat(results, ignore_index=True) if results else pd.DataFrame()


def _economics(task: _Series, rows: pd.DataFrame) -> tuple[float, float, float]:
    """τ and the cost of a unit short (underage) and of a unit left over (overage).

    With price and unit_cost: margin and cost (no salvage). Without: τ and 1 − τ, which makes
    the cost the pinball loss of whole units.
    """
    price = rows["price"].median() if "price" in rows.columns else np.nan
    cost = rows["unit_cost"].median() if "unit_cost" in rows.columns else np.nan
    priced = bool(np.isfinite(price) and np.isfinite(cost))
    if task.service_level is not None:
        tau = task.service_level
    elif priced:
        tau = critical_ratio(float(price), float(cost))
    else:
        raise ValueError(
            f"series {task.series_id!r} has no price and unit_cost to derive its service level"
        )
    if priced and price > cost:
        return tau, float(price - cost), float(cost)
    return tau, tau, 1 - tau


def _as_features(rows: pd.DataFrame) -> pd.DataFrame:
    """The series in the feature-table shape forecast_series takes."""
    features = pd.DataFrame(
        {
            "market_date": rows["date"].to_numpy(),
            "units_sold": rows["units"].to_numpy(float),
            "country": None,
            "precip_mm": np.nan,
            "temp_max_c": np.nan,
            "event_attendance": np.nan,
        }
    )
    for column, feature in COVARIATES.items():
        if column in rows.columns:
            features[feature] = rows[column].to_numpy()
    return features.reset_index(drop=True)


def _metrics(name: str, rows: pd.DataFrame) -> dict[str, float | str]:
    units = rows["units"].to_numpy(float)
    tau = rows["service_level"].to_numpy(float)
    sold = max(units.sum(), 1e-9)

    def loss(quantile: pd.Series) -> float:
        return float(pinball(units, quantile.to_numpy(float), tau).sum() / sold)

    def cost(quantity: pd.Series) -> float:
        brought = np.floor(quantity.to_numpy(float) + 0.5)
        short = np.clip(units - brought, 0, None) * rows["underage"].to_numpy(float)
        left = np.clip(brought - units, 0, None) * rows["overage"].to_numpy(float)
        return float((short + left).sum() / sold)

    def wape(median: pd.Series) -> float:
        return float(np.abs(median.to_numpy(float) - units).sum() / sold)

    return {
        "model": name,
        "days": len(rows),
        "pinball": loss(rows["units_at_service_level"]),
        "pinball_naive": loss(rows["seasonal_naive"]),
        "pinball_weekday": loss(rows["weekday_quantile_tau"]),
        "wape": wape(rows["units_p50"]),
        "wape_naive": wape(rows["seasonal_naive"]),
        "wape_weekday": wape(rows["weekday_quantile_p50"]),
        "bias": float((rows["units_p50"].to_numpy(float) - units).sum() / sold),
        "cost": cost(rows["units_at_service_level"]),
        "cost_naive": cost(rows["seasonal_naive"]),
        "cost_weekday": cost(rows["weekday_quantile_tau"]),
        "coverage": float(((units >= rows["units_low"]) & (units <= rows["units_high"])).mean()),
        "below_tau": float((units <= rows["units_at_service_level"]).mean()),
    }


def _change(value: float, reference: float) -> str:
    return f"{value / reference - 1:+.1%}" if reference > 0 else "n/a"


def _flag(value: object) -> bool | None:
    if pd.isna(value):
        return None
    text = str(value).strip().lower()
    if text in ("1", "1.0", "true", "t", "yes", "y"):
        return True
    if text in ("0", "0.0", "false", "f", "no", "n", ""):
        return False
    raise ValueError(f"is_holiday {value!r} is not a yes/no value (use true/false or 1/0)")
