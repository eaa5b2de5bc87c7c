"""Forecast accuracy: `marketprep backtest` on the two real panels of bench/forecast_datasets.py.

`uv run python bench/bench_forecast_accuracy.py` builds bike.csv and retail.csv in a temporary
folder and runs, for each, exactly the command an analyst would:

    marketprep backtest --history bike.csv --horizon-days 7 --cutoffs 26 --service-level 0.7 --out …
    marketprep backtest --history retail.csv --horizon-days 7 --cutoffs 8 --service-level 0.7 --out …

printing its table: pinball loss at τ = 0.7 per unit sold of the chosen models next to seasonal
naive (the same weekday last week) and the weekday quantile (the 0.7-quantile of the last 8
same-weekday values), WAPE, bias, newsvendor cost and coverage.

After each table, where the loss comes from (loss_anatomy): the scored days split into peak
days, above the series' own 95th percentile of the year before the cutoff (in the retail panel,
a wholesale customer's big order), and the others, with the loss of the recommendation (whole
units, the cost column) and of both baselines on each; and a hindsight bound: the best constant
τ-quantile of each series over its scored days, chosen knowing them.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import forecast_datasets
import numpy as np
import pandas as pd

from models_ml import candidates
from models_ml.ladder import pinball

RUNS = {"bike": ("7", "26"), "retail": ("7", "8")}
TAU = 0.7
PEAK_PERCENTILE = 0.95


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        forecast_datasets.main(folder)
        failed = 0
        for name, (horizon, cutoffs) in RUNS.items():
            history, out = Path(folder) / f"{name}.csv", Path(folder) / f"{name}_forecasts.csv"
            command = [
                "marketprep",
                "backtest",
                "--history", str(history),
                "--horizon-days", horizon,
                "--cutoffs", cutoffs,
                "--service-level", str(TAU),
                "--out", str(out),
            ]  # fmt: skip
            print(f"\n--- {name}: {' '.join(command[:2] + command[4:])}", flush=True)
            started = time.perf_counter()
            returncode = subprocess.run(command).returncode
            print(f"({time.perf_counter() - started:.0f} s)")
            failed += returncode != 0
            if returncode == 0:
                print(loss_anatomy(_read(history), _read(out)))
    return 1 if failed else 0


def loss_anatomy(history: pd.DataFrame, forecasts: pd.DataFrame) -> str:
    """Pinball loss at TAU per unit sold on peak and other days, and the hindsight bound.

    ``history`` is the backtest's input, ``forecasts`` what it wrote; the recommendation is
    recommended_units, the baselines are recomputed from the history up to each cutoff.
    """
    history = history.assign(date=pd.to_datetime(history["date"]).dt.date.astype(str))
    by_series = dict(list(history.groupby("series_id")))
    rows = []
    for (series_id, cutoff), days in forecasts.groupby(["series_id", "cutoff"]):
        own = by_series[series_id]
        known = own[own["date"] <= cutoff]
        upto = candidates.History(known["date"], known["units"])
        when = days["date"].to_numpy("datetime64[D]")
        recent = upto.units[upto.dates > upto.dates[-1] - candidates.PROFILE_DAYS * candidates.DAY]
        actual = own.set_index("date")["units"].reindex(days["date"]).to_numpy(float)
        rows.append(
            pd.DataFrame(
                {
                    "series_id": series_id,
                    "actual": actual,
                    "peak": actual > np.quantile(recent, PEAK_PERCENTILE),
                    "ours": days["recommended_units"].to_numpy(float),
                    "naive": candidates.seasonal_naive_point(upto, when),
                    "weekday_q": candidates.weekday_quantile(upto, when, np.array([TAU]))[:, 0],
                }
            )
        )
    scored = pd.concat(rows, ignore_index=True)
    sold = scored["actual"].sum()
    for model in ("ours", "naive", "weekday_q"):
        scored[model] = pinball(scored["actual"], scored[model], TAU)
    lines = []
    for label, part in (
        ("peak days", scored[scored["peak"]]),
        ("other days", scored[~scored["peak"]]),
    ):
        loss = part[["ours", "naive", "weekday_q"]].sum() / sold
        lines.append(
            f"{label}: {len(part) / len(scored):.1%} of days, {part['actual'].sum() / sold:.1%} "
            f"of units; pinball per unit sold (of all units) ours {loss['ours']:.4f}, naive "
            f"{loss['naive']:.4f}, weekday-q {loss['weekday_q']:.4f} "
            f"({loss['ours'] / loss['naive'] - 1:+.1%}, {loss['ours'] / loss['weekday_q'] - 1:+.1%})"
        )
    best_constant = sum(
        pinball(part["actual"], np.quantile(part["actual"], TAU), TAU).sum()
        for _, part in scored.groupby("series_id")
    )
    naive = scored["naive"].sum()
    lines.append(
        f"hindsight bound, the best constant τ-quantile per series over its scored days: "
        f"{best_constant / sold:.4f} ({best_constant / naive - 1:+.1%} vs naive)"
    )
    return "\n".join(lines)


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype={"series_id": str})


if __name__ == "__main__":
    sys.exit(main())
