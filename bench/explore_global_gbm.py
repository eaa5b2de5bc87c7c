"""Exploration (issue 6): a pooled, cross-series quantile gradient-boosting model on the panels.

Not part of the benchmark: it asks whether one model trained on every series' history (as the
M5 winners did) beats, or adds to, the per-series ladder on the panels of forecast_datasets.py.

    OMP_NUM_THREADS=1 uv run --frozen --with lightgbm python bench/explore_global_gbm.py \
        CACHE_DIR [PANEL ...]        # or: CACHE_DIR --variants PANEL VARIANT ...
    uv run --frozen python bench/explore_global_gbm.py CACHE_DIR --prepare   # first, once

LightGBM rather than scikit-learn's HistGradientBoostingRegressor(loss="quantile"): on the
retail training set of one origin (55,000 rows, 30 features) scikit-learn took 11 s for 50
iterations (40 s with sample weights: its quantile leaves are weighted percentiles in Python),
LightGBM 27 s for 300 iterations, and the pooled model is refitted at every origin. Neither is a
project dependency: `--with` puts it in a throwaway environment (the model was not integrated).

CACHE_DIR holds (written by --prepare, ~20 minutes under load) PANEL.csv (forecast_datasets'
output; retail_1000 is retail(skip=1000)) and PANEL_ladder.csv, the rows of models_ml.backtest.backtest(history, 7, K, 0.7) with more cutoffs
than are scored (16 for the retail panels, 34 for bike), so that the 8 (26) scored weeks have
8 earlier weeks of out-of-sample losses to weight or select with. The pooled model is fitted
once per cutoff on every series' rows up to that cutoff and forecasts the 7 days after it.

Scoring is the backtest's: pinball at τ per unit sold over the scored cutoffs (the newest 8,
26 for bike), against seasonal naive and the weekday quantile on the same rows.

Result (2026-11-29; pinball per unit sold, vs seasonal naive): the pooled model alone is level
with the ladder on the top sellers (retail 0.4340, -18.4 %, ladder 0.4332, -18.5 %) and worse on
bike (-40.1 % against -43.5 %); an equal or inverse-loss blend with the ladder gains about one
point (retail -19.4 %, bike -45.8 %); per-series selection between the two gains less (-19.0 %).
Their losses correlate 0.99 day by day: the peak days dominate both. No variant (unweighted,
no calendar features, coarser leaves, 500 iterations, daily training origins, pooling 200
series) went past -18.7 % alone or -19.7 % blended, short of the ~2 points that would justify a
candidate, so it was not integrated. On the slower sellers (retail_1000) it does better alone:
0.5263, -18.9 %, against the ladder's 0.5420, -16.5 %.
"""

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

TAU = 0.7
# units_low and units_high, as ForecastSettings' defaults.
RANGE = (0.1, 0.9)
HORIZON = 7
# retail_plus: retail and retail_1000 pooled in one training set, scored on retail's rows
# (its ladder file is retail's): does pooling more series help the top sellers?
SCORED = {"retail": 8, "retail_1000": 8, "bike": 26, "retail_plus": 8}
# The scale each series' target and lags are divided by: its mean over the last 8 weeks + 1.
SCALE_DAYS = 56
SAME_WEEKDAY = 13
COVARIATES = ("temp_max", "precip_mm", "is_holiday")


@dataclass(frozen=True)
class Panel:
    """Every series on one calendar: units[series, day] (NaN: no row that day)."""

    series: np.ndarray
    days: np.ndarray
    units: np.ndarray
    covariates: dict[str, np.ndarray]
    first: np.ndarray


def panel(frame: pd.DataFrame) -> Panel:
    frame = frame.assign(date=pd.to_datetime(frame["date"]).dt.normalize())
    days = pd.date_range(frame["date"].min(), frame["date"].max(), freq="D")
    series = np.array(sorted(frame["series_id"].astype(str).unique()))
    row = pd.Index(series).get_indexer(frame["series_id"].astype(str))
    col = days.get_indexer(frame["date"])

    def dense(column: str) -> np.ndarray:
        values = np.full((len(series), len(days)), np.nan)
        values[row, col] = frame[column].astype(float).to_numpy()
        return values

    units = dense("units")
    covariates = {c: dense(c) for c in COVARIATES if c in frame.columns}
    observed = ~np.isnan(units)
    first = np.where(observed.any(axis=1), observed.argmax(axis=1), len(days))
    return Panel(series, days.to_numpy("datetime64[D]"), units, covariates, first)


def _window(values: np.ndarray, end: int, length: int) -> np.ndarray:
    """Columns end − length + 1 … end (inclusive), NaN-padded before the start."""
    start = end - length + 1
    if start >= 0:
        return values[:, start : end + 1]
    pad = np.full((values.shape[0], -start), np.nan)
    return np.concatenate([pad, values[:, : end + 1]], axis=1)


def _nanquantile(values: np.ndarray, level: float) -> np.ndarray:
    """Row-wise linear-interpolation quantile ignoring NaN (np.nanquantile loops over rows)."""
    ordered = np.sort(values, axis=1)
    count = (~np.isnan(values)).sum(axis=1)
    position = np.clip((count - 1) * level, 0, None)
    below = np.floor(position).astype(int)
    above = np.minimum(below + 1, np.maximum(count - 1, 0))
    rows = np.arange(len(values))
    low, high = ordered[rows, below], ordered[rows, above]
    result = low + (high - low) * (position - below)
    return np.where(count > 0, result, np.nan)


def features(p: Panel, origin: int, horizon: int, panel_trend: bool = True) -> pd.DataFrame:
    """One row per series × day origin + 1 … origin + horizon, from what was known at origin.

    Every level feature is divided by the series' scale at origin; target is units / scale
    (NaN where the day is unknown or beyond the data).
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        recent = _window(p.units, origin, SCALE_DAYS)
        scale = np.nanmean(recent, axis=1) + 1
        observed_days = (~np.isnan(_window(p.units, origin, 364))).sum(axis=1)
        common = {
            "log_scale": np.log(scale),
            "mean_7": np.nanmean(_window(p.units, origin, 7), axis=1) / scale,
            "mean_28": np.nanmean(_window(p.units, origin, 28), axis=1) / scale,
            "mean_91": np.nanmean(_window(p.units, origin, 91), axis=1) / scale,
            "mean_364": np.nanmean(_window(p.units, origin, 364), axis=1) / scale,
            "q50_56": _nanquantile(recent, 0.5) / scale,
            "q70_56": _nanquantile(recent, 0.7) / scale,
            "q90_56": _nanquantile(recent, 0.9) / scale,
            "max_56": np.nanmax(recent, axis=1) / scale,
            "std_56": np.nanstd(recent, axis=1) / scale,
            "zero_share": np.nanmean(np.where(np.isnan(recent), np.nan, recent == 0), axis=1),
            "last": p.units[:, origin] / scale,
            "age": origin - p.first,
            "observed_days": observed_days,
        }
        if panel_trend:
            total = np.nansum(p.units, axis=0)
            common["panel_7_56"] = total[max(0, origin - 6) : origin + 1].mean() / max(
                total[max(0, origin - 55) : origin + 1].mean(), 1e-9
            )
        frames = []
        for h in range(1, horizon + 1):
            day = origin + h
            first_lag = -(-h // 7)
            lags = np.stack(
                [
                    p.units[:, day - 7 * j] if day - 7 * j >= 0 else np.full(len(p.series), np.nan)
                    for j in range(first_lag, first_lag + SAME_WEEKDAY)
                ],
                axis=1,
            )
            date = p.days[day] if day < len(p.days) else p.days[-1] + (day - len(p.days) + 1)
            stamp = pd.Timestamp(date)
            row = {
                "series": np.arange(len(p.series)),
                "origin": origin,
                "day": day,
                "h": h,
                "weekday": stamp.weekday(),
                "day_of_year": stamp.day_of_year,
                "week_of_year": stamp.isocalendar().week,
                **common,
                **{f"wd_lag_{k + 1}": lags[:, k] / scale for k in range(4)},
                "wd_mean_4": np.nanmean(lags[:, :4], axis=1) / scale,
                "wd_mean_8": np.nanmean(lags[:, :8], axis=1) / scale,
                "wd_mean_13": np.nanmean(lags, axis=1) / scale,
                "wd_q70_8": _nanquantile(lags[:, :8], 0.7) / scale,
                "wd_q50_8": _nanquantile(lags[:, :8], 0.5) / scale,
                "wd_max_8": np.nanmax(lags[:, :8], axis=1) / scale,
                "wd_zero_share_8": np.nanmean(
                    np.where(np.isnan(lags[:, :8]), np.nan, lags[:, :8] == 0), axis=1
                ),
                "last_year": (
                    np.nanmean(_window(p.units, day - 364 + 3, 7), axis=1) / scale
                    if day - 364 + 3 >= 0
                    else np.nan
                ),
                "scale": scale,
                "target": p.units[:, day] / scale if day < len(p.days) else np.nan,
            }
            for name, values in p.covariates.items():
                row[name] = values[:, day] if day < len(p.days) else np.nan
            frames.append(pd.DataFrame(row))
    return pd.concat(frames, ignore_index=True)


NOT_FEATURES = {"series", "origin", "day", "scale", "target"}


@dataclass(frozen=True)
class Options:
    weight_by_scale: bool = True
    step: int = 7
    max_iter: int = 200
    learning_rate: float = 0.05
    min_samples_leaf: int = 40
    max_leaf_nodes: int = 31
    panel_trend: bool = True
    drop: tuple[str, ...] = ()
    # Fit units_low / units_high too (three models per cutoff instead of one).
    ranges: bool = True


# Variants tried on retail (run with `--variants`); the default Options() is the first line of
# the report.
VARIANTS = {
    "unweighted": Options(weight_by_scale=False, ranges=False),
    "no_calendar": Options(drop=("day_of_year", "week_of_year", "last_year"), ranges=False),
    "coarse_leaves": Options(min_samples_leaf=200, max_leaf_nodes=15, ranges=False),
    "longer": Options(max_iter=500, learning_rate=0.03, ranges=False),
    "daily_origins": Options(step=1, min_samples_leaf=200, max_leaf_nodes=15, ranges=False),
}


def training_rows(p: Panel, cutoff: int, options: Options, cache: dict) -> pd.DataFrame:
    """Rows from origins cutoff − step·k whose target day is at or before cutoff (no leakage)."""
    frames = []
    for origin in range(cutoff - options.step, 27, -options.step):
        key = (origin, HORIZON)
        if key not in cache:
            cache[key] = features(p, origin, HORIZON, options.panel_trend)
        rows = cache[key]
        frames.append(rows[(rows["day"] <= cutoff) & rows["target"].notna()])
    rows = pd.concat(frames, ignore_index=True)
    return rows[rows["observed_days"] >= 14]


def fit_predict(
    p: Panel, cutoff: int, options: Options, cache: dict, levels: tuple[float, ...]
) -> pd.DataFrame:
    """The pooled model's τ (and RANGE) quantiles for every series' rows in (cutoff, cutoff + 7]."""
    train = training_rows(p, cutoff, options, cache)
    ahead = features(p, cutoff, HORIZON, options.panel_trend)
    ahead = ahead[ahead["target"].notna()]
    columns = [c for c in train.columns if c not in NOT_FEATURES and c not in options.drop]
    weight = train["scale"].to_numpy() if options.weight_by_scale else None
    out = {}
    for level in levels:
        import lightgbm  # only in the `--with lightgbm` environment; --prepare runs without it

        params = {
            "objective": "quantile",
            "alpha": level,
            "learning_rate": options.learning_rate,
            "num_leaves": options.max_leaf_nodes,
            "min_data_in_leaf": options.min_samples_leaf,
            "bagging_fraction": 0.8,
            "bagging_freq": 1,
            "feature_fraction": 0.8,
            "num_threads": 1,
            "seed": 0,
            "verbose": -1,
        }
        data = lightgbm.Dataset(train[columns], train["target"], weight=weight)
        model = lightgbm.train(params, data, num_boost_round=options.max_iter)
        out[level] = np.clip(model.predict(ahead[columns]), 0, None) * ahead["scale"].to_numpy()
    tau = out[TAU]
    low, high = out.get(RANGE[0], tau), out.get(RANGE[1], tau)
    return pd.DataFrame(
        {
            "series_id": p.series[ahead["series"].to_numpy()],
            "date": p.days[ahead["day"].to_numpy()].astype(str),
            "pooled_low": np.minimum(low, tau),
            "pooled_high": np.maximum(high, tau),
            "pooled_tau": tau,
        }
    )


def pinball(actual, quantile, level=TAU):
    miss = np.asarray(actual, float) - np.asarray(quantile, float)
    return np.maximum(level * miss, (level - 1) * miss)


def pooled_forecasts(
    p: Panel, cutoffs: list[str], options: Options, scored: int
) -> tuple[pd.DataFrame, float]:
    index = {str(day): i for i, day in enumerate(p.days)}
    cache: dict = {}
    frames, started = [], time.perf_counter()
    for position, cutoff in enumerate(cutoffs):
        # The range only where it is scored; the earlier cutoffs only weight the blends.
        ranged = options.ranges and position >= len(cutoffs) - scored
        levels = (TAU, *RANGE) if ranged else (TAU,)
        frames.append(fit_predict(p, index[cutoff], options, cache, levels).assign(cutoff=cutoff))
    return pd.concat(frames, ignore_index=True), time.perf_counter() - started


def score(rows: pd.DataFrame, column: str, low: str, high: str) -> str:
    units = rows["units"].to_numpy(float)
    sold = units.sum()
    ours = pinball(units, rows[column]).sum()
    naive = pinball(units, rows["seasonal_naive"]).sum()
    weekday = pinball(units, rows["weekday_quantile_tau"]).sum()
    covered = ((units >= rows[low]) & (units <= rows[high])).mean()
    below = (units <= rows[column]).mean()
    return (
        f"{column:<22}{ours / sold:.4f}  vs naive {ours / naive - 1:+.1%}  vs weekday-q "
        f"{ours / weekday - 1:+.1%}  coverage {covered:.2f}  ≤τ {below:.2f}"
    )


def blends(rows: pd.DataFrame, scored_cutoffs: list[str], history_weeks: int) -> pd.DataFrame:
    """Ladder and pooled combined, each scored cutoff using only the earlier cutoffs' losses."""
    rows = rows.copy()
    rows["loss_ladder"] = pinball(rows["units"], rows["units_at_service_level"])
    rows["loss_pooled"] = pinball(rows["units"], rows["pooled_tau"])
    cutoffs = sorted(rows["cutoff"].unique())
    out = []
    for cutoff in scored_cutoffs:
        position = cutoffs.index(cutoff)
        past = rows[rows["cutoff"].isin(cutoffs[max(0, position - history_weeks) : position])]
        now = rows[rows["cutoff"] == cutoff].copy()
        total = past[["loss_ladder", "loss_pooled"]].sum()
        global_w = (1 / total["loss_pooled"]) / (
            1 / total["loss_ladder"] + 1 / total["loss_pooled"]
        )
        per = past.groupby("series_id")[["loss_ladder", "loss_pooled"]].sum()
        per_w = (1 / per["loss_pooled"].clip(lower=1e-9)) / (
            1 / per["loss_ladder"].clip(lower=1e-9) + 1 / per["loss_pooled"].clip(lower=1e-9)
        )
        now["w_global"] = global_w
        now["w_series"] = now["series_id"].map(per_w).fillna(0.5)
        picked = per["loss_pooled"] * 1.1 < per["loss_ladder"]
        now["pick_pooled"] = now["series_id"].map(picked).fillna(False).astype(bool)
        out.append(now)
    now = pd.concat(out, ignore_index=True)
    for name, weight in (
        ("equal", 0.5),
        ("inv_global", now["w_global"]),
        ("inv_series", now["w_series"]),
        ("select", now["pick_pooled"].astype(float)),
    ):
        for part, ladder_col, pooled_col in (
            ("tau", "units_at_service_level", "pooled_tau"),
            ("low", "units_low", "pooled_low"),
            ("high", "units_high", "pooled_high"),
        ):
            now[f"{name}_{part}"] = (1 - weight) * now[ladder_col] + weight * now[pooled_col]
    return now


def run(cache_dir: Path, name: str, options: Options) -> None:
    history = pd.read_csv(cache_dir / f"{name}.csv", dtype={"series_id": str})
    ladder = pd.read_csv(cache_dir / f"{name}_ladder.csv", dtype={"series_id": str})
    p = panel(history)
    cutoffs = sorted(ladder["cutoff"].astype(str).unique())
    pooled, seconds = pooled_forecasts(p, cutoffs, options, SCORED[name])
    rows = ladder.assign(cutoff=ladder["cutoff"].astype(str), date=ladder["date"].astype(str))
    rows = rows.merge(pooled, on=["series_id", "cutoff", "date"], how="left")
    missing = rows["pooled_tau"].isna()
    if missing.any():
        print(f"  {int(missing.sum())} rows without a pooled forecast (short series): ladder used")
        for part, fallback in (
            ("tau", "units_at_service_level"),
            ("low", "units_low"),
            ("high", "units_high"),
        ):
            rows.loc[missing, f"pooled_{part}"] = rows.loc[missing, fallback]
    scored_cutoffs = cutoffs[-SCORED[name] :]
    print(
        f"{name}: {len(cutoffs)} pooled fits in {seconds:.0f} s; "
        f"scored {len(scored_cutoffs)} cutoffs, {options}"
    )
    now = blends(rows, scored_cutoffs, history_weeks=8)
    print("  " + score(now, "units_at_service_level", "units_low", "units_high"))
    print("  " + score(now, "pooled_tau", "pooled_low", "pooled_high"))
    for blend in ("equal", "inv_global", "inv_series", "select"):
        print("  " + score(now, f"{blend}_tau", f"{blend}_low", f"{blend}_high"))
    print(
        f"  weight of pooled: inverse-loss global {now['w_global'].mean():.2f}; "
        f"per series mean {now['w_series'].mean():.2f}; selected for "
        f"{now.groupby('series_id')['pick_pooled'].mean().mean():.0%} of series-weeks"
    )
    now.to_csv(cache_dir / f"{name}_pooled_scored.csv", index=False)


def prepare(folder: Path) -> None:
    """The panels and the ladder's backtest rows on them, with 8 extra weeks before the scored."""
    sys.path.insert(0, str(Path(__file__).parent))
    import forecast_datasets

    from models_ml.backtest import backtest, read_history
    from models_ml.settings import ForecastSettings

    folder.mkdir(parents=True, exist_ok=True)
    forecast_datasets.main(str(folder))
    forecast_datasets.retail(skip=1000).to_csv(folder / "retail_1000.csv", index=False)
    for name in ("retail", "bike", "retail_1000"):
        started = time.perf_counter()
        history = read_history(str(folder / f"{name}.csv"))
        result = backtest(history, HORIZON, SCORED[name] + 8, TAU, ForecastSettings(workers=2))
        result.rows.to_csv(folder / f"{name}_ladder.csv", index=False)
        print(f"{name}: ladder backtest in {time.perf_counter() - started:.0f} s")
    both = pd.concat([pd.read_csv(folder / f"{n}.csv") for n in ("retail", "retail_1000")])
    both.to_csv(folder / "retail_plus.csv", index=False)
    (folder / "retail_plus_ladder.csv").write_bytes((folder / "retail_ladder.csv").read_bytes())


if __name__ == "__main__":
    folder, names = Path(sys.argv[1]), sys.argv[2:]
    if names == ["--prepare"]:
        prepare(folder)
    elif names and names[0] == "--variants":
        # --variants PANEL NAME ...: the named VARIANTS on one panel.
        for variant in names[2:]:
            run(folder, names[1], VARIANTS[variant])
    else:
        for panel_name in names or ["retail"]:
            run(folder, panel_name, Options())
